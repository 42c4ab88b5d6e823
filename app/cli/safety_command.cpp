// SPDX-License-Identifier: Apache-2.0
// `griffin safety [--rules FILE] [--direction input|output] [--stream] --in FILE.jsonl
// [--out FILE.jsonl]`: runs the safety filters over {"text": ...} lines and writes one decision
// per line: text, action, categories, rules, output (what the user would see).
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/npy.h"
#include "cli/session.h"
#include "default_model.h"
#include "griffin/safety.h"

namespace griffin::cli {
namespace {

// Feeds `text` through the streaming path in pieces of `piece` bytes (UTF-8 safe enough for a
// byte-level test of the hold-back: the filter only releases at character boundaries).
safety::Verdict streamThrough(const safety::Filter& filter, const std::string& text, size_t piece) {
    safety::StreamFilter stream(filter);
    safety::Verdict v;
    for (size_t i = 0; i < text.size(); i += piece) v.output += stream.push(text.substr(i, piece));
    std::string tail = stream.finish();
    v.output = stream.blocked() ? tail : v.output + tail;
    v.findings = stream.findings();
    v.action = stream.action();
    return v;
}

}  // namespace

int runSafety(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--rules", "--direction", "--in", "--out"};
    spec.flags = {"--stream"};
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("safety", args.error().message);
    auto in = args->get("--in");
    if (!in)
        return fail("safety", "--in FILE.jsonl is required");
    const std::string direction = args->get("--direction").value_or("output");
    if (direction != "input" && direction != "output") {
        return fail("safety", "--direction must be input or output");
    }
    const std::filesystem::path rulesPath = args->get("--rules")
                                                ? std::filesystem::path(*args->get("--rules"))
                                                : app::builtinSafetyRules();
    auto rules = safety::RuleSet::load(rulesPath);
    if (!rules)
        return fail("safety", rules.error().message);
    safety::Filter filter(
        *rules, safety::Config{},
        direction == "input" ? safety::Direction::Input : safety::Direction::Output);

    std::ifstream input(*in);
    if (!input)
        return fail("safety", *in + ": cannot open");
    std::ostringstream out;
    std::string line;
    for (int number = 1; std::getline(input, line); ++number) {
        if (line.empty())
            continue;
        std::string text;
        try {
            text = nlohmann::json::parse(line).at("text").get<std::string>();
        } catch (const std::exception& e) {
            return fail("safety", *in + ": line " + std::to_string(number) + ": " + e.what());
        }
        const safety::Verdict v =
            args->has("--stream") ? streamThrough(filter, text, 3) : filter.check(text);
        std::set<std::string> categories, ruleIds;
        for (const auto& f : v.findings) {
            categories.insert(f.category);
            ruleIds.insert(f.ruleId);
        }
        out << nlohmann::json{{"text", text},
                              {"action", safety::actionName(v.action)},
                              {"categories", categories},
                              {"rules", ruleIds},
                              {"output", v.output}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
    }
    if (auto file = args->get("--out")) {
        const std::string text = out.str();
        if (auto s = writeFileAtomically(*file, std::span<const char>(text.data(), text.size()));
            !s)
            return fail("safety", s.error().message);
    } else {
        std::cout << out.str();
    }
    return 0;
}

}  // namespace griffin::cli
