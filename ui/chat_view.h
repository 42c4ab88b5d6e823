// SPDX-License-Identifier: Apache-2.0
// ChatView: the messages of the open conversation in a scrolling column. Follows new text while
// the user is at the bottom; stops following when they scroll up, resumes when they return.
#pragma once

#include <optional>

#include <QScrollArea>
#include <QVector>

#include "services/conversation.h"

class MessageWidget;
class QVBoxLayout;

class ChatView : public QScrollArea {
    Q_OBJECT

public:
    explicit ChatView(QWidget* parent = nullptr);

    // `source`: a summary conversation's document, for naming the sections replies used (kept
    // for messages appended later).
    void setMessages(const QVector<ChatMessageData>& messages,
                     const std::optional<SummarySourceData>& source = std::nullopt);
    MessageWidget* appendMessage(const ChatMessageData& message);
    // Appends streamed text to the last message.
    void appendToLast(const QString& text);
    MessageWidget* last() const { return m_widgets.isEmpty() ? nullptr : m_widgets.back(); }
    int count() const { return static_cast<int>(m_widgets.size()); }
    MessageWidget* at(int i) const { return m_widgets.value(i); }
    bool followsOutput() const { return m_follow; }

signals:
    void editRequested(int index);
    void versionRequested(int index, int version);

private:
    void scrollToEndIfFollowing();

    QWidget* m_container;
    QVBoxLayout* m_layout;
    QVector<MessageWidget*> m_widgets;
    std::optional<SummarySourceData> m_source;
    bool m_follow = true;
};
