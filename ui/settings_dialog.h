// SPDX-License-Identifier: Apache-2.0
// SettingsDialog: the application-wide defaults (model, backend, weights, threads, sampling,
// appearance) on a General tab, and the safety filters on a Safety tab.
#pragma once

#include <QDialog>

#include "app_settings.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QDialogButtonBox;
class ParametersPanel;
class SafetySettingsPage;

class SettingsDialog : public QDialog {
    Q_OBJECT

public:
    // `deviceLabels`/`deviceValues`: the Vulkan devices found (EngineWorker::devicesFound).
    explicit SettingsDialog(const AppSettings& settings, const QStringList& deviceLabels = {},
                            const QStringList& deviceValues = {}, QWidget* parent = nullptr);
    // The edited settings (valid once accepted).
    AppSettings settings() const;
    // Why the current input cannot be saved, or empty.
    QString problem() const;

private:
    void validate();

    AppSettings m_original;
    QLineEdit* m_modelPath;
    QComboBox* m_backend;
    QComboBox* m_weights;
    QSpinBox* m_threads;
    ParametersPanel* m_defaults;
    QComboBox* m_theme;
    QSpinBox* m_fontSize;
    QSpinBox* m_labMemory;
    SafetySettingsPage* m_safety;
    QLabel* m_problem;
    QDialogButtonBox* m_buttons;
};
