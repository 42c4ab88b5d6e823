// SPDX-License-Identifier: Apache-2.0
#include "griffin/lab.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace griffin {

Result<TextScore> scoreTokens(Model& model, std::span<const int32_t> ids,
                              const ScoreOptions& options) {
    if (ids.size() < 2)
        return makeError(ErrorCode::InvalidArgument, "scoring needs at least two tokens");
    const int64_t rowSize = model.logitsSize();
    const int64_t vocab =
        options.vocabLimit > 0 ? std::min<int64_t>(options.vocabLimit, rowSize) : rowSize;
    const int64_t chunk = std::max<int64_t>(1, options.chunkSize);
    const int64_t total = static_cast<int64_t>(ids.size());

    TextScore score;
    score.logprobs.reserve(ids.size() - 1);
    State state = model.newState();
    ForwardOptions forward;
    forward.allLogits = true;
    forward.chunkSize = chunk;
    // Every position but the last predicts the next id.
    for (int64_t begin = 0; begin < total - 1; begin += chunk) {
        if (options.stop.stop_requested())
            return makeError(ErrorCode::Cancelled, "scoring cancelled");
        const int64_t count = std::min(chunk, total - 1 - begin);
        auto logits = model.prefill(
            state, ids.subspan(static_cast<size_t>(begin), static_cast<size_t>(count)), forward);
        if (!logits)
            return logits.error();
        for (int64_t t = 0; t < count; ++t) {
            const float* row = logits->data() + t * rowSize;
            const int32_t next = ids[static_cast<size_t>(begin + t + 1)];
            if (next < 0 || next >= vocab) {
                return makeError(ErrorCode::InvalidArgument,
                                 "token id " + std::to_string(next) + " is outside the vocabulary");
            }
            const float maxLogit = *std::max_element(row, row + vocab);
            double sum = 0.0;
            for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - maxLogit);
            const double logprob = double(row[next]) - maxLogit - std::log(sum);
            score.logprobs.push_back(logprob);
            score.nll -= logprob;
        }
        if (options.progress)
            options.progress(begin + count, total - 1);
    }
    score.tokens = total - 1;
    score.perplexity = std::exp(score.nll / static_cast<double>(score.tokens));
    return score;
}

void SnapshotTrail::offer(int64_t n, const State& state) {
    if (n < 0 || n % m_stride != 0 || m_snapshots.count(n) != 0)
        return;
    const size_t each = std::max<size_t>(1, state.bytes());
    const size_t capacity = std::max<size_t>(1, m_budget / each);
    while (m_snapshots.size() + 1 > capacity && m_stride < (int64_t{1} << 40)) {
        // Thin out: keep the snapshots on a doubled stride (0 is on every stride).
        m_stride *= 2;
        std::erase_if(m_snapshots, [&](const auto& kv) { return kv.first % m_stride != 0; });
        if (n % m_stride != 0)
            return;
    }
    if (m_snapshots.size() + 1 > capacity)
        return;
    m_snapshots.emplace(n, state.clone());
}

const State* SnapshotTrail::nearest(int64_t n, int64_t* index) const {
    auto it = m_snapshots.upper_bound(n);
    if (it == m_snapshots.begin())
        return nullptr;
    --it;
    if (index != nullptr)
        *index = it->first;
    return &it->second;
}

size_t SnapshotTrail::bytes() const {
    size_t total = 0;
    for (const auto& kv : m_snapshots) total += kv.second.bytes();
    return total;
}

Result<State> stateBeforeToken(Model& model, const SnapshotTrail& trail,
                               std::span<const int32_t> reply, int64_t n) {
    if (n < 0 || n > static_cast<int64_t>(reply.size()))
        return makeError(ErrorCode::InvalidArgument, "branch point outside the reply");
    int64_t index = 0;
    const State* snapshot = trail.nearest(n, &index);
    if (snapshot == nullptr)
        return makeError(ErrorCode::NotFound,
                         "no snapshot at or before reply token " + std::to_string(n));
    State state = snapshot->clone();
    for (int64_t i = index; i < n; ++i) {
        auto logits = model.step(state, reply[static_cast<size_t>(i)]);
        if (!logits)
            return logits.error();
    }
    return state;
}

}  // namespace griffin
