// SPDX-License-Identifier: Apache-2.0
// Follow-up questions in a `summary` conversation: which section summaries a question is about
// (the app chooses, so the answer can name its sources even when the model would not), the
// line "From sections 2, 5 (lines 40-80, 120-160)" shown under the reply, and the text the model
// reads before each such question.
#pragma once

#include <vector>

#include <QString>
#include <QVector>

#include "services/conversation.h"

// At most this many sections go with one question.
inline constexpr int kFollowUpSections = 2;

// The sections (SummarySectionData::index) of `source` most relevant to `question`, best first;
// empty when none shares a word with it or the source has no sections (stream summaries).
std::vector<qint64> summarySourcesFor(const SummarySourceData& source, const QString& question,
                                      int k = kFollowUpSections);

// "From sections 2, 5 (lines 40-80, 120-160)" / "From section 3 (pages 4-6)"; numbers are
// 1-based as in the system prompt. Sections the source does not have are left out; empty when
// none is left.
QString summarySourcesLabel(const SummarySourceData& source, const std::vector<qint64>& sources);

// For GenerationRequest::modelPrefixes of conversation `c` (a `summary` with sections): per
// message, the chosen sections' summaries to put before a user message for the model. A question
// answered already takes the sources stored on its reply; the last message, a question not yet
// answered, takes `pending`. Empty strings elsewhere; an empty list for other conversations.
QVector<QString> summaryModelPrefixes(const Conversation& c, const std::vector<qint64>& pending);
