// SPDX-License-Identifier: Apache-2.0
// StoreWriter: performs ConversationStore writes on a thread of its own, in request order, so the
// GUI never waits for a disk (fsync can take long on a busy or slow drive).
#pragma once

#include <QObject>

#include "services/conversation_store.h"

class StoreWriter : public QObject {
    Q_OBJECT

public:
    explicit StoreWriter(QString directory, QObject* parent = nullptr)
        : QObject(parent), m_store(std::move(directory)) {}

public slots:
    void save(const Conversation& conversation) {
        if (auto s = m_store.save(conversation); !s)
            emit failed(QString::fromStdString(s.error().message));
        emit saved(conversation.id);
    }
    void remove(const QString& id) {
        if (auto s = m_store.remove(id); !s)
            emit failed(QString::fromStdString(s.error().message));
    }

signals:
    void saved(const QString& id);
    void failed(const QString& message);

private:
    ConversationStore m_store;
};
