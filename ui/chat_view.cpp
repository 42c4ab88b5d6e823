// SPDX-License-Identifier: Apache-2.0
#include "chat_view.h"

#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

#include "message_widget.h"
#include "services/summary_followup.h"

ChatView::ChatView(QWidget* parent) : QScrollArea(parent) {
    setObjectName(QStringLiteral("chatView"));
    setAccessibleName(tr("Conversation"));
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_container = new QWidget(this);
    m_layout = new QVBoxLayout(m_container);
    m_layout->addStretch();
    setWidget(m_container);
    QScrollBar* bar = verticalScrollBar();
    // Following stops when the user moves away from the bottom and resumes when they return.
    connect(bar, &QScrollBar::valueChanged, this,
            [this, bar](int value) { m_follow = value >= bar->maximum() - 4; });
    connect(bar, &QScrollBar::rangeChanged, this, [this, bar](int, int max) {
        if (m_follow)
            bar->setValue(max);
    });
}

void ChatView::setMessages(const QVector<ChatMessageData>& messages,
                           const std::optional<SummarySourceData>& source) {
    m_source = source;
    qDeleteAll(m_widgets);
    m_widgets.clear();
    m_follow = true;
    for (const ChatMessageData& m : messages) appendMessage(m);
}

MessageWidget* ChatView::appendMessage(const ChatMessageData& message) {
    auto* w = new MessageWidget(static_cast<int>(m_widgets.size()), message, m_container);
    connect(w, &MessageWidget::editRequested, this, &ChatView::editRequested);
    connect(w, &MessageWidget::versionRequested, this, &ChatView::versionRequested);
    if (m_source && !message.sources.empty())
        w->setSources(summarySourcesLabel(*m_source, message.sources));
    m_layout->insertWidget(m_layout->count() - 1, w);
    m_widgets.push_back(w);
    scrollToEndIfFollowing();
    return w;
}

void ChatView::appendToLast(const QString& text) {
    if (m_widgets.isEmpty())
        return;
    m_widgets.back()->appendText(text);
    scrollToEndIfFollowing();
}

void ChatView::scrollToEndIfFollowing() {
    if (!m_follow)
        return;
    QTimer::singleShot(0, this, [this] {
        if (m_follow)
            verticalScrollBar()->setValue(verticalScrollBar()->maximum());
    });
}
