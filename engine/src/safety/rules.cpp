// SPDX-License-Identifier: Apache-2.0
// Loading and validating rules files, and compiling their terms and patterns.
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "griffin/safety.h"
#include "safety/compiled.h"
#include "safety/normalizer.h"

namespace griffin::safety {
namespace {

using nlohmann::json;

std::string escapeRegex(const std::string& text) {
    static const std::string kSpecial = R"(\^$.|?*+()[]{})";
    std::string out;
    for (char c : text) {
        if (kSpecial.find(c) != std::string::npos)
            out += '\\';
        out += c;
    }
    return out;
}

Error bad(std::string_view source, const std::string& what) {
    return makeError(ErrorCode::Corrupt, std::string(source) + ": " + what);
}

}  // namespace

std::unique_ptr<re2::RE2> compilePattern(const std::string& pattern, bool caseSensitive,
                                         std::string& error) {
    re2::RE2::Options options;
    options.set_encoding(re2::RE2::Options::EncodingLatin1);
    options.set_case_sensitive(caseSensitive);
    options.set_log_errors(false);
    auto re = std::make_unique<re2::RE2>(pattern, options);
    if (!re->ok()) {
        error = re->error();
        return nullptr;
    }
    return re;
}

const char* actionName(Action action) {
    switch (action) {
        case Action::Allow:
            return "allow";
        case Action::Flag:
            return "flag";
        case Action::Redact:
            return "redact";
        case Action::Block:
            return "block";
    }
    return "?";
}

std::optional<Action> parseAction(std::string_view name) {
    for (Action a : {Action::Allow, Action::Flag, Action::Redact, Action::Block}) {
        if (name == actionName(a))
            return a;
    }
    return std::nullopt;
}

Result<RuleSet> RuleSet::parse(std::string_view text, std::string_view sourceName) {
    RuleSet set;
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        return bad(sourceName, std::string("not valid JSON (") + e.what() + ")");
    }
    try {
        set.m_version = root.at("version").get<int>();
        for (auto it = root.at("categories").begin(); it != root.at("categories").end(); ++it) {
            set.m_categories[it.key()] = it.value().get<std::string>();
        }
        std::set<std::string> ids;
        for (const json& r : root.at("rules")) {
            Rule rule;
            rule.id = r.at("id").get<std::string>();
            if (rule.id.empty() || !ids.insert(rule.id).second) {
                return bad(sourceName, "rule id '" + rule.id + "' is empty or repeated");
            }
            rule.category = r.at("category").get<std::string>();
            if (set.m_categories.count(rule.category) == 0) {
                return bad(sourceName,
                           "rule '" + rule.id + "' has unknown category '" + rule.category + "'");
            }
            rule.severity = r.value("severity", 1);
            if (rule.severity < 1 || rule.severity > 3) {
                return bad(sourceName, "rule '" + rule.id + "': severity must be 1, 2 or 3");
            }
            const auto action = parseAction(r.at("action").get<std::string>());
            if (!action || *action == Action::Allow) {
                return bad(sourceName,
                           "rule '" + rule.id + "': action must be block, redact or flag");
            }
            rule.action = *action;
            rule.terms = r.value("terms", std::vector<std::string>{});
            rule.patterns = r.value("patterns", std::vector<std::string>{});
            rule.allow = r.value("allow", std::vector<std::string>{});
            if (rule.terms.empty() && rule.patterns.empty()) {
                return bad(sourceName, "rule '" + rule.id + "' has neither terms nor patterns");
            }
            set.m_rules.push_back(std::move(rule));
        }
    } catch (const json::exception& e) {
        return bad(sourceName, e.what());
    }
    if (auto s = set.compile(sourceName); !s)
        return s.error();
    return set;
}

Result<RuleSet> RuleSet::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::NotFound, file.string() + ": cannot open the rules file");
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().size() > (size_t{16} << 20))
        return bad(file.string(), "larger than 16 MiB");
    return parse(s.str(), file.string());
}

Status RuleSet::merge(const RuleSet& other) {
    for (const Rule& r : other.m_rules) {
        for (const Rule& mine : m_rules) {
            if (mine.id == r.id) {
                return makeError(ErrorCode::InvalidArgument,
                                 "rule id '" + r.id + "' exists already");
            }
        }
    }
    for (const auto& [id, description] : other.m_categories) m_categories.emplace(id, description);
    m_rules.insert(m_rules.end(), other.m_rules.begin(), other.m_rules.end());
    return compile("merged rules");
}

Status RuleSet::compile(std::string_view sourceName) {
    auto compiled = std::make_shared<Compiled>();
    for (const Rule& rule : m_rules) {
        CompiledRule c;
        std::string alternation;
        for (const std::string& term : rule.terms) {
            const std::string normalized = normalizeForMatching(term).text;
            if (normalized.empty())
                continue;
            alternation += (alternation.empty() ? "" : "|") + escapeRegex(normalized);
        }
        std::string error;
        if (!alternation.empty()) {
            auto re = compilePattern("\\b(?:" + alternation + ")\\b", true, error);
            if (!re)
                return bad(sourceName,
                           "rule '" + rule.id + "': its terms do not compile (" + error + ")");
            c.expressions.push_back(std::move(re));
        }
        for (const std::string& pattern : rule.patterns) {
            auto re = compilePattern(pattern, false, error);
            if (!re) {
                return bad(sourceName, "rule '" + rule.id + "' has an invalid pattern (" + error +
                                           "; patterns are RE2 syntax, without lookaround or " +
                                           "backreferences)");
            }
            c.expressions.push_back(std::move(re));
        }
        for (const std::string& allow : rule.allow) {
            const std::string normalized = normalizeForMatching(allow).text;
            if (!normalized.empty())
                c.allow.push_back(normalized);
        }
        compiled->rules.push_back(std::move(c));
    }
    m_compiled = std::move(compiled);
    return {};
}

}  // namespace griffin::safety
