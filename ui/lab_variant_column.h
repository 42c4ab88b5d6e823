// SPDX-License-Identifier: Apache-2.0
// One column of the prompt lab's side-by-side view: a variant's parameters (and optional system
// prompt and prompt of its own), the output of its latest run as clickable tokens (with a heat
// map by probability), and the selected token's alternatives with Branch.
#pragma once

#include <optional>

#include <QWidget>

#include "services/lab.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;

// Light background colours from red (improbable) to green (probable), readable with dark text.
QString labHeatColour(double prob);
// `text` as HTML with line breaks shown.
QString labVisibleText(const QString& text);
// "T 0.80 · k 64 · p 0.95 · min-p 0.00 · rep 1.00 · seed 7".
QString labParamsSummary(const LabParams& params);

// One side-by-side column: its parameters, the output of its latest run and the details of the
// selected token.
class LabVariantColumn : public QWidget {
    Q_OBJECT

public:
    LabVariantColumn(int number, const QVector<LabPreset>& presets, QWidget* parent = nullptr);
    LabParams params() const;
    void setParams(const LabParams& params);
    void setPresets(const QVector<LabPreset>& presets);
    QString systemOverride() const;
    // A prompt of this variant's own (empty = the shared prompt).
    QString promptOverride() const;
    void setPromptOverride(const QString& prompt);
    void showRun(const LabRun& run, bool heatMap);
    void showRunning(const QString& note);
    const std::optional<LabRun>& run() const { return m_run; }
    void selectToken(int index);  // shows its probability and alternatives
    int selectedToken() const { return m_selected; }

    QTextBrowser* output() const { return m_output; }
    QListWidget* alternatives() const { return m_alternatives; }

signals:
    void branchRequested(const LabRun& parent, int index, int tokenId);
    void removeRequested(LabVariantColumn* column);
    void savePresetRequested(const LabParams& params);

private:
    void render();

    QComboBox* m_preset;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_topP;
    QDoubleSpinBox* m_minP;
    QDoubleSpinBox* m_repeat;
    QSpinBox* m_maxTokens;
    QLineEdit* m_seed;
    QLineEdit* m_stop;
    QLineEdit* m_system;
    QPlainTextEdit* m_promptOverride;
    QTextBrowser* m_output;
    QLabel* m_stats;
    QLabel* m_tokenInfo;
    QListWidget* m_alternatives;
    QPushButton* m_branch;
    QVector<LabPreset> m_presets;
    std::optional<LabRun> m_run;
    bool m_heatMap = false;
    int m_selected = -1;
};
