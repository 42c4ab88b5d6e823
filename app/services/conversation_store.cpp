// SPDX-License-Identifier: Apache-2.0
#include "services/conversation_store.h"

#include <algorithm>

#include <QDir>
#include <QFile>
#include <QStandardPaths>

#include "atomic_file.h"

namespace {

constexpr qint64 kMaxConversationBytes = qint64{256} << 20;

}  // namespace

ConversationStore::ConversationStore(QString directory) : m_directory(std::move(directory)) {
    QDir().mkpath(m_directory);
}

QString ConversationStore::defaultDirectory() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/conversations");
}

QString ConversationStore::filePath(const QString& id) const {
    return m_directory + QLatin1Char('/') + id + QStringLiteral(".json");
}

QString ConversationStore::statePath(const QString& id) const {
    return m_directory + QLatin1Char('/') + id + QStringLiteral(".state");
}

ConversationStore::LoadReport ConversationStore::loadAll() const {
    LoadReport report;
    QDir dir(m_directory);
    // Temporary files of writes that never finished (a crash, a kill): the real file is intact.
    // Requires: no writer is active on this folder (loadAll runs before the StoreWriter starts).
    for (const QString& name :
         dir.entryList({QStringLiteral(".*.tmp-*")}, QDir::Files | QDir::Hidden)) {
        dir.remove(name);
    }
    for (const QString& name : dir.entryList({QStringLiteral("*.json")}, QDir::Files)) {
        const QString path = dir.filePath(name);
        QString problem;
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            report.problems << QStringLiteral("%1: cannot be read (%2)").arg(path, f.errorString());
            continue;  // an unreadable file is left alone: it may be a permissions problem
        }
        if (f.size() > kMaxConversationBytes) {
            problem = QStringLiteral("larger than 256 MiB");
        } else {
            auto c = conversationFromJson(f.readAll().toStdString());
            if (!c) {
                problem = QString::fromStdString(c.error().message);
            } else if (c->id + QStringLiteral(".json") != name) {
                problem = QStringLiteral("its id '%1' does not match the file name").arg(c->id);
            } else {
                report.conversations.push_back(std::move(*c));
                continue;
            }
        }
        f.close();
        QString aside = path + QStringLiteral(".corrupt");
        for (int i = 1; QFile::exists(aside); ++i)
            aside = path + QStringLiteral(".corrupt.%1").arg(i);
        QFile::rename(path, aside);
        report.problems << QStringLiteral("%1: %2 — moved to %3").arg(path, problem, aside);
    }
    std::sort(report.conversations.begin(), report.conversations.end(),
              [](const Conversation& a, const Conversation& b) { return a.updated > b.updated; });
    return report;
}

griffin::Status ConversationStore::save(const Conversation& conversation) const {
    if (!isValidConversationId(conversation.id)) {
        return griffin::makeError(
            griffin::ErrorCode::InvalidArgument,
            "conversation id '" + conversation.id.toStdString() + "' is invalid");
    }
    return writeFileAtomically(filePath(conversation.id),
                               QByteArray::fromStdString(conversationToJson(conversation)));
}

griffin::Status ConversationStore::remove(const QString& id) const {
    if (!isValidConversationId(id)) {
        return griffin::makeError(griffin::ErrorCode::InvalidArgument, "invalid conversation id");
    }
    QFile::remove(statePath(id));
    QFile::remove(statePath(id) + QStringLiteral(".meta"));
    if (QFile::exists(filePath(id)) && !QFile::remove(filePath(id))) {
        return griffin::makeError(griffin::ErrorCode::Io,
                                  filePath(id).toStdString() + ": cannot delete");
    }
    return {};
}
