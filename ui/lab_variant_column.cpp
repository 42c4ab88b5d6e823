// SPDX-License-Identifier: Apache-2.0
#include "lab_variant_column.h"

#include <algorithm>
#include <cmath>

#include <QColor>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

// Light background colours from red (improbable) through yellow to green (probable), readable
// with dark text in both palettes.
QString labHeatColour(double prob) {
    const double p = std::clamp(prob, 0.0, 1.0);
    const int hue = static_cast<int>(120.0 * std::sqrt(p));  // sqrt: low values spread out
    return QColor::fromHsv(hue, 90, 255).name();
}

QString labVisibleText(const QString& text) {
    QString out = text.toHtmlEscaped();
    out.replace(QLatin1Char('\n'), QStringLiteral("↵<br>"));
    return out;
}

QString labParamsSummary(const LabParams& p) {
    return QStringLiteral("T %1 · k %2 · p %3 · min-p %4 · rep %5 · seed %6")
        .arg(p.temperature, 0, 'f', 2)
        .arg(p.topK)
        .arg(p.topP, 0, 'f', 2)
        .arg(p.minP, 0, 'f', 2)
        .arg(p.repeatPenalty, 0, 'f', 2)
        .arg(p.seed);
}

// --- LabVariantColumn ---------------------------------------------------------------------

LabVariantColumn::LabVariantColumn(int number, const QVector<LabPreset>& presets, QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* header = new QHBoxLayout;
    auto* title = new QLabel(tr("<b>Variant %1</b>").arg(number));
    header->addWidget(title);
    m_preset = new QComboBox;
    m_preset->setAccessibleName(tr("Preset of variant %1").arg(number));
    header->addWidget(m_preset, 1);
    auto* save = new QPushButton(tr("Save…"));
    save->setToolTip(tr("Save these parameters as a preset"));
    save->setAccessibleName(tr("Save preset"));
    header->addWidget(save);
    auto* remove = new QPushButton(tr("✕"));
    remove->setToolTip(tr("Remove this variant"));
    remove->setAccessibleName(tr("Remove variant %1").arg(number));
    remove->setMaximumWidth(32);
    header->addWidget(remove);
    layout->addLayout(header);

    auto spin = [&](double lo, double hi, double step, int decimals, const QString& name) {
        auto* s = new QDoubleSpinBox;
        s->setRange(lo, hi);
        s->setSingleStep(step);
        s->setDecimals(decimals);
        s->setAccessibleName(name);
        return s;
    };
    m_temperature = spin(0.0, 5.0, 0.05, 2, tr("Temperature"));
    m_topK = new QSpinBox;
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("off"));
    m_topK->setAccessibleName(tr("Top-k"));
    m_topP = spin(0.0, 1.0, 0.01, 2, tr("Top-p"));
    m_minP = spin(0.0, 1.0, 0.01, 2, tr("Min-p"));
    m_repeat = spin(0.5, 5.0, 0.05, 2, tr("Repetition penalty"));
    m_maxTokens = new QSpinBox;
    m_maxTokens->setRange(1, 1 << 20);
    m_maxTokens->setAccessibleName(tr("Max tokens"));
    m_seed = new QLineEdit;
    m_seed->setPlaceholderText(tr("random"));
    m_seed->setAccessibleName(tr("Seed"));
    m_stop = new QLineEdit;
    m_stop->setPlaceholderText(tr("e.g. \\n\\n | END"));
    m_stop->setToolTip(tr("Stop strings separated by |; \\n is a newline"));
    m_stop->setAccessibleName(tr("Stop strings"));
    m_system = new QLineEdit;
    m_system->setPlaceholderText(tr("the prompt's"));
    m_system->setAccessibleName(tr("System prompt override"));
    // Two parameters per row keeps the columns short enough for the output to dominate.
    auto* grid = new QGridLayout;
    grid->setContentsMargins(0, 0, 0, 0);
    const std::pair<QString, QWidget*> fields[] = {{tr("Temperature"), m_temperature},
                                                   {tr("Top-k"), m_topK},
                                                   {tr("Top-p"), m_topP},
                                                   {tr("Min-p"), m_minP},
                                                   {tr("Repetition"), m_repeat},
                                                   {tr("Max tokens"), m_maxTokens},
                                                   {tr("Seed"), m_seed},
                                                   {tr("Stop"), m_stop}};
    int cell = 0;
    for (const auto& [label, field] : fields) {
        const int row = cell / 2, col = (cell % 2) * 2;
        grid->addWidget(new QLabel(label), row, col);
        grid->addWidget(field, row, col + 1);
        ++cell;
    }
    grid->addWidget(new QLabel(tr("System")), 4, 0);
    grid->addWidget(m_system, 4, 1, 1, 3);
    m_promptOverride = new QPlainTextEdit;
    m_promptOverride->setPlaceholderText(tr("the shared prompt"));
    m_promptOverride->setAccessibleName(tr("Prompt override of variant %1").arg(number));
    m_promptOverride->setToolTip(tr("A prompt of this variant's own, instead of the shared one"));
    m_promptOverride->setMaximumHeight(48);
    grid->addWidget(new QLabel(tr("Prompt")), 5, 0);
    grid->addWidget(m_promptOverride, 5, 1, 1, 3);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    layout->addLayout(grid);

    m_output = new QTextBrowser;
    m_output->setOpenLinks(false);
    m_output->setAccessibleName(tr("Output of variant %1").arg(number));
    m_output->setPlaceholderText(tr("Run to see the output; click a token for its alternatives"));
    layout->addWidget(m_output, 3);
    m_stats = new QLabel;
    m_stats->setWordWrap(true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_stats);
    m_tokenInfo = new QLabel;
    m_tokenInfo->setWordWrap(true);
    layout->addWidget(m_tokenInfo);
    m_alternatives = new QListWidget;
    m_alternatives->setAccessibleName(tr("Alternatives of the selected token"));
    m_alternatives->setMaximumHeight(150);
    layout->addWidget(m_alternatives, 1);
    m_branch = new QPushButton(tr("Branch with this token"));
    m_branch->setAccessibleName(tr("Branch with the selected alternative"));
    m_branch->setEnabled(false);
    layout->addWidget(m_branch);

    setPresets(presets);
    setParams(presets.size() > 1 ? presets[1].params : LabParams{});
    connect(m_preset, &QComboBox::activated, this, [this](int i) {
        if (i >= 0 && i < m_presets.size())
            setParams(m_presets[i].params);
    });
    connect(save, &QPushButton::clicked, this, [this] { emit savePresetRequested(params()); });
    connect(remove, &QPushButton::clicked, this, [this] { emit removeRequested(this); });
    connect(m_output, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        bool ok = false;
        const int index = url.path().toInt(&ok);
        if (url.scheme() == QLatin1String("token") && ok)
            selectToken(index);
    });
    connect(m_alternatives, &QListWidget::currentRowChanged, this,
            [this](int row) { m_branch->setEnabled(row >= 0 && m_run && m_selected >= 0); });
    auto doBranch = [this] {
        const int row = m_alternatives->currentRow();
        if (!m_run || m_selected < 0 || row < 0 ||
            row >= m_run->tokens[m_selected].alternatives.size())
            return;
        emit branchRequested(*m_run, m_selected, m_run->tokens[m_selected].alternatives[row].id);
    };
    connect(m_branch, &QPushButton::clicked, this, doBranch);
    connect(m_alternatives, &QListWidget::itemDoubleClicked, this, doBranch);
}

void LabVariantColumn::setPresets(const QVector<LabPreset>& presets) {
    m_presets = presets;
    const QString current = m_preset->currentText();
    m_preset->clear();
    for (const LabPreset& p : presets) m_preset->addItem(p.name);
    if (const int i = m_preset->findText(current); i >= 0)
        m_preset->setCurrentIndex(i);
    else if (presets.size() > 1)
        m_preset->setCurrentIndex(1);
}

LabParams LabVariantColumn::params() const {
    LabParams p;
    p.temperature = m_temperature->value();
    p.topK = m_topK->value();
    p.topP = m_topP->value();
    p.minP = m_minP->value();
    p.repeatPenalty = m_repeat->value();
    p.maxTokens = m_maxTokens->value();
    p.seed = std::max<qint64>(0, m_seed->text().trimmed().toLongLong());
    for (QString s : m_stop->text().split(QLatin1Char('|'), Qt::SkipEmptyParts)) {
        s.replace(QStringLiteral("\\n"), QStringLiteral("\n"));
        if (!s.trimmed().isEmpty() || s.contains(QLatin1Char('\n')))
            p.stop << s;
    }
    return p;
}

void LabVariantColumn::setParams(const LabParams& p) {
    m_temperature->setValue(p.temperature);
    m_topK->setValue(p.topK);
    m_topP->setValue(p.topP);
    m_minP->setValue(p.minP);
    m_repeat->setValue(p.repeatPenalty);
    m_maxTokens->setValue(p.maxTokens);
    m_seed->setText(p.seed > 0 ? QString::number(p.seed) : QString());
    QStringList stops;
    for (QString s : p.stop) stops << s.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
    m_stop->setText(stops.join(QLatin1Char('|')));
}

QString LabVariantColumn::systemOverride() const {
    return m_system->text();
}

QString LabVariantColumn::promptOverride() const {
    return m_promptOverride->toPlainText();
}

void LabVariantColumn::setPromptOverride(const QString& prompt) {
    m_promptOverride->setPlainText(prompt);
}

void LabVariantColumn::showRunning(const QString& note) {
    m_stats->setText(note);
    m_tokenInfo->clear();
    m_alternatives->clear();
    m_branch->setEnabled(false);
}

void LabVariantColumn::showRun(const LabRun& run, bool heatMap) {
    m_run = run;
    m_heatMap = heatMap;
    m_selected = -1;
    render();
    QString stats;
    if (!run.error.isEmpty()) {
        stats = tr("Failed: %1").arg(run.error);
    } else {
        stats = tr("%1 tokens · %2 tok/s · first token %3 ms · %4 · prompt %5 tokens")
                    .arg(run.tokens.size())
                    .arg(run.tokensPerSecond, 0, 'f', 1)
                    .arg(run.ttftMs, 0, 'f', 0)
                    .arg(run.stopReason)
                    .arg(run.promptTokens);
        stats += QStringLiteral("<br>") + labParamsSummary(run.params).toHtmlEscaped();
        if (!run.parentId.isEmpty())
            stats += QStringLiteral("<br>") + tr("Branch at token %1").arg(run.branchAt + 1);
        QStringList notes;
        bool base = false;
        for (const QString& n : run.safety) {
            const auto j = nlohmann::json::parse(n.toStdString(), nullptr, false);
            if (!j.is_object())
                continue;
            base = base || j.value("base_model", false);
            notes << QStringLiteral("%1 (%2)").arg(
                QString::fromStdString(j.value("category", std::string())),
                QString::fromStdString(j.value("action", std::string())));
        }
        if (!notes.isEmpty()) {
            stats += QStringLiteral("<br><span style='color:#a35200'>") +
                     (base ? tr("Safety (base model, flag only): %1") : tr("Safety: %1"))
                         .arg(notes.join(QStringLiteral(", ")).toHtmlEscaped()) +
                     QStringLiteral("</span>");
        }
    }
    m_stats->setText(stats);
    m_tokenInfo->clear();
    m_alternatives->clear();
    m_branch->setEnabled(false);
}

void LabVariantColumn::render() {
    if (!m_run) {
        m_output->clear();
        return;
    }
    QString html = QStringLiteral("<div style='font-family: monospace; white-space: pre-wrap'>");
    for (int i = 0; i < m_run->tokens.size(); ++i) {
        const LabToken& t = m_run->tokens[i];
        QString style = QStringLiteral("text-decoration:none; color:palette(text);");
        if (m_heatMap)
            style = QStringLiteral("text-decoration:none; color:#000; background-color:%1;")
                        .arg(labHeatColour(t.prob));
        if (i == m_selected)
            style += QStringLiteral("border:1px solid; font-weight:bold;");
        if (i < m_run->branchAt + 1 && i < m_run->forced.size())
            style += QStringLiteral("font-style:italic;");
        const QString text = t.text.isEmpty() ? QStringLiteral("·") : labVisibleText(t.text);
        html += QStringLiteral("<a href='token:%1' style='%2' title='p = %3'>%4</a>")
                    .arg(i)
                    .arg(style)
                    .arg(t.prob, 0, 'f', 4)
                    .arg(text);
    }
    html += QStringLiteral("</div>");
    m_output->setHtml(html);
}

void LabVariantColumn::selectToken(int index) {
    if (!m_run || index < 0 || index >= m_run->tokens.size())
        return;
    m_selected = index;
    render();
    const LabToken& t = m_run->tokens[index];
    m_tokenInfo->setText(tr("Token %1: “%2” (id %3), probability %4")
                             .arg(index + 1)
                             .arg(t.text.toHtmlEscaped())
                             .arg(t.id)
                             .arg(t.prob, 0, 'f', 4));
    m_alternatives->clear();
    for (const LabAlternative& a : t.alternatives) {
        QString text = a.text;
        text.replace(QLatin1Char('\n'), QStringLiteral("↵"));
        auto* item = new QListWidgetItem(
            QStringLiteral("%1  “%2”  (id %3)").arg(a.prob, 6, 'f', 4).arg(text).arg(a.id));
        if (a.id == t.id)
            item->setFont([&] {
                QFont f = item->font();
                f.setBold(true);
                return f;
            }());
        m_alternatives->addItem(item);
    }
    m_branch->setEnabled(false);
}
