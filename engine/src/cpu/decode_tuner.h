// SPDX-License-Identifier: Apache-2.0
// DecodeTuner: picks how far ahead the decode kernels prefetch in software (decodePrefetchBytes,
// decodePrefetchNearBytes in cpu/kernels.h) for one model by timing that model's own decode
// steps. The best distance depends on the CPU, the model's row lengths and weight type, and even
// on the moment: measured by hand it was 3 KiB plus 768 bytes into L1 on a Sapphire Rapids VM,
// none on a Zen 5 VM and 8 KiB on a Zen 4 VM, where bf16 ran 1.24-1.34x as fast with it as
// without and q4_0 the same. A table of CPUs cannot cover the machines users have; the steps a
// model decodes anyway can measure them all.
//
// How: the first rounds after a few warm-up steps, and then one round every
// kStepsBetweenRounds steps, run one step with each candidate (in an order that rotates from
// round to round) and score each step by its time over the round's mean, which cancels the
// drift of a shared machine between rounds. After kFirstRounds rounds the candidate with the
// lowest median score over the last kKeptRounds rounds is used, once it beats the one in use by
// more than kMargin (so noise does not make it switch back and forth); each change is logged.
// The prefetch distances never change a result (the kernels' tests check it), so tuning is only
// about time. The setting in use is process-wide (the kernels read it from cpu/kernels.h): two
// models decoding at the same moment on different threads may time a step under the other's
// setting now and then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace griffin::cpu {

struct PrefetchSetting {
    int64_t ahead = 0;      // bytes ahead into L2; 0: the hardware prefetcher alone
    int64_t nearAhead = 0;  // bytes ahead into L1 as well (where ahead is not 0)
    bool operator==(const PrefetchSetting&) const = default;
};

// This CPU's default (cpu/kernels.cpp) first, then none, 3 KiB + 768 into L1, 8 KiB and 16 KiB,
// without repeats.
std::vector<PrefetchSetting> decodePrefetchCandidates();

class DecodeTuner {
public:
    static constexpr int kWarmupSteps = 2;
    static constexpr int kFirstRounds = 4;
    static constexpr int kKeptRounds = 12;
    static constexpr int kStepsBetweenRounds = 64;
    static constexpr double kMargin = 0.02;

    // Starts with candidates[0]; one candidate (or none: a default setting) never tunes.
    explicit DecodeTuner(std::vector<PrefetchSetting> candidates);

    // The setting for the next decode step; then report() how long the step took. A step whose
    // time is not reported is left out.
    PrefetchSetting next();
    void report(double seconds);

    // The setting used outside the rounds.
    PrefetchSetting chosen() const { return m_candidates[m_current]; }
    const std::vector<PrefetchSetting>& candidates() const { return m_candidates; }
    // Rounds completed so far.
    int64_t rounds() const { return m_rounds; }
    // Each candidate's median score (step time over its round's mean) over the kept rounds; 0
    // before the first round.
    std::vector<double> scores() const;

private:
    void finishRound();
    // Logs the scores after a round: at info level where the choice changed from `was`, else at
    // trace level (a line every kStepsBetweenRounds steps).
    void logRound(const PrefetchSetting& was) const;

    std::vector<PrefetchSetting> m_candidates;
    size_t m_current = 0;
    int64_t m_steps = 0;       // steps reported, rounds and warm-up included
    int64_t m_sinceRound = 0;  // steps reported since the last round ended
    bool m_inRound = false;
    size_t m_position = 0;                    // steps of the current round done
    int64_t m_pending = -1;                   // candidate of the step asked for; -1 none
    bool m_pendingInRound = false;            // whether that step belongs to the round
    std::vector<double> m_roundTimes;         // per candidate, this round
    std::vector<std::vector<double>> m_kept;  // per candidate, the last kKeptRounds scores
    int64_t m_rounds = 0;
};

}  // namespace griffin::cpu
