// SPDX-License-Identifier: Apache-2.0
// ConversationStore: one JSON file per conversation in a folder (architecture.md, "Files the
// application owns"), written atomically; unreadable files are quarantined, never deleted.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>

#include "griffin/result.h"
#include "services/conversation.h"

// Not thread-safe: use one instance per thread (the GUI reads, a StoreWriter thread writes).
class ConversationStore {
public:
    explicit ConversationStore(QString directory);

    struct LoadReport {
        QVector<Conversation> conversations;  // sorted by last activity, newest first
        QStringList problems;                 // one line per quarantined file
    };
    // Loads every <id>.json (and removes temporary files of interrupted writes). A file that fails
    // to parse or validate is renamed to <name>.corrupt and reported; the others still load.
    LoadReport loadAll() const;

    // Writes <id>.json atomically (temp file, fsync, rename).
    griffin::Status save(const Conversation& conversation) const;
    // Removes <id>.json and its state snapshot.
    griffin::Status remove(const QString& id) const;

    QString filePath(const QString& id) const;
    // Where the engine keeps this conversation's State snapshot.
    QString statePath(const QString& id) const;
    const QString& directory() const { return m_directory; }

    // <AppDataLocation>/conversations
    static QString defaultDirectory();

private:
    QString m_directory;
};
