// SPDX-License-Identifier: Apache-2.0
#include "services/safety_setup.h"

#include <QCoreApplication>

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
