// SPDX-License-Identifier: Apache-2.0
// ParametersPanel: the open conversation's system prompt, sampling parameters and safety switch.
#pragma once

#include <QWidget>

#include "generation_params.h"

class QCheckBox;
class QDoubleSpinBox;
class QSpinBox;
class QPlainTextEdit;

class ParametersPanel : public QWidget {
    Q_OBJECT

public:
    explicit ParametersPanel(QWidget* parent = nullptr);

    void setValues(const QString& systemPrompt, const GenerationParams& params);
    QString systemPrompt() const;
    GenerationParams params() const;
    // The conversation's "Safety filters for this conversation" switch. Turning it off asks for
    // a confirmation first; a refusal leaves it on (and emits nothing).
    void setSafetyEnabled(bool enabled);
    bool safetyEnabled() const;
    void setSafetySwitchVisible(bool visible);

signals:
    // The user changed something (not emitted by setValues).
    void edited();

private:
    QPlainTextEdit* m_system;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_topP;
    QDoubleSpinBox* m_minP;
    QDoubleSpinBox* m_repeat;
    QSpinBox* m_maxTokens;
    QSpinBox* m_seed;
    QCheckBox* m_safety;
    bool m_updating = false;
};
