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

#include "lab_variant_column.h"

namespace {

constexpr int kMaxVariants = 4;

}  // namespace

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
                .arg(labParamsSummary(r.params));
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
                    .arg(labHeatColour(p))
                    .arg(p, 0, 'f', 4)
                    .arg(labVisibleText(score.pieces[i].piece));
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
