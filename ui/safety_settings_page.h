// SPDX-License-Identifier: Apache-2.0
// SafetySettingsPage: the "Safety" tab of the settings dialog — filters on/off, the action of each
// rule category, the PII types redacted, the checks of the user's own messages, a user rules file
// (validated as it is chosen) and the model-judged filter with its threshold.
#pragma once

#include <QMap>
#include <QWidget>

#include "app_settings.h"

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
};
