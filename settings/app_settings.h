// SPDX-License-Identifier: Apache-2.0
// AppSettings: the application-wide defaults, stored as JSON under the platform's config folder.
// Unknown keys are kept; wrong-typed or out-of-range values fall back to defaults with a warning.
#pragma once

#include <string>

#include <QString>
#include <QStringList>

#include "generation_params.h"
#include "griffin/result.h"

struct AppSettings {
    static constexpr int kSchema = 1;
    static constexpr int kMaxRecentModels = 8;

    QString modelPath;         // empty = the embedded demo model
    QString backend = "auto";  // auto | cpu | vulkan (best device) | vulkan:N
    GenerationParams sampling;
    QString systemPrompt;
    QString theme = "system";        // system | light | dark
    int fontPointSize = 0;           // 0 = the system font size
    QStringList recentModels;        // most recent first
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
