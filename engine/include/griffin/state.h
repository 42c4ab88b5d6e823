// SPDX-License-Identifier: Apache-2.0
// State: the fixed-size decode state of one sequence (griffin-spec.md §3). Its size depends only
// on the model's configuration, never on how many tokens it has consumed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace griffin {

// Made by Model::newState(). Not thread-safe. Copies are explicit (clone()) because a state of
// a 2B model is tens of megabytes. All buffers are float32 (the CPU reference keeps the conv
// tail and the K/V ring in f32 as well as the RG-LRU state).
class State {
public:
    struct RecurrentLayer {
        std::vector<float> h;  // [lruWidth] RG-LRU hidden state
        std::vector<float>
            convTail;  // [convWidth - 1, lruWidth] last linear_x outputs, oldest first
    };
    struct AttentionLayer {
        std::vector<float> keys;  // [window, numKvHeads * headDim] post-RoPE keys, slot p % window
        std::vector<float> values;           // [window, numKvHeads * headDim]
        std::vector<int64_t> slotPositions;  // [window] position held by each slot, -1 = empty
    };

    State() = default;
    State(State&&) noexcept = default;
    State& operator=(State&&) noexcept = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // A deep copy (for branching a conversation).
    [[nodiscard]] State clone() const;

    // Number of tokens consumed so far, which is also the position of the next token.
    int64_t position() const { return m_position; }
    // Bytes held by the buffers; constant for a given model.
    size_t bytes() const;
    // Back to the empty state (position 0, all buffers zero, ring slots empty).
    void reset();

    // Engine internals: backends read and advance these.
    std::vector<RecurrentLayer>& recurrentLayers() { return m_recurrent; }
    const std::vector<RecurrentLayer>& recurrentLayers() const { return m_recurrent; }
    std::vector<AttentionLayer>& attentionLayers() { return m_attention; }
    const std::vector<AttentionLayer>& attentionLayers() const { return m_attention; }
    void setPosition(int64_t position) { m_position = position; }

private:
    std::vector<RecurrentLayer> m_recurrent;
    std::vector<AttentionLayer> m_attention;
    int64_t m_position = 0;
};

}  // namespace griffin
