// SPDX-License-Identifier: Apache-2.0
#include "message_widget.h"

#include <algorithm>
#include <cmath>

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QClipboard>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMap>
#include <QPushButton>
#include <QRegularExpression>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

QStringList codeBlocksOf(const QString& markdown) {
    static const QRegularExpression kFence(QStringLiteral("```[^\\n]*\\n(.*?)```"),
                                           QRegularExpression::DotMatchesEverythingOption);
    QStringList blocks;
    for (auto it = kFence.globalMatch(markdown); it.hasNext();) blocks << it.next().captured(1);
    return blocks;
}

MessageWidget::MessageWidget(int index, const ChatMessageData& message, QWidget* parent)
    : QFrame(parent), m_index(index), m_role(message.role) {
    const bool user = m_role == ChatMessageData::Role::User;
    setObjectName(user ? QStringLiteral("userMessage") : QStringLiteral("modelMessage"));
    setFrameShape(QFrame::StyledPanel);
    setBackgroundRole(user ? QPalette::AlternateBase : QPalette::Base);
    setAutoFillBackground(true);

    auto* layout = new QVBoxLayout(this);
    auto* header =
        new QLabel(QStringLiteral("<b>%1</b> <span style='color:gray'>%2</span>")
                       .arg(user ? tr("You") : tr("Model"),
                            QLocale().toString(message.time.toLocalTime(), QLocale::ShortFormat)),
                   this);
    layout->addWidget(header);

    // A read-only text browser sized to its content: wraps long words, selectable, Markdown.
    m_body = new QTextBrowser(this);
    m_body->setObjectName(QStringLiteral("messageBody"));
    m_body->setFrameShape(QFrame::NoFrame);
    m_body->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_body->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_body->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    m_body->setOpenLinks(false);
    m_body->viewport()->setAutoFillBackground(false);
    m_body->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_body->setAccessibleName(user ? tr("Your message") : tr("Model reply"));
    // The layout reports its new size as it goes; take the height from the report. (Asking the
    // document for its size here instead made it lay out everything again on each report: a
    // 20 KB Markdown reply took 11 s to show.)
    connect(m_body->document()->documentLayout(), &QAbstractTextDocumentLayout::documentSizeChanged,
            this, [this](const QSizeF& size) { setBodyHeight(size.height()); });
    layout->addWidget(m_body);
    if (user) {
        // A pasted document shows as its beginning until asked for: laying out 100 KB of text
        // takes the GUI thread a few hundred ms, and a wall of it buries the conversation.
        m_expand = new QPushButton(this);
        m_expand->setObjectName(QStringLiteral("expandMessage"));
        m_expand->setFlat(true);
        m_expand->setStyleSheet(QStringLiteral("text-align: left; color: palette(link)"));
        m_expand->hide();
        connect(m_expand, &QPushButton::clicked, this, [this] {
            m_expanded = !m_expanded;
            render();
        });
        layout->addWidget(m_expand);
    }
    m_renderTimer = new QTimer(this);
    m_renderTimer->setSingleShot(true);
    m_renderTimer->setInterval(250);
    connect(m_renderTimer, &QTimer::timeout, this, &MessageWidget::render);

    m_details = new QLabel(this);
    m_details->setObjectName(QStringLiteral("messageDetails"));
    m_details->setStyleSheet(QStringLiteral("color: gray; font-size: small"));
    layout->addWidget(m_details);

    m_sources = new QLabel(this);
    m_sources->setObjectName(QStringLiteral("messageSources"));
    m_sources->setStyleSheet(QStringLiteral("color: gray; font-size: small"));
    m_sources->setWordWrap(true);
    m_sources->hide();
    layout->addWidget(m_sources);

    m_safety = new QLabel(this);
    m_safety->setObjectName(QStringLiteral("safetyBanner"));
    m_safety->setStyleSheet(QStringLiteral("color: #8a5a00; font-size: small"));
    m_safety->setWordWrap(true);
    m_safety->hide();
    layout->addWidget(m_safety);

    m_buttons = new QHBoxLayout();
    auto* copy = new QPushButton(tr("Copy"), this);
    copy->setAccessibleName(tr("Copy message"));
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_text); });
    m_buttons->addWidget(copy);
    if (user) {
        auto* edit = new QPushButton(tr("Edit"), this);
        edit->setObjectName(QStringLiteral("editButton"));
        edit->setAccessibleName(tr("Edit and resend this message"));
        connect(edit, &QPushButton::clicked, this, [this] { emit editRequested(m_index); });
        m_buttons->addWidget(edit);
    }
    m_buttons->addStretch();
    if (message.branchCount() > 1) {
        // "‹ 2 / 3 ›": the versions of the conversation from this message on.
        const int count = message.branchCount(), shown = message.branchIndex;
        auto* previous = new QPushButton(QStringLiteral("‹"), this);
        previous->setObjectName(QStringLiteral("previousVersion"));
        previous->setAccessibleName(tr("Previous version"));
        previous->setEnabled(shown > 0);
        previous->setMaximumWidth(28);
        auto* position = new QLabel(QStringLiteral("%1 / %2").arg(shown + 1).arg(count), this);
        position->setObjectName(QStringLiteral("versionPosition"));
        position->setAccessibleName(tr("Version %1 of %2").arg(shown + 1).arg(count));
        auto* next = new QPushButton(QStringLiteral("›"), this);
        next->setObjectName(QStringLiteral("nextVersion"));
        next->setAccessibleName(tr("Next version"));
        next->setEnabled(shown + 1 < count);
        next->setMaximumWidth(28);
        connect(previous, &QPushButton::clicked, this,
                [this, shown] { emit versionRequested(m_index, shown - 1); });
        connect(next, &QPushButton::clicked, this,
                [this, shown] { emit versionRequested(m_index, shown + 1); });
        m_buttons->addWidget(previous);
        m_buttons->addWidget(position);
        m_buttons->addWidget(next);
    }
    layout->addLayout(m_buttons);

    setText(message.text);
    setStats(message.stats);
    setSafety(message.safety);
}

void MessageWidget::setSources(const QString& label) {
    m_sources->setText(label);
    m_sources->setAccessibleName(label);
    m_sources->setVisible(!label.isEmpty());
}

void MessageWidget::setText(const QString& text) {
    m_text = text;
    render();
}

void MessageWidget::appendText(const QString& text) {
    m_text += text;
    QTextCursor cursor(m_body->document());
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text);
    if (!m_renderTimer->isActive())
        m_renderTimer->start();
}

void MessageWidget::render() {
    m_renderTimer->stop();
    if (m_role == ChatMessageData::Role::User) {
        const bool longText = m_text.size() > kCollapseAbove;
        m_body->setPlainText(
            longText && !m_expanded ? m_text.left(kPreviewChars) + QStringLiteral(" …") : m_text);
        m_expand->setVisible(longText);
        m_expand->setText(
            m_expanded ? tr("Show less")
                       : tr("Show all %1 characters").arg(QLocale().toString(m_text.size())));
    } else {
        QElapsedTimer timer;
        timer.start();
        m_body->setMarkdown(m_text);
        // While a reply streams in, its Markdown is re-rendered every 250 ms; a long reply takes
        // longer to render, so wait at least 4 times that long: the GUI thread stays free for
        // at least 80 % of the time whatever the reply's length.
        m_renderTimer->setInterval(
            static_cast<int>(std::clamp<qint64>(4 * timer.elapsed(), 250, 5000)));
    }
    rebuildCodeButtons();
    fitHeight();
}

void MessageWidget::fitHeight() {
    QTextDocument* document = m_body->document();
    const qreal width = m_body->viewport()->width();
    if (document->textWidth() != width)
        document->setTextWidth(width);
    setBodyHeight(document->size().height());
}

void MessageWidget::setBodyHeight(qreal documentHeight) {
    const int height = static_cast<int>(std::ceil(documentHeight)) + 4;
    if (m_body->height() != height)
        m_body->setFixedHeight(height);
}

void MessageWidget::resizeEvent(QResizeEvent* event) {
    QFrame::resizeEvent(event);
    fitHeight();
}

void MessageWidget::rebuildCodeButtons() {
    const QStringList blocks = codeBlocksOf(m_text);
    while (m_codeButtons.size() > blocks.size()) delete m_codeButtons.takeLast();
    while (m_codeButtons.size() < blocks.size()) {
        const int n = static_cast<int>(m_codeButtons.size());
        auto* b = new QPushButton(
            blocks.size() == 1 ? tr("Copy code") : tr("Copy code %1").arg(n + 1), this);
        b->setAccessibleName(tr("Copy code block %1").arg(n + 1));
        connect(b, &QPushButton::clicked, this, [this, n] {
            const QStringList current = codeBlocksOf(m_text);
            if (n < current.size())
                QApplication::clipboard()->setText(current[n]);
        });
        m_buttons->insertWidget(m_buttons->count() - 1, b);
        m_codeButtons << b;
    }
}

void MessageWidget::setStats(const std::optional<MessageStats>& stats) {
    if (!stats) {
        m_details->clear();
        m_details->setVisible(false);
        return;
    }
    const QString line = tr("%1 tokens · %2 tok/s · first token %3 ms · %4")
                             .arg(stats->generatedTokens)
                             .arg(stats->decodeTokensPerS, 0, 'f', 1)
                             .arg(stats->ttftMs, 0, 'f', 0)
                             .arg(stats->stopReason);
    m_details->setText(line);
    m_details->setToolTip(tr("prompt %1 tokens, prefill %2 tok/s, seed %3")
                              .arg(stats->promptTokens)
                              .arg(stats->prefillTokensPerS, 0, 'f', 0)
                              .arg(stats->seed));
    m_details->setVisible(true);
}

void MessageWidget::setStreaming(bool streaming) {
    m_streaming = streaming;
    if (!streaming)
        render();
    if (streaming) {
        m_details->setText(tr("generating…"));
        m_details->setVisible(true);
    }
}

void MessageWidget::setSafety(const std::vector<std::string>& notes) {
    QMap<QString, int> redacted;
    QStringList lines, why;
    for (const std::string& note : notes) {
        const auto j = nlohmann::json::parse(note, nullptr, false);
        if (!j.is_object())
            continue;
        const QString category = QString::fromStdString(j.value("category", std::string()));
        const QString action = QString::fromStdString(j.value("action", std::string()));
        const QString readable =
            QString(category).replace(QLatin1String("pii_"), QString()).replace('_', ' ');
        const bool judged = j.value("filter", std::string()) == "judge";
        const double probability = j.value("probability", 0.0);
        if (action == QLatin1String("refuse")) {
            lines << tr("Not sent to the model: it matches the safety rules for %1").arg(readable);
        } else if (judged) {
            lines << tr("Flagged by the model's own judgement (P(Yes) = %1)")
                         .arg(probability, 0, 'f', 2);
        } else if (action == QLatin1String("block")) {
            lines << tr("Reply stopped: %1").arg(readable);
        } else if (action == QLatin1String("redact")) {
            redacted[readable] += 1;
        } else {
            lines << tr("Flagged: %1").arg(readable);
        }
        if (judged) {
            why << tr("the model answered Yes to the policy question with probability %1 "
                      "(threshold %2)")
                       .arg(probability, 0, 'f', 3)
                       .arg(j.value("threshold", 0.0), 0, 'f', 2);
        } else {
            why << tr("rule %1 (%2, %3)")
                       .arg(QString::fromStdString(j.value("rule", std::string())), category,
                            action);
        }
    }
    for (auto it = redacted.begin(); it != redacted.end(); ++it) {
        lines << tr("%n %1 redacted", nullptr, it.value()).arg(it.key());
    }
    m_safety->setText(lines.join(QStringLiteral(" · ")));
    m_safety->setToolTip(
        tr("Why? The safety filters applied: %1").arg(why.join(QStringLiteral("; "))));
    m_safety->setVisible(!lines.isEmpty());
}
