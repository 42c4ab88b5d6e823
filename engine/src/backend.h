// SPDX-License-Identifier: Apache-2.0
// Backend: runs forward chunks of the Griffin network over a State. The Model validates input
// and splits prefills into chunks; a backend only computes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "griffin/model.h"

namespace griffin {

// The greedy choice over `logits`: the first maximum and exp(0) / sum(exp(l - max)), the sum in
// double over the float-rounded terms (Sampler's greedy numbers, bit for bit).
GreedyToken greedyChoice(std::span<const float> logits);

class Backend {
public:
    virtual ~Backend() = default;
    virtual BackendKind kind() const = 0;

    // Advances `state` over `tokens` (positions state.position() onward; ids already checked)
    // and writes the logits of every token ([T, logitsSize]) when `allLogits`, else of the last
    // token only, into `logits`; a null `logits` skips the LM head.
    virtual Status forward(State& state, std::span<const int32_t> tokens, bool allLogits,
                           float* logits) = 0;

    // One token (id already checked), then the greedy choice among logits [0, vocabLimit) of its
    // row of `logitsSize`. This default runs forward() and reduces the row on the host
    // (greedyChoice).
    virtual Result<GreedyToken> forwardGreedy(State& state, int32_t token, int64_t logitsSize,
                                              int32_t vocabLimit);

    void setLayerObserver(LayerObserver observer) { m_observer = std::move(observer); }
    virtual BackendCounters counters() const { return {}; }
    // See Model::setProfiling.
    virtual bool setProfiling(bool) { return false; }

protected:
    // Whether a layer observer is set (a backend may skip capturing hidden states otherwise).
    bool observing() const { return static_cast<bool>(m_observer); }
    void observe(int64_t layer, const float* x, int64_t rows, int64_t width) const {
        if (m_observer)
            m_observer(layer, x, rows, width);
    }

private:
    LayerObserver m_observer;
    std::vector<float> m_greedyLogits;
};

}  // namespace griffin
