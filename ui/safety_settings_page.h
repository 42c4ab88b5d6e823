// SPDX-License-Identifier: Apache-2.0
// SafetySettingsPage: the "Safety" tab of the settings dialog — filters on/off, the action of each
// rule category, the PII types redacted, the checks of the user's own messages, a user rules file
// (validated as it is chosen) and the model-judged filter with its threshold.
#pragma once

#include <QMap>
#include <QWidget>

#include "app_settings.h"
#include "services/safety_setup.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;

class SafetySettingsPage : public QWidget {
    Q_OBJECT

public:
    explicit SafetySettingsPage(const SafetySettings& settings, QWidget* parent = nullptr);

    // The edited settings.
    SafetySettings settings() const;
    // Why the input cannot be saved (a user rules file that does not load), or empty.
    QString problem() const { return m_rulesProblem; }
    // Writes the custom terms (when they changed) into the rules file — the one set, else
    // <config>/safety-rules.json, which then becomes the rules file — validated first. False
    // with `error` naming the file and the problem; nothing is written then.
    bool saveCustomTerms(QString* error);

signals:
    // Something changed (problem() may have changed with it).
    void changed();

private:
    void checkRulesFile();
    void updateEnabled();

    SafetySettings m_original;
    QCheckBox* m_enabled;
    QMap<QString, QComboBox*> m_categoryActions;  // category id -> its combo box
    QMap<QString, QCheckBox*> m_pii;              // PII type -> its check box
    QComboBox* m_inputMode;
    QComboBox* m_inputAction;
    QLineEdit* m_rulesFile;
    QLabel* m_rulesStatus;
    QCheckBox* m_judge;
    QDoubleSpinBox* m_threshold;
    QList<QWidget*> m_dependents;  // disabled while the filters are off
    QString m_rulesProblem;
    class QPlainTextEdit* m_customTerms = nullptr;
    QComboBox* m_customCategory = nullptr;
    QComboBox* m_customAction = nullptr;
    CustomTerms m_customOriginal;
};
