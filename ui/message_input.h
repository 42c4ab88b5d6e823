// SPDX-License-Identifier: Apache-2.0
// MessageInput: the text box under the chat. Enter sends, Shift+Enter inserts a newline,
// Escape asks to stop the reply.
#pragma once

#include <QPlainTextEdit>

class MessageInput : public QPlainTextEdit {
    Q_OBJECT

public:
    explicit MessageInput(QWidget* parent = nullptr);

signals:
    void sendRequested();
    void stopRequested();

protected:
    void keyPressEvent(QKeyEvent* event) override;
};
