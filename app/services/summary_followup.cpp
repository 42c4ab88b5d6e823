// SPDX-License-Identifier: Apache-2.0
#include "services/summary_followup.h"

#include <algorithm>
#include <string>

#include <QObject>
#include <QStringList>

#include "griffin/summarize.h"

namespace {

const SummarySectionData* findSection(const SummarySourceData& source, qint64 index) {
    for (const SummarySectionData& s : source.sections) {
        if (s.index == index)
            return &s;
    }
    return nullptr;
}

QString rangeOf(const SummarySectionData& s) {
    if (s.firstPage > 0) {
        return s.firstPage == s.lastPage
                   ? QObject::tr("page %1").arg(s.firstPage)
                   : QObject::tr("pages %1-%2").arg(s.firstPage).arg(s.lastPage);
    }
    return QObject::tr("lines %1-%2").arg(s.firstLine).arg(s.lastLine);
}

bool hasSections(const Conversation& c) {
    return c.kind == QLatin1String("summary") && c.source && !c.source->sections.isEmpty();
}

}  // namespace

std::vector<qint64> summarySourcesFor(const SummarySourceData& source, const QString& question,
                                      int k) {
    std::vector<std::string> texts;
    texts.reserve(static_cast<size_t>(source.sections.size()));
    for (const SummarySectionData& s : source.sections) texts.push_back(s.summary.toStdString());
    std::vector<qint64> out;
    for (size_t i : griffin::rankSectionsForQuestion(question.toStdString(), texts,
                                                     static_cast<size_t>(std::max(k, 0))))
        out.push_back(source.sections[static_cast<qsizetype>(i)].index);
    return out;
}

QString summarySourcesLabel(const SummarySourceData& source, const std::vector<qint64>& sources) {
    QStringList numbers, ranges;
    for (qint64 index : sources) {
        if (const SummarySectionData* s = findSection(source, index)) {
            numbers << QString::number(index + 1);
            ranges << rangeOf(*s);
        }
    }
    if (numbers.isEmpty())
        return {};
    return (numbers.size() == 1 ? QObject::tr("From section %1 (%2)")
                                : QObject::tr("From sections %1 (%2)"))
        .arg(numbers.join(QStringLiteral(", ")), ranges.join(QStringLiteral(", ")));
}

QVector<QString> summaryModelPrefixes(const Conversation& c, const std::vector<qint64>& pending) {
    if (!hasSections(c))
        return {};
    QVector<QString> out(c.messages.size());
    for (qsizetype i = 0; i < c.messages.size(); ++i) {
        if (c.messages[i].role != ChatMessageData::Role::User)
            continue;
        const bool answered =
            i + 1 < c.messages.size() && c.messages[i + 1].role == ChatMessageData::Role::Model;
        const std::vector<qint64>& sources =
            answered ? c.messages[i + 1].sources
                     : (i + 1 == c.messages.size() ? pending : std::vector<qint64>{});
        QString prefix;
        for (qint64 index : sources) {
            if (const SummarySectionData* s = findSection(*c.source, index)) {
                prefix +=
                    QStringLiteral("[%1] (%2) %3\n").arg(index + 1).arg(rangeOf(*s), s->summary);
            }
        }
        if (!prefix.isEmpty()) {
            out[i] = QObject::tr("Sections of the document about this question:\n") + prefix +
                     QStringLiteral("\n");
        }
    }
    return out;
}
