// SPDX-License-Identifier: Apache-2.0
// AppSettings: the application-wide defaults, stored as JSON under the platform's config folder.
// Unknown keys are kept; wrong-typed or out-of-range values fall back to defaults with a warning.
#pragma once

#include <string>

#include <QMap>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include "generation_params.h"
#include "griffin/result.h"

// The safety filters' settings (issue #8). Names are those of the rules file and the engine
// (griffin/safety.h); the service layer turns them into a griffin::safety::Config.
struct SafetySettings {
    static inline const QStringList kActions = {"block", "redact", "flag", "allow"};
    static inline const QStringList kPiiTypes = {"email", "phone", "payment_card", "iban",
                                                 "ip_address"};
    static inline const QStringList kInputModes = {"off", "severe", "all"};
    static inline const QStringList kInputActions = {"flag", "refuse"};

    bool enabled = true;
    // Category id -> one of kActions; a category not listed keeps its rules' own actions.
    QMap<QString, QString> categoryActions;
    QStringList piiTypes = kPiiTypes;  // the PII types redacted (in kPiiTypes order)
    // Checks of the user's messages: off, the most severe rules only, or every rule.
    QString inputMode = "severe";
    QString inputAction = "refuse";  // what a match does to the message: flag or refuse
    // A rules file in the schema of resources/safety/rules.json, added to the built-in rules;
    // empty = none.
    QString userRulesFile;
    bool judgeEnabled = false;     // the model-judged filter (one forward pass per reply)
    double judgeThreshold = 0.75;  // flag a reply when P("Yes") >= this, in (0, 1)

    bool operator==(const SafetySettings&) const = default;
};

struct AppSettings {
    static constexpr int kSchema = 1;
    static constexpr int kMaxRecentModels = 8;

    QString modelPath;         // empty = the embedded demo model
    QString backend = "auto";  // auto | cpu | vulkan (best device) | vulkan:N
    // The matrices' type in memory: "stored" (as in the file), or bf16 | f16 | q8_0 | q4_0,
    // converted while loading a model stored wider (a narrower file keeps its own type).
    QString weights = "stored";
    int cpuThreads = 0;  // CPU backend threads; 0 = one per core
    GenerationParams sampling;
    QString systemPrompt;
    QString theme = "system";        // system | light | dark
    int fontPointSize = 0;           // 0 = the system font size
    QStringList recentModels;        // most recent first
    SafetySettings safety;           // the "safety" object
    int labSnapshotMiB = 256;        // prompt lab: memory for state snapshots along runs
    std::string unknownJson = "{}";  // keys this version does not know, written back unchanged

    // Moves `path` to the front of recentModels (deduplicated, bounded).
    void addRecentModel(const QString& path);
    bool operator==(const AppSettings&) const = default;
};

struct SettingsLoad {
    AppSettings settings;
    QStringList warnings;  // one line per replaced value or unreadable file
};

// Reads `file`; a missing file gives the defaults without warnings. Never fails: a broken file
// is reported in `warnings`, moved aside to <file>.corrupt, and the defaults are used.
SettingsLoad loadSettings(const QString& file);
griffin::Status saveSettings(const AppSettings& settings, const QString& file);
// <AppConfigLocation>/settings.json
QString defaultSettingsPath();

Q_DECLARE_METATYPE(SafetySettings)
