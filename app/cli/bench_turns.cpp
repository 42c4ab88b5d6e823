// SPDX-License-Identifier: Apache-2.0
#include "cli/bench_turns.h"

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace griffin::cli {

Spread spreadOf(std::vector<double> values) {
    Spread out;
    if (values.empty())
        return out;
    std::sort(values.begin(), values.end());
    const auto at = [&](double q) {
        const double pos = q * static_cast<double>(values.size() - 1);
        const size_t lo = static_cast<size_t>(pos);
        const size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
    };
    out.median = at(0.5);
    out.q1 = at(0.25);
    out.q3 = at(0.75);
    return out;
}

Result<ContextTurns> takeTurns(Model& model, std::vector<State>& states,
                               std::vector<int32_t>& tokens, int64_t minRounds, int64_t maxRounds,
                               double budgetSeconds) {
    using Clock = std::chrono::steady_clock;
    const size_t n = states.size();
    if (tokens.size() != n || n == 0)
        return makeError(ErrorCode::InvalidArgument, "takeTurns: one token per state");
    const auto vocab = static_cast<ptrdiff_t>(model.info().config.vocabSize);
    std::vector<double> seconds(n, 0.0), stepSeconds(n, 0.0);
    ContextTurns out;
    out.roundRatios.resize(n);
    double spent = 0;
    // Round -1 is not timed: it follows whatever ran before (a probe's fork, another state's
    // steps) and would fall on the first context alone.
    for (int64_t round = -1; round < minRounds || (round < maxRounds && spent < budgetSeconds);
         ++round) {
        for (size_t c = 0; c < n; ++c) {
            const auto start = Clock::now();
            auto logits = model.step(states[c], tokens[c]);
            stepSeconds[c] = std::chrono::duration<double>(Clock::now() - start).count();
            if (!logits)
                return logits.error();
            tokens[c] = static_cast<int32_t>(
                std::max_element(logits->begin(),
                                 logits->begin() + std::min<ptrdiff_t>(vocab, logits->size())) -
                logits->begin());
        }
        if (round < 0)
            continue;
        ++out.rounds;
        for (size_t c = 0; c < n; ++c) {
            seconds[c] += stepSeconds[c];
            spent += stepSeconds[c];
            out.roundRatios[c].push_back(stepSeconds[0] / stepSeconds[c]);
        }
    }
    for (size_t c = 0; c < n; ++c) {
        out.tokensPerSecond.push_back(static_cast<double>(out.rounds) / seconds[c]);
        out.ratioSpread.push_back(spreadOf(out.roundRatios[c]));
    }
    return out;
}

}  // namespace griffin::cli
