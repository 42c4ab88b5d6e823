// SPDX-License-Identifier: Apache-2.0
// ChatView: the messages of the open conversation in a scrolling column. Follows new text while
// the user is at the bottom; stops following when they scroll up, resumes when they return. A
// long conversation opens at its last kPage messages, with a button for earlier ones: each
// message is a widget with its own text layout, and 500 of them took about a second to show.
#pragma once

#include <optional>

#include <QScrollArea>
#include <QVector>

#include "services/conversation.h"

class MessageWidget;
class QPushButton;
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
    // Messages in the view, shown or not yet shown (earlier ones of a long conversation).
    int count() const { return m_hidden + static_cast<int>(m_widgets.size()); }
    // The widget of message i, or null while it is one of the earlier ones not shown.
    MessageWidget* at(int i) const {
        return i < m_hidden ? nullptr : m_widgets.value(i - m_hidden);
    }
    int hiddenCount() const { return m_hidden; }
    // Shows up to kPage more of the earlier messages (the button above the first one).
    void showEarlier();
    bool followsOutput() const { return m_follow; }

    static constexpr int kPage = 60;

signals:
    void editRequested(int index);
    void versionRequested(int index, int version);

private:
    void scrollToEndIfFollowing();
    MessageWidget* makeWidget(int index, const ChatMessageData& message);
    void updateEarlierButton();

    QWidget* m_container;
    QVBoxLayout* m_layout;
    QVector<MessageWidget*> m_widgets;   // messages m_hidden.. in order
    QVector<ChatMessageData> m_earlier;  // the first m_hidden messages, not shown yet
    int m_hidden = 0;
    QPushButton* m_showEarlier;
    std::optional<SummarySourceData> m_source;
    bool m_follow = true;
};
