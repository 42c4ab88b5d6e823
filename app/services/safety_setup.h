// SPDX-License-Identifier: Apache-2.0
// From the safety settings to the engine's filters: the built-in rules plus the user's rules file,
// the per-category actions, PII types, the input-side mode and the model-judged filter.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <QString>
#include <QStringList>

#include "app_settings.h"
#include "griffin/safety.h"

// The filters one EngineWorker applies. A plain value; the filters are not thread-safe (use them on
// the worker thread).
struct SafetyFilters {
    std::optional<griffin::safety::Filter> output;  // every reply
    std::optional<griffin::safety::Filter> input;   // the user's message (empty = not checked)
    bool refuseInput = true;                        // a matched message is refused, else flagged
    bool judge = false;                             // ask the model about each reply
    double judgeThreshold = 0.75;
    std::string judgePolicy;  // the categories' descriptions, in words
    // Why part of the settings could not be used (e.g. a broken user rules file); the built-in
    // rules are active regardless.
    QStringList problems;
};

// The built-in rules merged with `userRulesFile` (empty = none). A user file that cannot be read,
// is invalid or clashes with the built-in rules is left out and `problem` says why, naming it.
// Fails only when the built-in rules themselves are missing or broken.
griffin::Result<griffin::safety::RuleSet> loadSafetyRules(const QString& userRulesFile,
                                                          QString* problem = nullptr);

// Why `userRulesFile` cannot be used, or empty when it can (or is empty).
QString checkUserRulesFile(const QString& userRulesFile);

// The engine configuration for one direction.
griffin::safety::Config safetyConfigFor(const SafetySettings& settings,
                                        griffin::safety::Direction direction);

SafetyFilters buildSafetyFilters(const SafetySettings& settings);

// Terms and phrases the user adds in Settings: one rule ("user.custom_terms") in a user rules
// file, so they travel with it and go through the same validation.
struct CustomTerms {
    QStringList terms;
    QString category = QStringLiteral("harassment");  // a built-in category id
    QString action = QStringLiteral("block");         // block, redact or flag

    bool operator==(const CustomTerms&) const = default;
};

inline constexpr const char* kCustomTermsRuleId = "user.custom_terms";

// The custom terms in `file` (none when the file is missing, unreadable or has no such rule).
CustomTerms readCustomTerms(const QString& file);
// Puts `terms` into `file` (created when missing; its other rules and keys are kept; no terms
// removes the rule), after checking that the result is a valid rules file that merges with the
// built-in rules. Atomic; on any error the file is untouched and the message names it.
griffin::Status writeCustomTerms(const QString& file, const CustomTerms& terms);
// <AppConfigLocation>/safety-rules.json: where custom terms go when no rules file is set.
QString defaultUserRulesFile();
