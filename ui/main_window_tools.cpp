// SPDX-License-Identifier: Apache-2.0
// MainWindow, continued: the Tools menu's windows — document summaries (with "Open as
// conversation", which seeds a stream summary's conversation with the document state), the
// prompt lab and model conversion.
#include <QDir>
#include <QLineEdit>
#include <QStandardPaths>

#include "convert_dialog.h"
#include "main_window.h"
#include "prompt_lab_window.h"
#include "services/lab.h"
#include "services/summarize_worker.h"
#include "summarize_window.h"

SummarizeWindow* MainWindow::openSummarizer() {
    if (m_summarizer == nullptr) {
        m_summarizer = new SummarizeWindow(m_summarizeWorker, this);
        connect(m_summarizer, &SummarizeWindow::openAsConversation, this,
                [this](const SummarizeOutcome& outcome) {
                    Conversation c = summaryConversation(outcome, m_settings.sampling,
                                                         m_model ? m_model->name : QString());
                    commit(c);
                    selectConversation(c.id);
                    if (!outcome.statePath.isEmpty()) {
                        // Stream: follow-ups continue with the whole document in the state.
                        QMetaObject::invokeMethod(
                            m_summarizeWorker,
                            [w = m_summarizeWorker, id = c.id, system = c.systemPrompt,
                             messages = c.messages, path = outcome.statePath] {
                                w->seedConversation(id, system, messages, path);
                            });
                    }
                    raise();
                    activateWindow();
                });
    }
    m_summarizer->show();
    m_summarizer->raise();
    m_summarizer->activateWindow();
    return m_summarizer;
}

PromptLabWindow* MainWindow::openPromptLab() {
    if (m_lab == nullptr) {
        const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        const QString configDir =
            QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
        QDir().mkpath(dataDir + QStringLiteral("/lab"));
        QDir().mkpath(configDir);
        m_lab = new PromptLabWindow(m_labWorker, dataDir + QStringLiteral("/lab/history.json"),
                                    configDir + QStringLiteral("/presets.json"), this);
    }
    m_lab->show();
    m_lab->raise();
    m_lab->activateWindow();
    return m_lab;
}

ConvertDialog* MainWindow::openConverter() {
    if (m_converter == nullptr) {
        m_converter = new ConvertDialog(this);
        connect(m_converter, &ConvertDialog::openModel, this, &MainWindow::inspectModel);
    }
    if (!m_converter->running() && m_converter->sourceEdit()->text().isEmpty() && m_model &&
        !m_model->isDemo) {
        m_converter->setSource(m_model->path);
    }
    m_converter->show();
    m_converter->raise();
    m_converter->activateWindow();
    return m_converter;
}
