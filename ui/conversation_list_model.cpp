// SPDX-License-Identifier: Apache-2.0
#include "conversation_list_model.h"

#include <QLocale>

int ConversationListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= m_items.size())
        return {};
    const Conversation& c = m_items[index.row()];
    switch (role) {
        case Qt::DisplayRole:
            return c.title;
        case Qt::ToolTipRole:
            return tr("%1\nLast activity: %2\n%3 messages")
                .arg(c.title, QLocale().toString(c.updated.toLocalTime(), QLocale::ShortFormat))
                .arg(c.messages.size());
        case Qt::AccessibleTextRole:
            return tr("Conversation %1").arg(c.title);
        case IdRole:
            return c.id;
        case UpdatedRole:
            return c.updated;
        case SearchTextRole: {
            QString all = c.title;
            for (const ChatMessageData& m : c.messages) all += QLatin1Char('\n') + m.text;
            return all;
        }
        default:
            return {};
    }
}

void ConversationListModel::setConversations(QVector<Conversation> conversations) {
    beginResetModel();
    m_items = std::move(conversations);
    endResetModel();
}

int ConversationListModel::rowOf(const QString& id) const {
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items[i].id == id)
            return i;
    }
    return -1;
}

const Conversation* ConversationListModel::find(const QString& id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_items[row];
}

void ConversationListModel::upsert(const Conversation& conversation) {
    const int row = rowOf(conversation.id);
    if (row >= 0) {
        m_items[row] = conversation;
        emit dataChanged(index(row), index(row));
        return;
    }
    beginInsertRows({}, static_cast<int>(m_items.size()), static_cast<int>(m_items.size()));
    m_items.push_back(conversation);
    endInsertRows();
}

std::optional<Conversation> ConversationListModel::take(const QString& id) {
    const int row = rowOf(id);
    if (row < 0)
        return std::nullopt;
    beginRemoveRows({}, row, row);
    Conversation c = m_items.takeAt(row);
    endRemoveRows();
    return c;
}

ConversationFilter::ConversationFilter(QObject* parent) : QSortFilterProxyModel(parent) {
    setDynamicSortFilter(true);
    sort(0, Qt::DescendingOrder);
}

void ConversationFilter::setSearch(const QString& text) {
    m_search = text.trimmed();
    invalidateFilter();
}

bool ConversationFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    if (m_search.isEmpty())
        return true;
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    return index.data(ConversationListModel::SearchTextRole)
        .toString()
        .contains(m_search, Qt::CaseInsensitive);
}

bool ConversationFilter::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    return left.data(ConversationListModel::UpdatedRole).toDateTime() <
           right.data(ConversationListModel::UpdatedRole).toDateTime();
}
