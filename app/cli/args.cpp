// SPDX-License-Identifier: Apache-2.0
#include "cli/args.h"

#include <charconv>
#include <cmath>
#include <iostream>

#include "cli/commands.h"

namespace griffin::cli {
namespace {

Error usage(const std::string& message) {
    return makeError(ErrorCode::InvalidArgument, message);
}

}  // namespace

Result<Args> Args::parse(int argc, char** argv, int first, const ArgSpec& spec) {
    Args args;
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        std::optional<std::string> inlineValue;
        if (a.rfind("--", 0) == 0) {
            if (auto eq = a.find('='); eq != std::string::npos) {
                inlineValue = a.substr(eq + 1);
                a = a.substr(0, eq);
            }
        }
        if (spec.valued.count(a) != 0) {
            if (!inlineValue && i + 1 >= argc)
                return usage("option " + a + " needs a value");
            if (args.m_values.count(a) != 0 && spec.repeatable.count(a) == 0) {
                return usage("option " + a + " given twice");
            }
            args.m_values[a].push_back(inlineValue ? *inlineValue : std::string(argv[++i]));
        } else if (spec.flags.count(a) != 0) {
            if (inlineValue)
                return usage("option " + a + " takes no value");
            args.m_flags.insert(a);
        } else if (a.rfind("-", 0) == 0 && a.size() > 1) {
            return usage("unknown option " + a);
        } else if (spec.positional) {
            args.m_positional.push_back(a);
        } else {
            return usage("unexpected argument '" + a + "'");
        }
    }
    return args;
}

bool Args::has(const std::string& name) const {
    return m_flags.count(name) != 0 || m_values.count(name) != 0;
}

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end())
        return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::getAll(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

Result<int64_t> Args::getInt(const std::string& name, int64_t fallback, int64_t lo,
                             int64_t hi) const {
    auto text = get(name);
    if (!text)
        return fallback;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size()) {
        return usage("option " + name + ": '" + *text + "' is not an integer");
    }
    if (v < lo || v > hi) {
        return usage("option " + name + ": " + *text + " is outside " + std::to_string(lo) + ".." +
                     std::to_string(hi));
    }
    return v;
}

Result<double> Args::getDouble(const std::string& name, double fallback, double lo,
                               double hi) const {
    auto text = get(name);
    if (!text)
        return fallback;
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(*text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text->size() || !std::isfinite(v)) {
        return usage("option " + name + ": '" + *text + "' is not a number");
    }
    if (v < lo || v > hi) {
        return usage("option " + name + ": " + *text + " is outside " + std::to_string(lo) + ".." +
                     std::to_string(hi));
    }
    return v;
}

int fail(const char* command, const std::string& message) {
    std::cerr << "griffin " << command << ": " << message << "\n";
    return 1;
}

Result<std::vector<int32_t>> parseTokenList(const std::string& text) {
    std::vector<int32_t> tokens;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string::npos)
            comma = text.size();
        std::string item = text.substr(pos, comma - pos);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        int32_t v = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
            return usage("--tokens: '" + item + "' (item " + std::to_string(tokens.size() + 1) +
                         ") is not a token id");
        }
        tokens.push_back(v);
        pos = comma + 1;
    }
    return tokens;
}

}  // namespace griffin::cli
