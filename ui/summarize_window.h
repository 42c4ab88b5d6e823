// SPDX-License-Identifier: Apache-2.0
// Summarise a document: choose a file (.txt, .md, .html, .pdf), the strategy, length and an
// optional focus question; progress per phase with tokens, speed and time left; Pause keeps the
// session so Resume (also after a restart of the app) continues where it stopped; Cancel stops
// and discards it. The result shows the summary and each chunk's summary with its source lines
// or pages, and can be opened as a conversation for follow-up questions.
#pragma once

#include <optional>
#include <stop_token>

#include <QPointer>
#include <QWidget>

#include "services/summarize_worker.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTextBrowser;

class SummarizeWindow : public QWidget {
    Q_OBJECT

public:
    SummarizeWindow(SummarizeWorker* worker, QWidget* parent = nullptr);
    ~SummarizeWindow() override;

    void setFile(const QString& path);
    bool running() const { return m_stopSource.has_value(); }
    const std::optional<SummarizeOutcome>& outcome() const { return m_outcome; }

    // For tests.
    QLineEdit* fileEdit() const { return m_file; }
    QComboBox* strategyBox() const { return m_strategy; }
    QComboBox* lengthBox() const { return m_length; }
    QLineEdit* focusEdit() const { return m_focus; }
    QComboBox* languageBox() const { return m_language; }
    QPushButton* startButton() const { return m_start; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* openConversationButton() const { return m_openConversation; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* statusLabel() const { return m_status; }
    QTextBrowser* summaryView() const { return m_summary; }
    QListWidget* sectionList() const { return m_sections; }
    QListWidget* interruptedList() const { return m_interrupted; }
    // Re-reads the interrupted sessions (on show and after each run).
    void refreshInterrupted();

public slots:
    void start();
    void pause();
    void cancel();

signals:
    // "Open as conversation": the summary with its sources, for follow-up questions.
    void openAsConversation(const SummarizeOutcome& outcome);

private:
    void onProgress(const SummarizeProgressInfo& info);
    void onFinished(const SummarizeOutcome& outcome);
    void onStopped(const QString& path, const QString& message, bool failed);
    void updateButtons();
    void showEvent(QShowEvent* event) override;

    QPointer<SummarizeWorker> m_worker;
    QLineEdit* m_file;
    QComboBox* m_strategy;
    QComboBox* m_length;
    QLineEdit* m_focus;
    QComboBox* m_language;
    QPushButton* m_start;
    QPushButton* m_pause;
    QPushButton* m_cancel;
    QPushButton* m_openConversation;
    QProgressBar* m_progress;
    QLabel* m_phase;
    QLabel* m_status;
    QTextBrowser* m_summary;
    QListWidget* m_sections;
    QListWidget* m_interrupted;
    QVector<InterruptedSummary> m_interruptedRuns;
    std::optional<std::stop_source> m_stopSource;
    bool m_cancelled = false;
    bool m_discardNext = false;  // after Cancel, the next Start begins afresh
    std::optional<SummarizeOutcome> m_outcome;
};
