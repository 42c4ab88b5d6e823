// SPDX-License-Identifier: Apache-2.0
// `griffin safety [--rules FILE] [--user-rules FILE] [--settings FILE] [--direction input|output]
// [--stream] --in FILE.jsonl
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

namespace {

struct SettingsSafety {
    safety::Config config;
    std::string userRulesFile;
};

// Reads the "safety" object of the app's settings.json the way the app applies it; values the
// app would replace by defaults are errors here, naming the key.
Result<SettingsSafety> safetyConfigFromSettings(const std::string& file, bool inputDirection) {
    std::ifstream in(file);
    if (!in)
        return makeError(ErrorCode::NotFound, file + ": cannot open");
    const nlohmann::json root = nlohmann::json::parse(in, nullptr, false);
    if (root.is_discarded() || !root.is_object())
        return makeError(ErrorCode::Corrupt, file + ": not a settings file (JSON object)");
    SettingsSafety out;
    const auto it = root.find("safety");
    if (it == root.end())
        return out;  // the defaults
    const nlohmann::json& s = *it;
    auto bad = [&](const char* key) {
        return makeError(ErrorCode::InvalidArgument,
                         file + ": safety." + key + " is not what the app accepts");
    };
    if (!s.is_object())
        return bad("(object)");
    if (s.contains("enabled")) {
        if (!s.at("enabled").is_boolean())
            return bad("enabled");
        out.config.enabled = s.at("enabled").get<bool>();
    }
    if (auto a = s.find("category_actions"); a != s.end()) {
        if (!a->is_object())
            return bad("category_actions");
        for (auto c = a->begin(); c != a->end(); ++c) {
            auto action =
                c->is_string() ? safety::parseAction(c->get<std::string>()) : std::nullopt;
            if (!action)
                return bad("category_actions");
            out.config.categoryActions[c.key()] = *action;
        }
    }
    if (auto p = s.find("pii"); p != s.end()) {
        if (!p->is_object())
            return bad("pii");
        std::vector<safety::PiiType> kept;
        for (safety::PiiType type :
             {safety::PiiType::Email, safety::PiiType::Phone, safety::PiiType::PaymentCard,
              safety::PiiType::Iban, safety::PiiType::IpAddress}) {
            const auto v = p->find(safety::piiTypeName(type));
            if (v == p->end() || (v->is_boolean() && v->get<bool>()))
                kept.push_back(type);
        }
        out.config.pii = kept;
    }
    const std::string mode = s.value("input_mode", std::string("severe"));
    if (mode != "off" && mode != "severe" && mode != "all")
        return bad("input_mode");
    if (inputDirection) {
        out.config.enabled = out.config.enabled && mode != "off";
        out.config.inputMinSeverity = mode == "all" ? 1 : 3;
    }
    if (auto u = s.find("user_rules_file"); u != s.end() && u->is_string())
        out.userRulesFile = u->get<std::string>();
    return out;
}

}  // namespace

int runSafety(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--rules", "--user-rules", "--settings", "--direction", "--in", "--out"};
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
    // The app's configuration: its settings file's "safety" object (actions per category, PII
    // types, the input mode and the user's rules file), so the decisions are the app's.
    safety::Config config;
    std::optional<std::string> userRules = args->get("--user-rules");
    if (auto settingsFile = args->get("--settings")) {
        auto settings = safetyConfigFromSettings(*settingsFile, direction == "input");
        if (!settings)
            return fail("safety", settings.error().message);
        config = settings->config;
        if (!userRules && !settings->userRulesFile.empty())
            userRules = settings->userRulesFile;
    }
    if (userRules) {
        auto user = safety::RuleSet::load(*userRules);
        if (!user)
            return fail("safety", user.error().message);
        if (auto merged = rules->merge(*user); !merged)
            return fail("safety", *userRules + ": " + merged.error().message);
    }
    safety::Filter filter(
        *rules, config,
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
