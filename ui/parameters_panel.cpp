// SPDX-License-Identifier: Apache-2.0
#include "parameters_panel.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {

QDoubleSpinBox* doubleBox(double lo, double hi, double step, int decimals, const QString& name) {
    auto* b = new QDoubleSpinBox();
    b->setRange(lo, hi);
    b->setSingleStep(step);
    b->setDecimals(decimals);
    b->setAccessibleName(name);
    return b;
}

QSpinBox* intBox(int lo, int hi, const QString& name) {
    auto* b = new QSpinBox();
    b->setRange(lo, hi);
    b->setAccessibleName(name);
    return b;
}

}  // namespace

ParametersPanel::ParametersPanel(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("parametersPanel"));
    auto* outer = new QVBoxLayout(this);
    auto* form = new QFormLayout();
    outer->addLayout(form);
    outer->addStretch();
    m_system = new QPlainTextEdit(this);
    m_system->setObjectName(QStringLiteral("systemPrompt"));
    m_system->setAccessibleName(tr("System prompt"));
    m_system->setPlaceholderText(tr("Instructions placed before the first message"));
    m_system->setMaximumHeight(120);
    form->addRow(new QLabel(tr("System prompt"), this));
    form->addRow(m_system);
    m_temperature = doubleBox(0.0, 5.0, 0.05, 2, tr("Temperature"));
    m_temperature->setToolTip(tr("0 = always the most likely token (greedy)"));
    m_topK = intBox(0, 100000, tr("Top-k"));
    m_topK->setSpecialValueText(tr("off"));
    m_topP = doubleBox(0.01, 1.0, 0.01, 2, tr("Top-p"));
    m_minP = doubleBox(0.0, 0.99, 0.01, 2, tr("Min-p"));
    m_repeat = doubleBox(0.5, 5.0, 0.05, 2, tr("Repetition penalty"));
    m_maxTokens = intBox(1, 1000000, tr("Maximum tokens"));
    m_seed = intBox(0, 2147483647, tr("Seed"));
    m_seed->setSpecialValueText(tr("random"));
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Top-k"), m_topK);
    form->addRow(tr("Top-p"), m_topP);
    form->addRow(tr("Min-p"), m_minP);
    form->addRow(tr("Repetition penalty"), m_repeat);
    form->addRow(tr("Max tokens"), m_maxTokens);
    form->addRow(tr("Seed"), m_seed);
    m_safety = new QCheckBox(tr("Safety filters for this conversation"), this);
    m_safety->setObjectName(QStringLiteral("conversationSafety"));
    m_safety->setAccessibleName(tr("Safety filters for this conversation"));
    m_safety->setChecked(true);
    form->addRow(m_safety);
    auto changed = [this] {
        if (!m_updating)
            emit edited();
    };
    connect(m_system, &QPlainTextEdit::textChanged, this, changed);
    for (QDoubleSpinBox* b : {m_temperature, m_topP, m_minP, m_repeat}) {
        connect(b, &QDoubleSpinBox::valueChanged, this, changed);
    }
    for (QSpinBox* b : {m_topK, m_maxTokens, m_seed})
        connect(b, &QSpinBox::valueChanged, this, changed);
    connect(m_safety, &QCheckBox::toggled, this, [this, changed](bool on) {
        if (!on && !m_updating) {
            QMessageBox confirm(QMessageBox::Warning, tr("Turn off the safety filters?"),
                                tr("Replies in this conversation will no longer be checked: "
                                   "nothing is blocked, redacted or flagged, and your messages "
                                   "are not checked either. Other conversations keep their "
                                   "filters."),
                                QMessageBox::Cancel, this);
            confirm.setObjectName(QStringLiteral("confirmSafetyOff"));
            QPushButton* off = confirm.addButton(tr("Turn off"), QMessageBox::DestructiveRole);
            confirm.setDefaultButton(QMessageBox::Cancel);
            confirm.exec();
            if (confirm.clickedButton() != off) {
                setSafetyEnabled(true);
                return;
            }
        }
        changed();
    });
}

void ParametersPanel::setSafetyEnabled(bool enabled) {
    const bool was = m_updating;
    m_updating = true;
    m_safety->setChecked(enabled);
    m_updating = was;
}

bool ParametersPanel::safetyEnabled() const {
    return m_safety->isChecked();
}

void ParametersPanel::setSafetySwitchVisible(bool visible) {
    m_safety->setVisible(visible);
}

void ParametersPanel::setValues(const QString& systemPrompt, const GenerationParams& p) {
    m_updating = true;
    if (m_system->toPlainText() != systemPrompt)
        m_system->setPlainText(systemPrompt);
    m_temperature->setValue(p.temperature);
    m_topK->setValue(p.topK);
    m_topP->setValue(p.topP);
    m_minP->setValue(p.minP);
    m_repeat->setValue(p.repeatPenalty);
    m_maxTokens->setValue(p.maxTokens);
    m_seed->setValue(static_cast<int>(std::min<qint64>(p.seed, 2147483647)));
    m_updating = false;
}

QString ParametersPanel::systemPrompt() const {
    return m_system->toPlainText();
}

GenerationParams ParametersPanel::params() const {
    GenerationParams p;
    p.temperature = m_temperature->value();
    p.topK = m_topK->value();
    p.topP = m_topP->value();
    p.minP = m_minP->value();
    p.repeatPenalty = m_repeat->value();
    p.maxTokens = m_maxTokens->value();
    p.seed = m_seed->value();
    return p;
}
