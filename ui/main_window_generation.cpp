// SPDX-License-Identifier: Apache-2.0
// MainWindow, continued: sending, regenerating, editing and stopping replies, and the
// EngineWorker's generation events (the chat controller part of the window).
#include <QStatusBar>
#include <QTimer>

#include "chat_view.h"
#include "conversation_list_model.h"
#include "main_window.h"
#include "message_input.h"
#include "message_widget.h"
#include "services/summary_followup.h"

// ---- generation --------------------------------------------------------------------------

void MainWindow::sendMessage() {
    const QString text = m_input->toPlainText().trimmed();
    if (text.isEmpty())
        return;
    if (isGenerating()) {
        showError(tr("Wait for the current reply or stop it (Esc) before sending."));
        return;
    }
    if (!isModelLoaded()) {
        showError(tr("No model is loaded yet."));
        return;
    }
    Conversation* c = mutableCurrent();
    if (c == nullptr)
        return;
    ChatMessageData user;
    user.role = ChatMessageData::Role::User;
    user.text = text;
    user.time = QDateTime::currentDateTimeUtc();
    if (m_editIndex) {
        // The conversation from the edited message on becomes an older version (‹ / ›).
        if (*m_editIndex < c->messages.size())
            attachVersions(user, detachVersions(c->messages, *m_editIndex));
        m_editIndex.reset();
    }
    c->messages.push_back(user);
    if (c->messages.size() == 1)
        c->title = Conversation::titleFrom(text);
    m_input->clear();
    clearError();
    startGeneration(*c);
}

void MainWindow::regenerate() {
    Conversation* c = mutableCurrent();
    if (c == nullptr || isGenerating() || !isModelLoaded() || c->messages.isEmpty() ||
        c->messages.back().role != ChatMessageData::Role::Model) {
        return;
    }
    // The reply so far stays as an older version of this one.
    m_replyVersions = detachVersions(c->messages, c->messages.size() - 1);
    clearError();
    startGeneration(*c);
}

void MainWindow::startEdit(int messageIndex) {
    const Conversation* c = currentConversation();
    if (c == nullptr || isGenerating() || messageIndex < 0 || messageIndex >= c->messages.size())
        return;
    m_editIndex = messageIndex;
    m_input->setPlainText(c->messages[messageIndex].text);
    m_input->setFocus();
    updateActions();
}

void MainWindow::startGeneration(Conversation& c) {
    c.updated = QDateTime::currentDateTimeUtc();
    c.modelName = m_model->name;
    c.modelFingerprint = m_model->fingerprint;
    GenerationRequest request;
    request.conversationId = c.id;
    request.systemPrompt = c.systemPrompt;
    request.messages = c.messages;
    request.params = c.params;
    request.safetyEnabled = c.safetyEnabled;
    m_stop = std::stop_source();
    request.stop = m_stop.get_token();

    ChatMessageData reply;
    reply.role = ChatMessageData::Role::Model;
    reply.time = QDateTime::currentDateTimeUtc();
    // A follow-up about a summarised document: the app picks the sections the question is
    // about, gives their summaries to the model with it and names them under the reply.
    if (c.kind == QLatin1String("summary") && c.source && !c.messages.isEmpty() &&
        c.messages.back().role == ChatMessageData::Role::User) {
        reply.sources = summarySourcesFor(*c.source, c.messages.back().text);
        request.modelPrefixes = summaryModelPrefixes(c, reply.sources);
    }
    attachVersions(reply, std::move(m_replyVersions));
    m_replyVersions.clear();
    c.messages.push_back(reply);
    m_activeId = c.id;
    m_streamText.clear();
    Conversation saved = c;  // (c aliases the model's row: copy before anything replaces it)
    if (reply.otherBranches.empty())
        saved.messages.pop_back();  // the empty reply is not saved (unless it holds versions)
    emit saveRequested(saved);
    const Conversation current(c);
    m_conversations->upsert(current);
    // Usually only the new user message and the reply are missing from the view.
    if (m_chat->count() == current.messages.size() - 2) {
        m_chat->appendMessage(current.messages[current.messages.size() - 2]);
        m_chat->appendMessage(current.messages.back());
        setWindowTitle(tr("%1 — Griffin Chat").arg(current.title));
    } else {
        showConversation(current);
    }
    m_chat->last()->setStreaming(true);
    m_streamSave->start();
    updateActions();
    emit generateRequested(request);
}

void MainWindow::stopGeneration() {
    if (isGenerating())
        m_stop.request_stop();
}

void MainWindow::onPrefill(const QString& id, qint64 done, qint64 total) {
    if (id == m_currentId && done < total) {
        statusBar()->showMessage(
            tr("Reading the conversation… %1 / %2 tokens").arg(done).arg(total), 2000);
    }
}

void MainWindow::onTokens(const QString& id, const QString& text) {
    if (m_activeId != id)
        return;
    if (m_streamText.isEmpty())
        statusBar()->clearMessage();
    m_streamText += text;
    if (id == m_currentId)
        m_chat->appendToLast(text);
}

void MainWindow::onFinished(const QString& id, const QString& text, const MessageStats& stats,
                            const std::vector<int32_t>& tokens, const QStringList& safety) {
    if (m_activeId != id)
        return;
    m_activeId.reset();
    m_streamSave->stop();
    const int row = m_conversations->rowOf(id);
    if (row >= 0) {
        Conversation c = m_conversations->conversations()[row];
        if (!c.messages.isEmpty() && c.messages.back().role == ChatMessageData::Role::Model) {
            ChatMessageData& reply = c.messages.back();
            reply.text = text;
            reply.stats = stats;
            reply.tokens = tokens;
            reply.safety.clear();
            for (const QString& note : safety) reply.safety.push_back(note.toStdString());
            if (text.isEmpty() && tokens.empty()) {  // stopped before any token
                if (!dropVersion(c.messages, c.messages.size() - 1))
                    c.messages.pop_back();
            }
        }
        c.updated = QDateTime::currentDateTimeUtc();
        commit(c);
        if (id == m_currentId) {
            if (m_chat->count() == c.messages.size() && m_chat->last() != nullptr) {
                m_chat->last()->setText(text);
                m_chat->last()->setStats(stats);
                m_chat->last()->setSafety(c.messages.back().safety);
                m_chat->last()->setStreaming(false);
            } else {
                showConversation(c);
            }
        }
    }
    if (stats.stopReason != QLatin1String("refused"))  // the model did not run
        m_lastStats = stats;
    updateStatus();
    updateActions();
    emit replyFinished(id);
}

void MainWindow::onFailed(const QString& id, const QString& message) {
    if (m_activeId == id) {
        m_activeId.reset();
        m_streamSave->stop();
        const int row = m_conversations->rowOf(id);
        if (row >= 0) {
            Conversation c = m_conversations->conversations()[row];
            // The partial reply is kept; an empty one is dropped.
            if (!c.messages.isEmpty() && c.messages.back().role == ChatMessageData::Role::Model) {
                if (m_streamText.isEmpty()) {
                    if (!dropVersion(c.messages, c.messages.size() - 1))
                        c.messages.pop_back();
                } else {
                    c.messages.back().text = m_streamText;
                }
            }
            commit(c);
            if (id == m_currentId)
                showConversation(c);
        }
    }
    showError(message);
    updateActions();
}

// The input filter matched the message just sent: it is marked (and, when refused, the worker
// answers with an empty "refused" reply, which onFinished drops; the banner tells why).
void MainWindow::onInputFiltered(const QString& id, bool /*refused*/, const QStringList& safety) {
    const int row = m_conversations->rowOf(id);
    if (m_activeId != id || row < 0)
        return;
    Conversation c = m_conversations->conversations()[row];
    qsizetype index = c.messages.size() - 1;
    while (index >= 0 && c.messages[index].role != ChatMessageData::Role::User) --index;
    if (index < 0)
        return;
    ChatMessageData& message = c.messages[index];
    message.safety.clear();
    for (const QString& note : safety) message.safety.push_back(note.toStdString());
    commit(c, false);  // saved with the reply (or its absence) by onFinished
    if (id == m_currentId) {
        if (MessageWidget* w = m_chat->at(static_cast<int>(index)))
            w->setSafety(message.safety);  // a refusal says so here: "Not sent to the model"
    }
}

void MainWindow::showVersion(int index, int version) {
    Conversation* c = mutableCurrent();
    if (c == nullptr || isGenerating())
        return;
    Conversation updated = *c;  // (c aliases the model's row)
    if (!switchVersion(updated.messages, index, version))
        return;
    // The worker restores the state of the longest matching prefix from its turn snapshots
    // when the next message is sent, so nothing is re-read here.
    commit(updated);
    showConversation(updated);
}
