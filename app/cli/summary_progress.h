// SPDX-License-Identifier: Apache-2.0
// SummaryProgressPrinter: summarisation progress on stderr — a redrawn bar when stderr is a
// terminal, otherwise plain lines (one per phase or chunk, and every few seconds at most).
#pragma once

#include <chrono>
#include <string>

#include "griffin/summarize.h"

namespace griffin::cli {

// Not thread-safe; call from the summarising thread.
class SummaryProgressPrinter {
public:
    explicit SummaryProgressPrinter(bool terminal) : m_terminal(terminal) {}
    void update(const SummaryProgress& p);
    // Ends the bar's line (before other messages).
    void finish();

private:
    bool m_terminal;
    bool m_drawn = false;
    bool m_announcedResume = false;
    SummaryPhase m_phase = SummaryPhase::Done;
    int64_t m_chunk = -1;
    std::chrono::steady_clock::time_point m_lastLine;
};

// "1.2k", "45.0k", "3.1M" for counts; "0:42", "1:02:03" for seconds.
std::string shortCount(int64_t n);
std::string clockTime(double seconds);

}  // namespace griffin::cli
