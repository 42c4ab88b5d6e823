// SPDX-License-Identifier: Apache-2.0
// The flatness figure of `griffin bench`: decode steps at several contexts taken one per context
// in turn, so that every context meets the machine at the same moments.
#pragma once

#include <cstdint>
#include <vector>

#include "griffin/model.h"
#include "griffin/result.h"
#include "griffin/state.h"

namespace griffin::cli {

// The median and quartiles of some values, each interpolated between the two nearest ranks.
struct Spread {
    double median = 0, q1 = 0, q3 = 0;
};
Spread spreadOf(std::vector<double> values);

struct ContextTurns {
    int64_t rounds = 0;                   // timed rounds, one step per context each
    std::vector<double> tokensPerSecond;  // per context: its steps over their total time
    // Per context, per round: the first context's step time in that round over this context's
    // (its speed relative to the first context's, measured a step apart), and their spread.
    std::vector<std::vector<double>> roundRatios;
    std::vector<Spread> ratioSpread;
};

// Rounds of one step per state, in order, each state fed its token and then its own greedy
// choices (tokens is updated). One untimed round first, then at least minRounds timed ones, and
// more up to maxRounds while the timed rounds so far took under budgetSeconds: one round per
// decode step on a 2B model left the ratio's error at a few percent (a shared VM's bandwidth
// swings from one step to the next), more rounds cost little on small and mid-size models.
// states and tokens have the same size.
Result<ContextTurns> takeTurns(Model& model, std::vector<State>& states,
                               std::vector<int32_t>& tokens, int64_t minRounds, int64_t maxRounds,
                               double budgetSeconds);

}  // namespace griffin::cli
