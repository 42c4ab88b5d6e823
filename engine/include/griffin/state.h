// SPDX-License-Identifier: Apache-2.0
// State: the fixed-size decode state of one sequence (griffin-spec.md §3). Its size depends only
// on the model's configuration, never on how many tokens it has consumed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace griffin {

namespace detail {
class StateResidence;
}

// Made by Model::newState(). Not thread-safe. Copies are explicit (clone()) because a state of
// a 2B model is tens of megabytes. All buffers are float32 (the CPU reference keeps the conv
// tail and the K/V ring in f32 as well as the RG-LRU state).
//
// A GPU backend keeps the state it last ran on its device between calls; the host buffers are
// brought up to date on first access (and the device copy is dropped when the host writes), so
// clone(), saving and the CPU backend always see the current values. Use a state on the thread
// of the model that runs it.
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
    ~State();
    State(State&& other) noexcept;
    State& operator=(State&& other) noexcept;
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

    // Layer counts (no device read-back).
    size_t recurrentLayerCount() const { return m_recurrent.size(); }
    size_t attentionLayerCount() const { return m_attention.size(); }

    // Engine internals: backends read and advance these. Reading brings a newer device copy back
    // first; the non-const forms also mark the device copy out of date.
    std::vector<RecurrentLayer>& recurrentLayers() {
        hostWrite();
        return m_recurrent;
    }
    const std::vector<RecurrentLayer>& recurrentLayers() const {
        hostRead();
        return m_recurrent;
    }
    std::vector<AttentionLayer>& attentionLayers() {
        hostWrite();
        return m_attention;
    }
    const std::vector<AttentionLayer>& attentionLayers() const {
        hostRead();
        return m_attention;
    }
    void setPosition(int64_t position) { m_position = position; }

private:
    friend class detail::StateResidence;
    void hostRead() const {
        if (m_residence)
            pullFromDevice(false);
    }
    void hostWrite() {
        if (m_residence)
            pullFromDevice(true);
    }
    void pullFromDevice(bool forWrite) const;
    void detachResidence();

    std::vector<RecurrentLayer> m_recurrent;
    std::vector<AttentionLayer> m_attention;
    int64_t m_position = 0;
    // Set while a device holds a copy of this state (state_residence.h).
    std::shared_ptr<detail::StateResidence> m_residence;
};

}  // namespace griffin
