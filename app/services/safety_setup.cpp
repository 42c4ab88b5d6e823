// SPDX-License-Identifier: Apache-2.0
#include "services/safety_setup.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "default_model.h"

namespace {

using griffin::safety::Direction;
using griffin::safety::PiiType;

constexpr PiiType kPiiTypes[] = {PiiType::Email, PiiType::Phone, PiiType::PaymentCard,
                                 PiiType::Iban, PiiType::IpAddress};

// The user file alone, then merged into a copy of `rules`.
QString mergeUserRules(const QString& file, griffin::safety::RuleSet& rules) {
    auto user = griffin::safety::RuleSet::load(file.toStdString());
    QString why;
    if (!user) {
        why = QString::fromStdString(user.error().message);
    } else {
        griffin::safety::RuleSet merged = rules;
        if (auto s = merged.merge(*user); !s)
            why = QString::fromStdString(s.error().message);
        else
            rules = std::move(merged);
    }
    if (why.isEmpty())
        return {};
    if (why.startsWith(file + QStringLiteral(": ")))
        why.remove(0, file.size() + 2);  // the engine's message names the file already
    return QCoreApplication::translate("SafetySetup",
                                       "The safety rules file %1 is not used: %2. The built-in "
                                       "rules stay active.")
        .arg(file, why);
}

}  // namespace

griffin::Result<griffin::safety::RuleSet> loadSafetyRules(const QString& userRulesFile,
                                                          QString* problem) {
    auto rules = griffin::safety::RuleSet::load(griffin::app::builtinSafetyRules());
    if (!rules)
        return rules.error();
    if (!userRulesFile.trimmed().isEmpty()) {
        const QString why = mergeUserRules(userRulesFile.trimmed(), *rules);
        if (problem != nullptr)
            *problem = why;
    }
    return rules;
}

QString checkUserRulesFile(const QString& userRulesFile) {
    QString problem;
    auto rules = loadSafetyRules(userRulesFile, &problem);
    return rules ? problem : QString::fromStdString(rules.error().message);
}

griffin::safety::Config safetyConfigFor(const SafetySettings& s, Direction direction) {
    griffin::safety::Config config;
    config.enabled = s.enabled;
    for (auto it = s.categoryActions.begin(); it != s.categoryActions.end(); ++it) {
        if (auto action = griffin::safety::parseAction(it.value().toStdString()))
            config.categoryActions[it.key().toStdString()] = *action;
    }
    config.pii.clear();
    for (PiiType type : kPiiTypes) {
        if (s.piiTypes.contains(QLatin1String(griffin::safety::piiTypeName(type))))
            config.pii.push_back(type);
    }
    if (direction == Direction::Input) {
        config.enabled = s.enabled && s.inputMode != QLatin1String("off");
        // Any rule that acts (not "allow") marks the message; the input action decides what
        // follows (EngineWorker).
        config.inputMinSeverity = s.inputMode == QLatin1String("all") ? 1 : 3;
    }
    return config;
}

SafetyFilters buildSafetyFilters(const SafetySettings& s) {
    SafetyFilters f;
    f.refuseInput = s.inputAction != QLatin1String("flag");
    f.judge = s.enabled && s.judgeEnabled;
    f.judgeThreshold = s.judgeThreshold;
    QString problem;
    auto rules = loadSafetyRules(s.userRulesFile, &problem);
    if (!problem.isEmpty())
        f.problems << problem;
    if (!rules) {
        f.problems << QCoreApplication::translate("SafetySetup", "Safety filters are off: %1")
                          .arg(QString::fromStdString(rules.error().message));
        return f;
    }
    for (const auto& [id, description] : rules->categories()) {
        if (!f.judgePolicy.empty())
            f.judgePolicy += ", ";
        f.judgePolicy += description;
    }
    if (s.enabled) {
        f.output.emplace(*rules, safetyConfigFor(s, Direction::Output), Direction::Output);
        if (s.inputMode != QLatin1String("off"))
            f.input.emplace(*rules, safetyConfigFor(s, Direction::Input), Direction::Input);
    }
    return f;
}

namespace {

nlohmann::json readRulesJson(const QString& file, bool* exists) {
    QFile f(file);
    *exists = f.exists();
    if (!*exists || !f.open(QIODevice::ReadOnly) || f.size() > (qint64{16} << 20))
        return nlohmann::json();
    const QByteArray bytes = f.readAll();
    return nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size(), nullptr,
                                 false);
}

}  // namespace

CustomTerms readCustomTerms(const QString& file) {
    CustomTerms out;
    bool exists = false;
    const nlohmann::json j = readRulesJson(file, &exists);
    if (!j.is_object() || !j.contains("rules") || !j.at("rules").is_array())
        return out;
    for (const nlohmann::json& rule : j.at("rules")) {
        if (!rule.is_object() || rule.value("id", std::string()) != kCustomTermsRuleId)
            continue;
        out.category = QString::fromStdString(rule.value("category", std::string("harassment")));
        out.action = QString::fromStdString(rule.value("action", std::string("block")));
        if (auto it = rule.find("terms"); it != rule.end() && it->is_array()) {
            for (const nlohmann::json& t : *it) {
                if (t.is_string())
                    out.terms << QString::fromStdString(t.get<std::string>());
            }
        }
    }
    return out;
}

griffin::Status writeCustomTerms(const QString& file, const CustomTerms& terms) {
    const std::string name = file.toStdString();
    bool exists = false;
    nlohmann::json j = readRulesJson(file, &exists);
    if (exists && !j.is_object()) {
        return griffin::makeError(griffin::ErrorCode::Corrupt,
                                  name +
                                      ": not a rules file (JSON object); custom terms were "
                                      "not added");
    }
    if (!exists)
        j = {{"version", 1},
             {"categories", nlohmann::json::object()},
             {"rules", nlohmann::json::array()}};
    if (!j.contains("rules") || !j.at("rules").is_array())
        j["rules"] = nlohmann::json::array();
    nlohmann::json& rules = j["rules"];
    for (auto it = rules.begin(); it != rules.end();) {
        if (it->is_object() && it->value("id", std::string()) == kCustomTermsRuleId)
            it = rules.erase(it);
        else
            ++it;
    }
    std::vector<std::string> list;
    for (const QString& t : terms.terms) {
        const QString trimmed = t.simplified();
        if (!trimmed.isEmpty())
            list.push_back(trimmed.toStdString());
    }
    if (!list.empty()) {
        rules.push_back({{"id", kCustomTermsRuleId},
                         {"category", terms.category.toStdString()},
                         {"severity", 2},
                         {"action", terms.action.toStdString()},
                         {"terms", list}});
        // The category must be declared in the file that uses it: copy the built-in description.
        if (!j.contains("categories") || !j.at("categories").is_object())
            j["categories"] = nlohmann::json::object();
        if (!j["categories"].contains(terms.category.toStdString())) {
            auto builtin = griffin::safety::RuleSet::load(griffin::app::builtinSafetyRules());
            std::string description = terms.category.toStdString();
            if (builtin) {
                auto it = builtin->categories().find(terms.category.toStdString());
                if (it != builtin->categories().end())
                    description = it->second;
            }
            j["categories"][terms.category.toStdString()] = description;
        }
    }
    const std::string text = j.dump(2) + "\n";
    // Validate exactly what will be written, merged with the built-in rules.
    auto parsed = griffin::safety::RuleSet::parse(text, name);
    if (!parsed)
        return parsed.error();
    auto builtin = griffin::safety::RuleSet::load(griffin::app::builtinSafetyRules());
    if (builtin) {
        if (auto merged = builtin->merge(*parsed); !merged)
            return merged.error();
    }
    QDir().mkpath(QFileInfo(file).absolutePath());
    return writeFileAtomically(file, QByteArray::fromStdString(text));
}

QString defaultUserRulesFile() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) +
           QStringLiteral("/safety-rules.json");
}
