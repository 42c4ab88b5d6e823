// SPDX-License-Identifier: Apache-2.0
#include "chat_view.h"

#include <algorithm>

#include <QPushButton>
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
    m_showEarlier = new QPushButton(m_container);
    m_showEarlier->setObjectName(QStringLiteral("showEarlier"));
    m_showEarlier->hide();
    connect(m_showEarlier, &QPushButton::clicked, this, &ChatView::showEarlier);
    m_layout->addWidget(m_showEarlier);
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
    m_hidden = std::max(0, static_cast<int>(messages.size()) - kPage);
    m_earlier = messages.mid(0, m_hidden);
    updateEarlierButton();
    for (int i = m_hidden; i < messages.size(); ++i) {
        m_layout->insertWidget(m_layout->count() - 1, makeWidget(i, messages[i]));
    }
    scrollToEndIfFollowing();
}

MessageWidget* ChatView::appendMessage(const ChatMessageData& message) {
    MessageWidget* w = makeWidget(count(), message);
    m_layout->insertWidget(m_layout->count() - 1, w);
    scrollToEndIfFollowing();
    return w;
}

MessageWidget* ChatView::makeWidget(int index, const ChatMessageData& message) {
    auto* w = new MessageWidget(index, message, m_container);
    connect(w, &MessageWidget::editRequested, this, &ChatView::editRequested);
    connect(w, &MessageWidget::versionRequested, this, &ChatView::versionRequested);
    if (m_source && !message.sources.empty())
        w->setSources(summarySourcesLabel(*m_source, message.sources));
    if (index == m_hidden && !m_widgets.isEmpty())
        m_widgets.prepend(w);  // an earlier message, shown above the others
    else
        m_widgets.push_back(w);
    return w;
}

void ChatView::showEarlier() {
    if (m_hidden == 0)
        return;
    QScrollBar* bar = verticalScrollBar();
    const int fromBottom = bar->maximum() - bar->value();
    const int first = std::max(0, m_hidden - kPage);
    // Inserted just below the button, oldest first, so each goes above the ones before it.
    for (int i = m_hidden - 1; i >= first; --i) {
        m_hidden = i;
        m_layout->insertWidget(1, makeWidget(i, m_earlier[i]));
    }
    m_earlier.resize(m_hidden);
    updateEarlierButton();
    // Keep the messages that were in view where they were: same distance from the bottom.
    m_follow = false;
    QTimer::singleShot(0, this, [this, fromBottom] {
        QScrollBar* b = verticalScrollBar();
        b->setValue(b->maximum() - fromBottom);
    });
}

void ChatView::updateEarlierButton() {
    m_showEarlier->setVisible(m_hidden > 0);
    m_showEarlier->setText(
        tr("Show %1 earlier messages (%2 not shown)").arg(std::min(m_hidden, kPage)).arg(m_hidden));
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
