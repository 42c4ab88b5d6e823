// SPDX-License-Identifier: Apache-2.0
#include "cli/summary_progress.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace griffin::cli {
namespace {

constexpr auto kPlainInterval = std::chrono::seconds(5);
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 24;

std::string describe(const SummaryProgress& p) {
    std::string text = summaryPhaseName(p.phase);
    if (p.phase == SummaryPhase::Reading) {
        if (p.bytesTotal > 0)
            text += " " + std::to_string(100 * p.bytesDone / p.bytesTotal) + "%";
        return text;
    }
    if (p.phase == SummaryPhase::Combining)
        text += " (level " + std::to_string(p.level) + ")";
    if (p.chunks > 0) {
        text += std::string(p.phase == SummaryPhase::Combining ? " group " : " chunk ") +
                std::to_string(p.chunk) + "/" + std::to_string(p.chunks);
    }
    if (p.tokensTotal > 0)
        text += ", " + shortCount(p.tokensDone) + "/" + shortCount(p.tokensTotal) + " tokens";
    if (p.tokensPerS > 0.0)
        text += ", " + shortCount(std::llround(p.tokensPerS)) + " tok/s";
    if (p.etaS >= 0.0)
        text += ", ETA " + clockTime(p.etaS);
    return text;
}

}  // namespace

std::string shortCount(int64_t n) {
    char buf[32];
    if (n < 1000)
        return std::to_string(n);
    if (n < 1'000'000)
        std::snprintf(buf, sizeof buf, "%.1fk", static_cast<double>(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
    return buf;
}

std::string clockTime(double seconds) {
    const auto s = static_cast<long long>(std::llround(seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

void SummaryProgressPrinter::update(const SummaryProgress& p) {
    if (p.resumed && !m_announcedResume) {
        m_announcedResume = true;
        finish();
        // A finished session answers with one Done event.
        std::cerr << (p.phase == SummaryPhase::Done && m_chunk < 0
                          ? "summarize: already done; the result comes from the saved session\n"
                          : "summarize: resuming the saved session\n");
    }
    const auto now = std::chrono::steady_clock::now();
    const bool changed = p.phase != m_phase || p.chunk != m_chunk;
    m_phase = p.phase;
    m_chunk = p.chunk;
    if (m_terminal) {
        if (!changed && now - m_lastLine < kRedrawInterval)
            return;
        m_lastLine = now;
        double fraction = 0.0;
        if (p.phase == SummaryPhase::Reading && p.bytesTotal > 0)
            fraction = static_cast<double>(p.bytesDone) / static_cast<double>(p.bytesTotal);
        else if (p.phase == SummaryPhase::Combining && p.chunks > 0)
            fraction = static_cast<double>(p.chunk - 1) / static_cast<double>(p.chunks);
        else if (p.tokensTotal > 0)
            fraction = static_cast<double>(p.tokensDone) / static_cast<double>(p.tokensTotal);
        if (p.phase == SummaryPhase::Done)
            fraction = 1.0;
        const int filled = static_cast<int>(std::lround(fraction * kBarWidth));
        std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                          std::string(static_cast<size_t>(kBarWidth - filled), '.') + "] ";
        // \x1b[2K clears the line before redrawing it.
        std::cerr << "\x1b[2K\r" << bar << describe(p) << std::flush;
        m_drawn = true;
        return;
    }
    if (!changed && (now - m_lastLine < kPlainInterval || p.phase == SummaryPhase::Reading))
        return;
    m_lastLine = now;
    std::cerr << "summarize: " << describe(p) << "\n" << std::flush;
}

void SummaryProgressPrinter::finish() {
    if (m_drawn)
        std::cerr << "\n" << std::flush;
    m_drawn = false;
}

}  // namespace griffin::cli
