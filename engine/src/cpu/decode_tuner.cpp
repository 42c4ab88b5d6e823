// SPDX-License-Identifier: Apache-2.0
#include "cpu/decode_tuner.h"

#include <algorithm>
#include <string>

#include "cpu/kernels.h"
#include "log.h"

namespace griffin::cpu {

std::vector<PrefetchSetting> decodePrefetchCandidates() {
    const PrefetchSetting first{defaultDecodePrefetchBytes(), defaultDecodePrefetchBytes() != 0
                                                                  ? defaultDecodePrefetchNearBytes()
                                                                  : 0};
    const PrefetchSetting others[] = {{0, 0}, {3 * 1024, 768}, {8 * 1024, 0}, {16 * 1024, 0}};
    std::vector<PrefetchSetting> out{first};
    for (const PrefetchSetting& s : others) {
        if (std::find(out.begin(), out.end(), s) == out.end())
            out.push_back(s);
    }
    return out;
}

DecodeTuner::DecodeTuner(std::vector<PrefetchSetting> candidates)
    : m_candidates(std::move(candidates)) {
    if (m_candidates.empty())
        m_candidates.push_back({});
    m_roundTimes.assign(m_candidates.size(), 0.0);
    m_kept.assign(m_candidates.size(), {});
}

PrefetchSetting DecodeTuner::next() {
    const size_t n = m_candidates.size();
    m_pendingInRound = false;
    m_pending = static_cast<int64_t>(m_current);
    if (n < 2 || m_steps < kWarmupSteps)
        return m_candidates[m_current];
    if (!m_inRound && (m_rounds < kFirstRounds || m_sinceRound >= kStepsBetweenRounds)) {
        m_inRound = true;
        m_position = 0;
    }
    if (m_inRound) {
        // Round r visits the candidates from r mod n on.
        m_pending = static_cast<int64_t>((static_cast<size_t>(m_rounds) + m_position) % n);
        m_pendingInRound = true;
    }
    return m_candidates[static_cast<size_t>(m_pending)];
}

void DecodeTuner::report(double seconds) {
    if (m_pending < 0)
        return;  // no step asked for
    const size_t which = static_cast<size_t>(m_pending);
    m_pending = -1;
    ++m_steps;
    if (!m_pendingInRound) {
        ++m_sinceRound;
        return;
    }
    m_roundTimes[which] = seconds;
    if (++m_position == m_candidates.size()) {
        const PrefetchSetting was = chosen();
        finishRound();
        logRound(was);
    }
}

// Not in cpu_backend.cpp: GCC 12 at -O3 with the sanitizers warns (-Wstringop-overflow) inside
// fmt's parsing of a format spec.
void DecodeTuner::logRound(const PrefetchSetting& was) const {
    const auto log = logger(Component::Cpu);
    const PrefetchSetting now = chosen();
    const auto level = now == was ? spdlog::level::trace : spdlog::level::info;
    if (!log->should_log(level))
        return;
    std::string scores;
    const std::vector<double> score = this->scores();
    for (size_t c = 0; c < score.size(); ++c) {
        const PrefetchSetting& s = m_candidates[c];
        scores +=
            fmt::format("{}{}/{}: {:.3f}", c == 0 ? "" : ", ", s.ahead, s.nearAhead, score[c]);
    }
    log->log(level,
             "decode prefetch after {} rounds: {}/{} bytes ahead into L2/L1{} (median step time "
             "over its round's mean: {})",
             m_rounds, now.ahead, now.nearAhead,
             now == was ? "" : fmt::format(", was {}/{}", was.ahead, was.nearAhead), scores);
}

void DecodeTuner::finishRound() {
    m_inRound = false;
    m_sinceRound = 0;
    ++m_rounds;
    double mean = 0;
    for (double t : m_roundTimes) mean += t;
    mean /= static_cast<double>(m_roundTimes.size());
    if (!(mean > 0))
        return;  // a clock that did not move: nothing learned
    for (size_t c = 0; c < m_candidates.size(); ++c) {
        std::vector<double>& kept = m_kept[c];
        kept.push_back(m_roundTimes[c] / mean);
        if (kept.size() > static_cast<size_t>(kKeptRounds))
            kept.erase(kept.begin());
    }
    if (m_rounds < kFirstRounds)
        return;
    const std::vector<double> score = scores();
    size_t best = m_current;
    for (size_t c = 0; c < score.size(); ++c) {
        if (score[c] < score[best])
            best = c;
    }
    if (score[best] < score[m_current] * (1.0 - kMargin))
        m_current = best;
}

std::vector<double> DecodeTuner::scores() const {
    std::vector<double> out(m_candidates.size(), 0.0);
    for (size_t c = 0; c < m_candidates.size(); ++c) {
        std::vector<double> v = m_kept[c];
        if (v.empty())
            continue;
        std::sort(v.begin(), v.end());
        const size_t h = v.size() / 2;
        out[c] = v.size() % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
    }
    return out;
}

}  // namespace griffin::cpu
