// SPDX-License-Identifier: Apache-2.0
// MessageWidget: one chat message — a header (who, when), the text (Markdown for the model's
// replies, plain for the user's), a statistics line, and Copy / Copy code / Edit buttons.
#pragma once

#include <QFrame>

#include "services/conversation.h"

class QLabel;
class QTextBrowser;
class QTimer;
class QPushButton;
class QHBoxLayout;

class MessageWidget : public QFrame {
    Q_OBJECT

public:
    MessageWidget(int index, const ChatMessageData& message, QWidget* parent = nullptr);

    int index() const { return m_index; }
    void setText(const QString& text);
    // Appends streamed text: shown at once as plain text, re-rendered as Markdown at most four
    // times a second (and in full by setStreaming(false)).
    void appendText(const QString& text);
    const QString& text() const { return m_text; }
    void setStats(const std::optional<MessageStats>& stats);
    void setStreaming(bool streaming);
    // Shows what the safety filters did ("1 e-mail address redacted", "Reply stopped: ...") with
    // the rules in a tooltip; hidden when `notes` is empty.
    void setSafety(const std::vector<std::string>& notes);
    // The document sections a summary follow-up drew on ("From sections 2, 5 (lines ...)");
    // hidden when `label` is empty.
    void setSources(const QString& label);

signals:
    void editRequested(int index);
    // Show version `version` of the conversation from this message on.
    void versionRequested(int index, int version);

private:
    void rebuildCodeButtons();
    void render();
    void fitHeight();
    void setBodyHeight(qreal documentHeight);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    int m_index;
    ChatMessageData::Role m_role;
    QString m_text;
    QTextBrowser* m_body;
    // Your messages longer than kCollapseAbove characters show their first kPreviewChars until
    // m_expand ("Show all") is clicked.
    static constexpr qsizetype kCollapseAbove = 6000;
    static constexpr qsizetype kPreviewChars = 1500;
    QPushButton* m_expand = nullptr;
    bool m_expanded = false;
    QTimer* m_renderTimer;
    bool m_streaming = false;
    QLabel* m_details;
    QLabel* m_safety;
    QLabel* m_sources;
    QHBoxLayout* m_buttons;
    QList<QPushButton*> m_codeButtons;
};

// Code blocks (``` fenced) of a Markdown text, in order.
QStringList codeBlocksOf(const QString& markdown);
