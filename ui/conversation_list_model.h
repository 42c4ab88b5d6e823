// SPDX-License-Identifier: Apache-2.0
// ConversationListModel: the conversations of the left-hand list (one row each, title and last
// activity); ConversationFilter searches titles and message text and sorts by last activity.
#pragma once

#include <QAbstractListModel>
#include <QSortFilterProxyModel>
#include <QVector>

#include "services/conversation.h"

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Roles { IdRole = Qt::UserRole + 1, UpdatedRole, SearchTextRole };

    explicit ConversationListModel(QObject* parent = nullptr) : QAbstractListModel(parent) {}

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

    void setConversations(QVector<Conversation> conversations);
    // Inserts or replaces (by id); emits the matching row signals.
    void upsert(const Conversation& conversation);
    // Removes and returns the conversation (for undo); nullopt if absent.
    std::optional<Conversation> take(const QString& id);

    int rowOf(const QString& id) const;
    const Conversation* find(const QString& id) const;
    const QVector<Conversation>& conversations() const { return m_items; }

private:
    QVector<Conversation> m_items;
};

// Case-insensitive search over titles and message text; newest activity first.
class ConversationFilter : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit ConversationFilter(QObject* parent = nullptr);
    void setSearch(const QString& text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    QString m_search;
};
