// SPDX-License-Identifier: Apache-2.0
#include "summarize_window.h"

#include <algorithm>

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace {

QString duration(double seconds) {
    if (seconds < 0)
        return QStringLiteral("…");
    const qint64 s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString sourceRange(const SummarySectionInfo& s) {
    if (s.firstPage > 0) {
        return s.firstPage == s.lastPage
                   ? QObject::tr("page %1").arg(s.firstPage)
                   : QObject::tr("pages %1–%2").arg(s.firstPage).arg(s.lastPage);
    }
    return QObject::tr("lines %1–%2").arg(s.firstLine).arg(s.lastLine);
}

}  // namespace

SummarizeWindow::SummarizeWindow(SummarizeWorker* worker, QWidget* parent)
    : QWidget(parent, Qt::Window), m_worker(worker) {
    setWindowTitle(tr("Summarise a document — Griffin Chat"));
    setAccessibleName(tr("Summarise a document"));
    resize(900, 700);
    auto* layout = new QVBoxLayout(this);

    auto* form = new QFormLayout;
    auto* fileRow = new QHBoxLayout;
    m_file = new QLineEdit;
    m_file->setPlaceholderText(tr(".txt, .md, .html or .pdf"));
    m_file->setAccessibleName(tr("Document file"));
    auto* browse = new QPushButton(tr("Browse…"));
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);
    form->addRow(tr("Document"), fileRow);
    m_strategy = new QComboBox;
    m_strategy->addItem(tr("Automatic (by length)"), QStringLiteral("auto"));
    m_strategy->addItem(tr("Stream: the whole document through the state"),
                        QStringLiteral("stream"));
    m_strategy->addItem(tr("Map-reduce: summarise chunks, then combine"),
                        QStringLiteral("map-reduce"));
    m_strategy->addItem(tr("Refine: a running summary, chunk by chunk"), QStringLiteral("refine"));
    m_strategy->setAccessibleName(tr("Strategy"));
    form->addRow(tr("Strategy"), m_strategy);
    m_length = new QComboBox;
    m_length->addItem(tr("One paragraph"), QStringLiteral("short"));
    m_length->addItem(tr("One page"), QStringLiteral("page"));
    m_length->addItem(tr("Bullet points"), QStringLiteral("bullets"));
    m_length->addItem(tr("Detailed"), QStringLiteral("detailed"));
    m_length->setAccessibleName(tr("Length"));
    form->addRow(tr("Length"), m_length);
    m_focus = new QLineEdit;
    m_focus->setPlaceholderText(tr("Optional: a question the summary should answer"));
    m_focus->setAccessibleName(tr("Focus question"));
    form->addRow(tr("Focus"), m_focus);
    m_language = new QComboBox;
    m_language->addItem(tr("Same as the document"), QStringLiteral("auto"));
    for (const QString& id : summaryLanguages()) m_language->addItem(summaryLanguageLabel(id), id);
    m_language->setAccessibleName(tr("Summary language"));
    form->addRow(tr("Language"), m_language);
    layout->addLayout(form);

    m_interrupted = new QListWidget;
    m_interrupted->setObjectName(QStringLiteral("interruptedSummaries"));
    m_interrupted->setAccessibleName(tr("Interrupted summaries"));
    m_interrupted->setToolTip(tr("Paused or interrupted runs: choose one and press Resume"));
    m_interrupted->setMaximumHeight(80);
    m_interrupted->hide();
    layout->addWidget(m_interrupted);

    auto* buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"));
    m_start->setDefault(true);
    m_pause = new QPushButton(tr("Pause"));
    m_pause->setToolTip(tr("Stop now and keep the progress; Resume continues from here"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop now and discard the progress"));
    m_openConversation = new QPushButton(tr("Open as conversation"));
    m_openConversation->setToolTip(tr("Ask follow-up questions about the document"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_cancel);
    buttons->addStretch(1);
    buttons->addWidget(m_openConversation);
    layout->addLayout(buttons);

    m_phase = new QLabel;
    layout->addWidget(m_phase);
    m_progress = new QProgressBar;
    m_progress->setAccessibleName(tr("Progress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    layout->addWidget(m_progress);
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    auto* split = new QSplitter(Qt::Vertical);
    m_summary = new QTextBrowser;
    m_summary->setAccessibleName(tr("Summary"));
    m_summary->setPlaceholderText(tr("The summary appears here"));
    split->addWidget(m_summary);
    m_sections = new QListWidget;
    m_sections->setAccessibleName(tr("Chunk summaries"));
    m_sections->setWordWrap(true);
    split->addWidget(m_sections);
    layout->addWidget(split, 1);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Summarise a document"), QFileInfo(m_file->text()).absolutePath(),
            tr("Documents (*.txt *.md *.markdown *.html *.htm *.pdf);;All files (*)"));
        if (!file.isEmpty())
            setFile(file);
    });
    connect(m_start, &QPushButton::clicked, this, &SummarizeWindow::start);
    connect(m_pause, &QPushButton::clicked, this, &SummarizeWindow::pause);
    connect(m_cancel, &QPushButton::clicked, this, &SummarizeWindow::cancel);
    connect(m_openConversation, &QPushButton::clicked, this, [this] {
        if (m_outcome)
            emit openAsConversation(*m_outcome);
    });
    connect(m_interrupted, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= m_interruptedRuns.size() || running())
            return;
        const SummarizeRequest& r = m_interruptedRuns[row].request;
        m_file->setText(r.path);
        m_strategy->setCurrentIndex(std::max(0, m_strategy->findData(r.strategy)));
        m_length->setCurrentIndex(std::max(0, m_length->findData(r.length)));
        m_focus->setText(r.focus);
        if (m_language->findData(r.language) < 0)  // a name given elsewhere (request.json)
            m_language->addItem(r.language, r.language);
        m_language->setCurrentIndex(std::max(0, m_language->findData(r.language)));
        m_phase->setText(tr("Paused."));
        m_status->setText(tr("%n chunk(s) done; Resume continues from there.", nullptr,
                             static_cast<int>(m_interruptedRuns[row].chunksDone)));
        updateButtons();
    });
    connect(m_interrupted, &QListWidget::itemDoubleClicked, this, &SummarizeWindow::start);
    connect(m_file, &QLineEdit::textChanged, this, [this] {
        m_discardNext = false;
        updateButtons();
    });
    if (m_worker) {
        connect(m_worker, &SummarizeWorker::progress, this, &SummarizeWindow::onProgress);
        connect(m_worker, &SummarizeWorker::finished, this, &SummarizeWindow::onFinished);
        connect(m_worker, &SummarizeWorker::paused, this,
                [this](const QString& path, const QString& message) {
                    onStopped(path, message, false);
                });
        connect(m_worker, &SummarizeWorker::failed, this,
                [this](const QString& path, const QString& message) {
                    onStopped(path, message, true);
                });
    }
    updateButtons();
}

SummarizeWindow::~SummarizeWindow() {
    if (m_stopSource)
        m_stopSource->request_stop();  // the session is kept: a later Start resumes it
}

void SummarizeWindow::setFile(const QString& path) {
    m_file->setText(path);
}

void SummarizeWindow::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refreshInterrupted();
}

void SummarizeWindow::refreshInterrupted() {
    m_interruptedRuns = m_worker ? findInterruptedSummaries(m_worker->sessionRoot())
                                 : QVector<InterruptedSummary>{};
    m_interrupted->blockSignals(true);
    m_interrupted->clear();
    for (const InterruptedSummary& s : m_interruptedRuns) {
        m_interrupted->addItem(
            tr("%1 — %2, %3 — %n chunk(s) done — %4", nullptr, static_cast<int>(s.chunksDone))
                .arg(QFileInfo(s.request.path).fileName(), s.request.strategy, s.request.length,
                     s.modified.toString(QStringLiteral("yyyy-MM-dd hh:mm"))));
    }
    m_interrupted->blockSignals(false);
    m_interrupted->setVisible(!m_interruptedRuns.isEmpty());
}

void SummarizeWindow::start() {
    if (running() || !m_worker || m_file->text().trimmed().isEmpty())
        return;
    SummarizeRequest request;
    request.path = m_file->text().trimmed();
    request.strategy = m_strategy->currentData().toString();
    request.length = m_length->currentData().toString();
    request.focus = m_focus->text().trimmed();
    request.language = m_language->currentData().toString();
    request.restart = m_discardNext;
    m_discardNext = false;
    m_cancelled = false;
    m_stopSource.emplace();
    request.stop = m_stopSource->get_token();
    m_outcome.reset();
    m_summary->clear();
    m_sections->clear();
    m_phase->setText(tr("Starting…"));
    m_status->clear();
    m_progress->setValue(0);
    QMetaObject::invokeMethod(m_worker, [w = m_worker, request] {
        if (w)
            w->summarize(request);
    });
    updateButtons();
}

void SummarizeWindow::pause() {
    if (m_stopSource)
        m_stopSource->request_stop();
}

void SummarizeWindow::cancel() {
    if (!m_stopSource)
        return;
    m_cancelled = true;
    m_stopSource->request_stop();
}

void SummarizeWindow::onProgress(const SummarizeProgressInfo& p) {
    if (!running())
        return;
    QString phase;
    if (p.phase == QLatin1String("reading"))
        phase = tr("Reading the document");
    else if (p.phase == QLatin1String("prefilling"))
        phase = tr("Reading into the model's state");
    else if (p.phase == QLatin1String("summarizing"))
        phase = tr("Summarising chunk %1 of %2").arg(p.chunk).arg(p.chunks);
    else if (p.phase == QLatin1String("combining"))
        phase =
            tr("Combining summaries (level %1): %2 of %3").arg(p.level).arg(p.chunk).arg(p.chunks);
    else if (p.phase == QLatin1String("finishing"))
        phase = tr("Writing the summary");
    else
        phase = p.phase;
    if (p.resumed)
        phase += tr(" — resumed");
    m_phase->setText(phase);
    if (p.phase == QLatin1String("reading") && p.bytesTotal > 0) {
        m_progress->setValue(static_cast<int>(1000 * p.bytesDone / p.bytesTotal));
    } else if (p.tokensTotal > 0) {
        m_progress->setValue(static_cast<int>(1000 * p.tokensDone / p.tokensTotal));
    }
    if (p.tokensTotal > 0) {
        m_status->setText(tr("%1 / %2 tokens · %3 tok/s · about %4 left")
                              .arg(p.tokensDone)
                              .arg(p.tokensTotal)
                              .arg(p.tokensPerS, 0, 'f', 0)
                              .arg(duration(p.etaS)));
    }
}

void SummarizeWindow::onFinished(const SummarizeOutcome& outcome) {
    m_stopSource.reset();
    m_outcome = outcome;
    m_progress->setValue(1000);
    m_phase->setText(outcome.resumed ? tr("Done (resumed).") : tr("Done."));
    m_status->setText(
        tr("%1 · %2 · %3 bytes · %4 tokens · %5 · %6 s")
            .arg(QFileInfo(outcome.path).fileName(),
                 tr("%1, %2").arg(outcome.encoding, summaryLanguageLabel(outcome.language)))
            .arg(outcome.bytes)
            .arg(outcome.documentTokens)
            .arg(outcome.strategy)
            .arg(outcome.seconds, 0, 'f', 1));
    m_summary->setMarkdown(outcome.summary);
    refreshInterrupted();
    m_sections->clear();
    for (const SummarySectionInfo& s : outcome.sections) {
        m_sections->addItem(
            tr("Chunk %1 (%2): %3").arg(s.index + 1).arg(sourceRange(s), s.summary.simplified()));
    }
    updateButtons();
}

void SummarizeWindow::onStopped(const QString&, const QString& message, bool failedRun) {
    m_stopSource.reset();
    if (m_cancelled) {
        m_discardNext = true;  // the session is discarded when the next run starts
        m_phase->setText(tr("Cancelled."));
        m_status->clear();
        m_progress->setValue(0);
    } else {
        m_phase->setText(failedRun ? tr("Could not summarise") : tr("Paused."));
        m_status->setText(message);
    }
    m_cancelled = false;
    refreshInterrupted();
    updateButtons();
}

void SummarizeWindow::updateButtons() {
    const bool busy = running();
    m_start->setEnabled(!busy && !m_file->text().trimmed().isEmpty());
    m_start->setText(!busy && m_phase->text() == tr("Paused.") ? tr("Resume") : tr("Start"));
    m_pause->setEnabled(busy);
    m_cancel->setEnabled(busy);
    m_openConversation->setEnabled(!busy && m_outcome.has_value());
    m_file->setEnabled(!busy);
    m_strategy->setEnabled(!busy);
    m_length->setEnabled(!busy);
    m_focus->setEnabled(!busy);
    m_language->setEnabled(!busy);
}
