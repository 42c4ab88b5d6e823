// SPDX-License-Identifier: Apache-2.0
// Prompt-lab building blocks: scoring a text under the model (perplexity, per-token
// log-probabilities) and a bounded trail of state snapshots along a reply, so a branch at any
// token restores a nearby snapshot instead of re-running the prompt. Qt-free.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <stop_token>
#include <vector>

#include "griffin/model.h"
#include "griffin/result.h"

namespace griffin {

struct ScoreOptions {
    // Only ids below this take part in the softmax (the tokenizer's vocabulary; 0 = every
    // logits row).
    int32_t vocabLimit = 0;
    int64_t chunkSize = 64;  // tokens per forward chunk (bounds the [chunk, vocab] logits)
    std::function<void(int64_t, int64_t)> progress;  // (tokens done, total)
    std::stop_token stop;
};

struct TextScore {
    int64_t tokens = 0;       // tokens scored: every id after the first
    double nll = 0.0;         // total negative log-likelihood, natural log
    double perplexity = 0.0;  // exp(nll / tokens)
    // logprobs[i] = log p(ids[i + 1] | ids[0..i]).
    std::vector<double> logprobs;
};

// Scores `ids` (the first is the context start, normally BOS; it is not scored) on a fresh
// state. Needs at least two ids. Cancelled when `stop` is requested.
Result<TextScore> scoreTokens(Model& model, std::span<const int32_t> ids,
                              const ScoreOptions& options = {});

// Snapshots of the state before reply token n, for n on a stride that doubles whenever the
// budget would be exceeded (snapshot 0 is always kept). Snapshots are fixed-size, so the trail
// holds at most max(1, budget / state size) of them.
class SnapshotTrail {
public:
    explicit SnapshotTrail(size_t budgetBytes) : m_budget(budgetBytes) {}
    SnapshotTrail(SnapshotTrail&&) noexcept = default;
    SnapshotTrail& operator=(SnapshotTrail&&) noexcept = default;

    // Offers the state before reply token n (n increasing from 0); copies it when n is on the
    // stride.
    void offer(int64_t n, const State& state);
    // The kept snapshot with the largest index <= n, or nullptr (with *index untouched).
    const State* nearest(int64_t n, int64_t* index) const;
    void clear() { m_snapshots.clear(); }

    size_t count() const { return m_snapshots.size(); }
    size_t bytes() const;
    int64_t stride() const { return m_stride; }

private:
    size_t m_budget;
    int64_t m_stride = 1;
    std::map<int64_t, State> m_snapshots;
};

// The state before reply token n of `reply`: the nearest snapshot at or before n, advanced one
// step per token over reply[index, n) — the same path generation took, so the result is
// bit-identical to the state generation had there. NotFound when the trail has no snapshot at
// or before n.
Result<State> stateBeforeToken(Model& model, const SnapshotTrail& trail,
                               std::span<const int32_t> reply, int64_t n);

}  // namespace griffin
