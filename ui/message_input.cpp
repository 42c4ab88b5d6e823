// SPDX-License-Identifier: Apache-2.0
#include "message_input.h"

#include <QKeyEvent>

MessageInput::MessageInput(QWidget* parent) : QPlainTextEdit(parent) {
    setObjectName(QStringLiteral("messageInput"));
    setAccessibleName(tr("Message"));
    setPlaceholderText(tr("Type a message — Enter sends, Shift+Enter starts a new line"));
    setTabChangesFocus(true);
}

void MessageInput::keyPressEvent(QKeyEvent* event) {
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
        emit sendRequested();
        return;
    }
    if (event->key() == Qt::Key_Escape) {
        emit stopRequested();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}
