// SPDX-License-Identifier: Apache-2.0
#include "prompt_lab_window.h"

#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QUrl>
#include <QUuid>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace {

constexpr int kMaxVariants = 4;

// Light background colours from red (improbable) through yellow to green (probable), readable
// with dark text in both palettes.
QString heatColour(double prob) {
    const double p = std::clamp(prob, 0.0, 1.0);
    const int hue = static_cast<int>(120.0 * std::sqrt(p));  // sqrt: low values spread out
    return QColor::fromHsv(hue, 90, 255).name();
}

QString visible(const QString& text) {
    QString out = text.toHtmlEscaped();
    out.replace(QLatin1Char('\n'), QStringLiteral("↵<br>"));
    return out;
}

QString paramsSummary(const LabParams& p) {
    return QStringLiteral("T %1 · k %2 · p %3 · min-p %4 · rep %5 · seed %6")
        .arg(p.temperature, 0, 'f', 2)
        .arg(p.topK)
        .arg(p.topP, 0, 'f', 2)
        .arg(p.minP, 0, 'f', 2)
        .arg(p.repeatPenalty, 0, 'f', 2)
        .arg(p.seed);
}

}  // namespace

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
        stats += QStringLiteral("<br>") + paramsSummary(run.params).toHtmlEscaped();
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
                        .arg(heatColour(t.prob));
        if (i == m_selected)
            style += QStringLiteral("border:1px solid; font-weight:bold;");
        if (i < m_run->branchAt + 1 && i < m_run->forced.size())
            style += QStringLiteral("font-style:italic;");
        const QString text = t.text.isEmpty() ? QStringLiteral("·") : visible(t.text);
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

// --- PromptLabWindow ----------------------------------------------------------------------

PromptLabWindow::PromptLabWindow(LabWorker* worker, QString historyFile, QString presetsFile,
                                 QWidget* parent)
    : QWidget(parent, Qt::Window),
      m_worker(worker),
      m_presetsFile(std::move(presetsFile)),
      m_historyStore(std::move(historyFile)) {
    setWindowTitle(tr("Prompt lab — Griffin Chat"));
    setAccessibleName(tr("Prompt lab"));
    resize(1200, 800);
    m_presets = builtInLabPresets();
    if (auto user = loadLabPresets(m_presetsFile); user) {
        m_presets += *user;
    } else {
        spdlog::warn("prompt lab presets: {}", user.error().message);
    }
    const auto loaded = m_historyStore.load();

    auto* outer = new QVBoxLayout(this);
    m_tabs = new QTabWidget;
    outer->addWidget(m_tabs);

    // Runs tab.
    auto* runs = new QWidget;
    auto* runsLayout = new QVBoxLayout(runs);
    auto* top = new QHBoxLayout;
    m_mode = new QComboBox;
    m_mode->addItem(tr("Chat template"));
    m_mode->addItem(tr("Raw completion"));
    m_mode->setAccessibleName(tr("Prompt mode"));
    top->addWidget(m_mode);
    m_system = new QLineEdit;
    m_system->setPlaceholderText(tr("System prompt (chat template only)"));
    m_system->setAccessibleName(tr("System prompt"));
    top->addWidget(m_system, 1);
    m_tokenCount = new QLabel(tr("0 tokens"));
    m_tokenCount->setAccessibleName(tr("Token count"));
    top->addWidget(m_tokenCount);
    m_showTokens = new QPushButton(tr("Tokens"));
    m_showTokens->setCheckable(true);
    m_showTokens->setToolTip(tr("Show how the prompt is split into tokens"));
    top->addWidget(m_showTokens);
    runsLayout->addLayout(top);

    auto* split = new QSplitter(Qt::Vertical);
    auto* promptBox = new QWidget;
    auto* promptLayout = new QHBoxLayout(promptBox);
    promptLayout->setContentsMargins(0, 0, 0, 0);
    m_prompt = new QPlainTextEdit;
    m_prompt->setPlaceholderText(tr("Prompt"));
    m_prompt->setAccessibleName(tr("Prompt"));
    promptLayout->addWidget(m_prompt, 2);
    m_tokenView = new QTextBrowser;
    m_tokenView->setAccessibleName(tr("Prompt tokens"));
    m_tokenView->setVisible(false);
    promptLayout->addWidget(m_tokenView, 1);
    split->addWidget(promptBox);

    auto* columnsHost = new QWidget;
    m_columnsLayout = new QHBoxLayout(columnsHost);
    m_columnsLayout->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea;
    scroll->setWidget(columnsHost);
    scroll->setWidgetResizable(true);
    split->addWidget(scroll);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 4);
    split->setSizes({140, 560});
    runsLayout->addWidget(split, 1);

    auto* buttons = new QHBoxLayout;
    m_addVariant = new QPushButton(tr("Add variant"));
    m_heatMap = new QCheckBox(tr("Heat map"));
    m_heatMap->setToolTip(tr("Colour tokens by their probability: red unlikely, green likely"));
    m_status = new QLabel;
    m_stop = new QPushButton(tr("Stop"));
    m_run = new QPushButton(tr("Run all"));
    m_run->setDefault(true);
    m_run->setToolTip(tr("Run every variant, one after another (Ctrl+Return)"));
    m_run->setShortcut(QKeySequence(QStringLiteral("Ctrl+Return")));
    buttons->addWidget(m_addVariant);
    buttons->addWidget(m_heatMap);
    buttons->addWidget(m_status, 1);
    buttons->addWidget(m_stop);
    buttons->addWidget(m_run);
    runsLayout->addLayout(buttons);
    m_tabs->addTab(runs, tr("Runs"));

    // Perplexity tab.
    auto* ppl = new QWidget;
    auto* pplLayout = new QVBoxLayout(ppl);
    m_pplText = new QPlainTextEdit;
    m_pplText->setPlaceholderText(tr("Paste a text to see how well the model predicts it"));
    m_pplText->setAccessibleName(tr("Text to score"));
    pplLayout->addWidget(m_pplText, 1);
    auto* pplRow = new QHBoxLayout;
    m_pplResult = new QLabel;
    m_pplResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_pplScore = new QPushButton(tr("Score"));
    pplRow->addWidget(m_pplResult, 1);
    pplRow->addWidget(m_pplScore);
    pplLayout->addLayout(pplRow);
    m_pplView = new QTextBrowser;
    m_pplView->setAccessibleName(tr("Per-token probabilities"));
    pplLayout->addWidget(m_pplView, 2);
    m_tabs->addTab(ppl, tr("Perplexity"));

    // History tab.
    auto* hist = new QWidget;
    auto* histLayout = new QVBoxLayout(hist);
    m_history = new QListWidget;
    m_history->setAccessibleName(tr("Run history"));
    histLayout->addWidget(m_history, 1);
    auto* histButtons = new QHBoxLayout;
    auto* show = new QPushButton(tr("Show in variant 1"));
    auto* rerun = new QPushButton(tr("Re-run exactly"));
    auto* clear = new QPushButton(tr("Clear history…"));
    histButtons->addWidget(show);
    histButtons->addWidget(rerun);
    histButtons->addStretch(1);
    histButtons->addWidget(clear);
    histLayout->addLayout(histButtons);
    m_tabs->addTab(hist, tr("History"));

    addVariant();
    refreshHistory();
    if (!loaded)
        m_status->setText(QString::fromStdString(loaded.error().message));

    m_tokenTimer = new QTimer(this);
    m_tokenTimer->setSingleShot(true);
    m_tokenTimer->setInterval(150);
    connect(m_tokenTimer, &QTimer::timeout, this, &PromptLabWindow::requestTokenCount);
    connect(m_prompt, &QPlainTextEdit::textChanged, m_tokenTimer, qOverload<>(&QTimer::start));
    connect(m_system, &QLineEdit::textChanged, m_tokenTimer, qOverload<>(&QTimer::start));
    connect(m_mode, &QComboBox::currentIndexChanged, m_tokenTimer, qOverload<>(&QTimer::start));
    connect(m_showTokens, &QPushButton::toggled, this, [this](bool on) {
        m_tokenView->setVisible(on);
        m_tokenTimer->start();
    });
    connect(m_addVariant, &QPushButton::clicked, this, &PromptLabWindow::addVariant);
    connect(m_run, &QPushButton::clicked, this, &PromptLabWindow::runAll);
    connect(m_stop, &QPushButton::clicked, this, &PromptLabWindow::stop);
    connect(m_heatMap, &QCheckBox::toggled, this, [this](bool on) {
        for (LabVariantColumn* c : m_columns) {
            if (c->run())
                c->showRun(*c->run(), on);
        }
    });
    connect(m_pplScore, &QPushButton::clicked, this, [this] {
        if (m_scoreStop) {  // a second click cancels
            m_scoreStop->request_stop();
            return;
        }
        if (m_pplText->toPlainText().trimmed().isEmpty() || !m_worker)
            return;
        m_scoreStop.emplace();
        const quint64 id = ++m_scoreId;
        const QString text = m_pplText->toPlainText();
        const std::stop_token token = m_scoreStop->get_token();
        m_pplResult->setText(tr("Scoring…"));
        m_pplScore->setText(tr("Cancel"));
        QMetaObject::invokeMethod(m_worker, [w = m_worker, id, text, token] {
            if (w)
                w->score(id, text, token);
        });
    });
    connect(show, &QPushButton::clicked, this, [this] {
        const int row = m_history->currentRow();
        if (row < 0 || row >= m_historyStore.runs().size() || m_columns.isEmpty())
            return;
        const LabRun& r = m_historyStore.runs()[row];
        m_prompt->setPlainText(r.prompt);
        m_system->setText(r.system);
        m_mode->setCurrentIndex(r.chat ? 0 : 1);
        m_columns.first()->setParams(r.params);
        m_columns.first()->showRun(r, m_heatMap->isChecked());
        m_tabs->setCurrentIndex(0);
    });
    connect(rerun, &QPushButton::clicked, this, &PromptLabWindow::rerunSelected);
    connect(m_history, &QListWidget::itemDoubleClicked, this, [show] { show->click(); });
    connect(clear, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(
                this, tr("Clear history"),
                tr("Delete all %1 runs from the history?").arg(m_historyStore.runs().size())) !=
            QMessageBox::Yes)
            return;
        if (auto s = m_historyStore.clear(); !s)
            QMessageBox::warning(this, tr("Clear history"),
                                 QString::fromStdString(s.error().message));
        refreshHistory();
    });

    if (m_worker) {
        connect(m_worker, &LabWorker::labFinished, this, &PromptLabWindow::onFinished);
        connect(m_worker, &LabWorker::labTokens, this, [this](const QString& id, int tokens) {
            if (m_current && m_current->request.run.id == id)
                m_current->column->showRunning(tr("Generating… %1 tokens").arg(tokens));
        });
        connect(m_worker, &LabWorker::tokenized, this, &PromptLabWindow::onTokenized);
        connect(m_worker, &LabWorker::scored, this, &PromptLabWindow::onScored);
    }
    updateButtons();
}

PromptLabWindow::~PromptLabWindow() {
    m_stopSource.request_stop();
    if (m_scoreStop)
        m_scoreStop->request_stop();
}

void PromptLabWindow::addVariant() {
    if (m_columns.size() >= kMaxVariants)
        return;
    auto* column = new LabVariantColumn(static_cast<int>(m_columns.size()) + 1, m_presets);
    if (!m_columns.isEmpty())  // a new variant starts from the previous one's parameters
        column->setParams(m_columns.back()->params());
    m_columns.push_back(column);
    m_columnsLayout->addWidget(column, 1);
    column->setMinimumWidth(260);
    connect(column, &LabVariantColumn::branchRequested, this,
            [this, column](const LabRun& parent, int index, int tokenId) {
                branch(column, parent, index, tokenId);
            });
    connect(column, &LabVariantColumn::removeRequested, this, [this](LabVariantColumn* c) {
        if (m_columns.size() <= 1 || busy())
            return;
        m_columns.removeAll(c);
        c->deleteLater();
        updateButtons();
    });
    connect(column, &LabVariantColumn::savePresetRequested, this, &PromptLabWindow::savePreset);
    updateButtons();
}

LabRun PromptLabWindow::inputsFor(LabVariantColumn* column) const {
    LabRun r;
    r.chat = m_mode->currentIndex() == 0;
    r.prompt = column->promptOverride().trimmed().isEmpty() ? m_prompt->toPlainText()
                                                            : column->promptOverride();
    r.system = column->systemOverride().isEmpty() ? m_system->text() : column->systemOverride();
    r.params = column->params();
    return r;
}

void PromptLabWindow::runAll() {
    if (busy() || !m_worker)
        return;
    bool anyPrompt = !m_prompt->toPlainText().isEmpty();
    for (LabVariantColumn* c : m_columns) anyPrompt = anyPrompt || !c->promptOverride().isEmpty();
    if (!anyPrompt) {
        m_status->setText(tr("Write a prompt first."));
        return;
    }
    m_stopSource = std::stop_source();
    for (LabVariantColumn* c : m_columns) {
        c->showRunning(tr("Waiting…"));
        m_queue.push_back({c, {inputsFor(c), m_stopSource.get_token()}});
    }
    startNext();
}

void PromptLabWindow::branch(LabVariantColumn* column, const LabRun& parent, int index,
                             int tokenId) {
    if (busy() || !m_worker)
        return;
    LabRun r = parent;
    r.id.clear();
    r.parentId = parent.id;
    r.branchAt = index;
    r.forced.clear();
    for (int i = 0; i < index; ++i) r.forced << parent.tokens[i].id;
    r.forced << tokenId;
    r.tokens.clear();
    r.text.clear();
    m_stopSource = std::stop_source();
    column->showRunning(tr("Branching at token %1…").arg(index + 1));
    m_queue.push_back({column, {r, m_stopSource.get_token()}});
    startNext();
}

void PromptLabWindow::rerunSelected() {
    const int row = m_history->currentRow();
    if (busy() || !m_worker || row < 0 || row >= m_historyStore.runs().size() ||
        m_columns.isEmpty())
        return;
    LabRun r = m_historyStore.runs()[row];
    r.id.clear();
    r.tokens.clear();
    r.text.clear();
    m_prompt->setPlainText(r.prompt);
    m_system->setText(r.system);
    m_mode->setCurrentIndex(r.chat ? 0 : 1);
    m_columns.first()->setParams(r.params);
    m_tabs->setCurrentIndex(0);
    m_stopSource = std::stop_source();
    m_columns.first()->showRunning(tr("Re-running…"));
    m_queue.push_back({m_columns.first(), {r, m_stopSource.get_token()}});
    startNext();
}

void PromptLabWindow::stop() {
    m_stopSource.request_stop();
    for (const Pending& p : m_queue) p.column->showRunning(tr("Stopped before it ran."));
    m_queue.clear();
    updateButtons();
}

void PromptLabWindow::startNext() {
    if (m_current || m_queue.isEmpty() || !m_worker) {
        updateButtons();
        return;
    }
    m_current = m_queue.takeFirst();
    m_current->request.run.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_current->column->showRunning(tr("Generating…"));
    m_status->setText(tr("Running variant %1…").arg(m_columns.indexOf(m_current->column) + 1));
    const LabRequest request = m_current->request;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, request] {
        if (w)
            w->run(request);
    });
    updateButtons();
}

void PromptLabWindow::onFinished(const LabRun& run) {
    if (!m_current || m_current->request.run.id != run.id)
        return;
    LabVariantColumn* column = m_current->column;
    m_current.reset();
    if (m_columns.contains(column))
        column->showRun(run, m_heatMap->isChecked());
    if (run.error.isEmpty()) {
        if (auto s = m_historyStore.add(run); !s) {
            m_status->setText(QString::fromStdString(s.error().message));
        } else {
            m_status->setText(tr("Done."));
        }
        refreshHistory();
    } else {
        m_status->setText(run.error);
    }
    startNext();
}

void PromptLabWindow::refreshHistory() {
    m_history->clear();
    for (const LabRun& r : m_historyStore.runs()) {
        QString prompt = r.prompt.simplified();
        if (prompt.size() > 60)
            prompt = prompt.left(57) + QStringLiteral("…");
        QString line =
            QStringLiteral("%1  [%2%3]  %4 — %5 tokens — %6")
                .arg(r.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")),
                     r.chat ? tr("chat") : tr("raw"),
                     r.parentId.isEmpty() ? QString() : tr(", branch"), prompt)
                .arg(r.tokens.size())
                .arg(paramsSummary(r.params));
        auto* item = new QListWidgetItem(line);
        item->setToolTip(tr("Model %1 (%2)\n%3").arg(r.modelName, r.fingerprint, r.text));
        m_history->addItem(item);
    }
}

void PromptLabWindow::requestTokenCount() {
    if (!m_worker)
        return;
    const quint64 id = ++m_tokenizeId;
    const QString text = m_prompt->toPlainText();
    const bool chat = m_mode->currentIndex() == 0;
    const QString system = m_system->text();
    QMetaObject::invokeMethod(m_worker, [w = m_worker, id, text, chat, system] {
        if (w)
            w->tokenize(id, text, chat, system);
    });
}

void PromptLabWindow::onTokenized(quint64 id, const QVector<LabTokenPiece>& pieces) {
    if (id != m_tokenizeId)
        return;  // a newer request is on its way
    m_tokenCount->setText(tr("%n token(s)", nullptr, static_cast<int>(pieces.size())));
    if (!m_tokenView->isVisible())
        return;
    QString html = QStringLiteral("<div style='font-family: monospace'>");
    for (int i = 0; i < pieces.size(); ++i) {
        const LabTokenPiece& p = pieces[i];
        const QString background =
            p.special ? QStringLiteral("#f3d9a4")
                      : (i % 2 == 0 ? QStringLiteral("#dbe8fb") : QStringLiteral("#e6f4d7"));
        html += QStringLiteral(
                    "<span style='background-color:%1; color:#000' title='id %2'>%3"
                    "<sub>%2</sub></span> ")
                    .arg(background)
                    .arg(p.id)
                    .arg(p.piece.toHtmlEscaped());
    }
    m_tokenView->setHtml(html + QStringLiteral("</div>"));
}

void PromptLabWindow::onScored(quint64 id, const LabScore& score, const QString& error) {
    if (id != m_scoreId)
        return;
    m_scoreStop.reset();
    m_pplScore->setText(tr("Score"));
    if (!error.isEmpty()) {
        m_pplResult->setText(error);
        return;
    }
    m_pplResult->setText(tr("%1 tokens · negative log-likelihood %2 nats · perplexity %3")
                             .arg(score.tokens)
                             .arg(score.nll, 0, 'f', 3)
                             .arg(score.perplexity, 0, 'f', 3));
    QString html = QStringLiteral("<div style='font-family: monospace; white-space: pre-wrap'>");
    for (int i = 0; i < score.pieces.size(); ++i) {
        const double p = std::exp(score.logprobs[i]);
        html += QStringLiteral(
                    "<span style='background-color:%1; color:#000' title='p = %2'>%3"
                    "</span>")
                    .arg(heatColour(p))
                    .arg(p, 0, 'f', 4)
                    .arg(visible(score.pieces[i].piece));
    }
    m_pplView->setHtml(html + QStringLiteral("</div>"));
}

void PromptLabWindow::savePreset(const LabParams& params) {
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Save preset"), tr("Preset name:"),
                                               QLineEdit::Normal, QString(), &ok)
                             .trimmed();
    if (!ok || name.isEmpty())
        return;
    for (const LabPreset& p : m_presets) {
        if (p.builtIn && p.name == name) {
            QMessageBox::warning(this, tr("Save preset"),
                                 tr("“%1” is a built-in preset; choose another name.").arg(name));
            return;
        }
    }
    m_presets.erase(std::remove_if(m_presets.begin(), m_presets.end(),
                                   [&](const LabPreset& p) { return p.name == name; }),
                    m_presets.end());
    m_presets.push_back({name, params, false});
    if (auto s = saveLabPresets(m_presetsFile, m_presets); !s) {
        QMessageBox::warning(this, tr("Save preset"), QString::fromStdString(s.error().message));
        return;
    }
    for (LabVariantColumn* c : m_columns) c->setPresets(m_presets);
}

void PromptLabWindow::updateButtons() {
    m_run->setEnabled(!busy());
    m_stop->setEnabled(busy());
    m_addVariant->setEnabled(m_columns.size() < kMaxVariants);
}
