// SPDX-License-Identifier: Apache-2.0
#include "app_settings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <nlohmann/json.hpp>

#include "atomic_file.h"

namespace {

using nlohmann::json;

// Reads key `k` of `obj` into `out` when it has the right type and passes `ok`; else warns.
template <class T, class Check>
void read(const json& obj, const char* k, T& out, QStringList& warnings, Check ok) {
    auto it = obj.find(k);
    if (it == obj.end())
        return;
    try {
        T v = it->get<T>();
        if (ok(v)) {
            out = v;
            return;
        }
    } catch (const json::exception&) {
    }
    warnings << QStringLiteral("settings: '%1' = %2 is invalid; using the default")
                    .arg(QString::fromUtf8(k), QString::fromStdString(it->dump()));
}

auto any = [](const auto&) { return true; };

void readString(const json& obj, const char* k, QString& out, QStringList& warnings,
                std::initializer_list<const char*> allowed = {}) {
    std::string v = out.toStdString();
    read(obj, k, v, warnings, [&](const std::string& s) {
        if (allowed.size() == 0)
            return true;
        for (const char* a : allowed) {
            if (s == a)
                return true;
        }
        return false;
    });
    out = QString::fromStdString(v);
}

bool isCategoryId(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

// The "safety" object; like the rest, a bad value is reported and replaced by its default.
void readSafety(const json& obj, SafetySettings& s, QStringList& w) {
    read(obj, "enabled", s.enabled, w, any);
    if (auto it = obj.find("category_actions"); it != obj.end()) {
        if (!it->is_object()) {
            w << QStringLiteral("settings: 'category_actions' = %1 is invalid; using the default")
                     .arg(QString::fromStdString(it->dump()));
        } else {
            for (auto c = it->begin(); c != it->end(); ++c) {
                const bool ok = isCategoryId(c.key()) && c->is_string() &&
                                SafetySettings::kActions.contains(
                                    QString::fromStdString(c->get<std::string>()));
                if (!ok) {
                    w << QStringLiteral(
                             "settings: safety action '%1' = %2 is invalid; the category keeps "
                             "its rules' own actions")
                             .arg(QString::fromStdString(c.key()),
                                  QString::fromStdString(c->dump()));
                    continue;
                }
                s.categoryActions[QString::fromStdString(c.key())] =
                    QString::fromStdString(c->get<std::string>());
            }
        }
    }
    if (auto it = obj.find("pii"); it != obj.end()) {
        if (!it->is_object()) {
            w << QStringLiteral("settings: 'pii' = %1 is invalid; using the default")
                     .arg(QString::fromStdString(it->dump()));
        } else {
            QStringList on;
            for (const QString& type : SafetySettings::kPiiTypes) {
                bool enabled = true;
                read(*it, type.toStdString().c_str(), enabled, w, any);
                if (enabled)
                    on << type;
            }
            for (auto p = it->begin(); p != it->end(); ++p) {
                if (!SafetySettings::kPiiTypes.contains(QString::fromStdString(p.key()))) {
                    w << QStringLiteral("settings: unknown PII type '%1' is ignored")
                             .arg(QString::fromStdString(p.key()));
                }
            }
            s.piiTypes = on;
        }
    }
    auto oneOf = [](const QStringList& allowed) {
        return [&allowed](const std::string& v) {
            return allowed.contains(QString::fromStdString(v));
        };
    };
    std::string mode = s.inputMode.toStdString(), action = s.inputAction.toStdString();
    read(obj, "input_mode", mode, w, oneOf(SafetySettings::kInputModes));
    read(obj, "input_action", action, w, oneOf(SafetySettings::kInputActions));
    s.inputMode = QString::fromStdString(mode);
    s.inputAction = QString::fromStdString(action);
    readString(obj, "user_rules_file", s.userRulesFile, w);
    read(obj, "judge_enabled", s.judgeEnabled, w, any);
    read(obj, "judge_threshold", s.judgeThreshold, w, [](double v) { return v > 0 && v < 1; });
}

json safetyToJson(const SafetySettings& s) {
    json actions = json::object();
    for (auto it = s.categoryActions.begin(); it != s.categoryActions.end(); ++it)
        actions[it.key().toStdString()] = it.value().toStdString();
    json pii = json::object();
    for (const QString& type : SafetySettings::kPiiTypes)
        pii[type.toStdString()] = s.piiTypes.contains(type);
    return {{"enabled", s.enabled},
            {"category_actions", actions},
            {"pii", pii},
            {"input_mode", s.inputMode.toStdString()},
            {"input_action", s.inputAction.toStdString()},
            {"user_rules_file", s.userRulesFile.toStdString()},
            {"judge_enabled", s.judgeEnabled},
            {"judge_threshold", s.judgeThreshold}};
}

}  // namespace

void AppSettings::addRecentModel(const QString& path) {
    recentModels.removeAll(path);
    recentModels.prepend(path);
    while (recentModels.size() > kMaxRecentModels) recentModels.removeLast();
}

QString defaultSettingsPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) +
           QStringLiteral("/settings.json");
}

SettingsLoad loadSettings(const QString& file) {
    SettingsLoad result;
    QFile f(file);
    if (!f.exists())
        return result;
    json root;
    QString problem;
    if (!f.open(QIODevice::ReadOnly)) {
        problem = f.errorString();
    } else if (f.size() > (1 << 20)) {
        problem = QStringLiteral("larger than 1 MiB");
    } else {
        try {
            root = json::parse(f.readAll().toStdString());
            if (!root.is_object())
                problem = QStringLiteral("not a JSON object");
        } catch (const json::parse_error& e) {
            problem = QString::fromUtf8(e.what());
        }
    }
    f.close();
    if (!problem.isEmpty()) {
        const QString aside = file + QStringLiteral(".corrupt");
        QFile::remove(aside);
        QFile::rename(file, aside);
        result.warnings << QStringLiteral(
                               "settings: %1 could not be read (%2); it was moved to %3 "
                               "and the defaults are used")
                               .arg(file, problem, aside);
        return result;
    }
    AppSettings& s = result.settings;
    QStringList& w = result.warnings;
    int schema = AppSettings::kSchema;
    read(root, "schema", schema, w, [](int v) { return v >= 1; });
    if (schema > AppSettings::kSchema) {
        w << QStringLiteral("settings: written by a newer version (schema %1); known keys are read")
                 .arg(schema);
    }
    readString(root, "model_path", s.modelPath, w);
    {
        std::string backend = s.backend.toStdString();
        read(root, "backend", backend, w, [](const std::string& b) {
            if (b == "auto" || b == "cpu" || b == "vulkan")
                return true;
            if (b.rfind("vulkan:", 0) != 0 || b.size() == 7 || b.size() > 11)
                return false;
            return b.find_first_not_of("0123456789", 7) == std::string::npos;
        });
        s.backend = QString::fromStdString(backend);
    }
    readString(root, "weights", s.weights, w, {"stored", "bf16", "f16", "q8_0", "q4_0"});
    read(root, "cpu_threads", s.cpuThreads, w, [](int v) { return v >= 0 && v <= 1024; });
    readString(root, "system_prompt", s.systemPrompt, w);
    readString(root, "theme", s.theme, w, {"system", "light", "dark"});
    read(root, "font_point_size", s.fontPointSize, w,
         [](int v) { return v == 0 || (v >= 6 && v <= 48); });
    read(root, "lab_snapshot_mib", s.labSnapshotMiB, w,
         [](int v) { return v >= 8 && v <= 1 << 20; });
    if (auto it = root.find("sampling"); it != root.end() && it->is_object()) {
        GenerationParams& p = s.sampling;
        read(*it, "temperature", p.temperature, w, [](double v) { return v >= 0 && v <= 5; });
        read(*it, "top_k", p.topK, w, [](int v) { return v >= 0 && v <= 100000; });
        read(*it, "top_p", p.topP, w, [](double v) { return v > 0 && v <= 1; });
        read(*it, "min_p", p.minP, w, [](double v) { return v >= 0 && v < 1; });
        read(*it, "repeat_penalty", p.repeatPenalty, w,
             [](double v) { return v >= 0.5 && v <= 5; });
        read(*it, "max_tokens", p.maxTokens, w, [](int v) { return v >= 1 && v <= 1000000; });
        read(*it, "seed", p.seed, w, [](qint64 v) { return v >= 0; });
    }
    if (auto it = root.find("safety"); it != root.end()) {
        if (it->is_object()) {
            readSafety(*it, s.safety, w);
        } else {
            w << QStringLiteral("settings: 'safety' = %1 is invalid; using the defaults")
                     .arg(QString::fromStdString(it->dump()));
        }
    }
    std::vector<std::string> recent;
    read(root, "recent_models", recent, w, any);
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
        s.addRecentModel(QString::fromStdString(*it));
    }
    json unknown = json::object();
    static const char* kKnown[] = {
        "schema", "model_path",      "backend",  "weights", "cpu_threads",   "system_prompt",
        "theme",  "font_point_size", "sampling", "safety",  "recent_models", "lab_snapshot_mib"};
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (std::find(std::begin(kKnown), std::end(kKnown), it.key()) == std::end(kKnown)) {
            unknown[it.key()] = it.value();
        }
    }
    s.unknownJson = unknown.dump();
    return result;
}

griffin::Status saveSettings(const AppSettings& s, const QString& file) {
    json root = json::parse(s.unknownJson, nullptr, false);
    if (!root.is_object())
        root = json::object();
    std::vector<std::string> recent;
    for (const QString& r : s.recentModels) recent.push_back(r.toStdString());
    const GenerationParams& p = s.sampling;
    root["schema"] = AppSettings::kSchema;
    root["model_path"] = s.modelPath.toStdString();
    root["backend"] = s.backend.toStdString();
    root["weights"] = s.weights.toStdString();
    root["cpu_threads"] = s.cpuThreads;
    root["system_prompt"] = s.systemPrompt.toStdString();
    root["theme"] = s.theme.toStdString();
    root["font_point_size"] = s.fontPointSize;
    root["sampling"] = {{"temperature", p.temperature},
                        {"top_k", p.topK},
                        {"top_p", p.topP},
                        {"min_p", p.minP},
                        {"repeat_penalty", p.repeatPenalty},
                        {"max_tokens", p.maxTokens},
                        {"seed", p.seed}};
    root["safety"] = safetyToJson(s.safety);
    root["lab_snapshot_mib"] = s.labSnapshotMiB;
    root["recent_models"] = recent;
    QDir().mkpath(QFileInfo(file).absolutePath());
    return writeFileAtomically(
        file,
        QByteArray::fromStdString(root.dump(2, ' ', false, json::error_handler_t::replace) + "\n"));
}
