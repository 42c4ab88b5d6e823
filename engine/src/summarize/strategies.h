// SPDX-License-Identifier: Apache-2.0
// The three strategies. Each reads the session's progress, skips what an earlier run finished,
// saves after every unit of work, and returns the final summary (or Cancelled via job.cancelled()).
#pragma once

#include <string>
#include <vector>

#include "summarize/summary_job.h"

namespace griffin::detail {

// The document prefilled chunk by chunk into one state, then the instruction and the answer.
Result<std::string> runStream(SummaryJob& job);
// Chunk summaries from forks of one instruction-prefix state, then combined level by level.
// `levels`: combining levels used (0 for a single chunk).
Result<std::string> runMapReduce(SummaryJob& job, int& levels);
// A running summary rewritten with each chunk.
Result<std::string> runRefine(SummaryJob& job);

// The section a chunk's summary describes.
SummarySection sectionOf(const Chunk& chunk, std::string summary);
// Checks that a chunk made now is the one an earlier run summarised (Corrupt otherwise).
Status checkSameChunk(const SummaryJob& job, const SummarySection& saved, const Chunk& chunk);

}  // namespace griffin::detail
