// SPDX-License-Identifier: Apache-2.0
// StateResidence: the link between a State and the copy of it a GPU backend keeps on its device
// between forward calls (vulkan-backend.md: the state lives on the device). The State holds it
// while the device copy exists; the backend holds it to know which State its device buffers
// belong to. Both ends run on one thread.
#pragma once

#include <vector>

#include "griffin/state.h"

namespace griffin::detail {

class StateResidence {
public:
    virtual ~StateResidence() = default;

    // The State whose copy the device holds; null once that State is gone (moves update it).
    State* state() const { return m_state; }
    // The device copy is newer than the host buffers (set after a forward on the device).
    bool hostStale = false;
    // The host buffers changed since the device copy was made (it must be uploaded again).
    bool deviceStale = false;

    // Links `state` to this residence (unlinking whatever state it held).
    void attach(State& state, std::shared_ptr<StateResidence> self);
    // Unlinks the state (its host buffers are left as they are).
    void detach();

    // Brings `state` up to date on the host and unlinks it from whatever device holds it.
    static void release(State& state);

    // Raw host buffers, for the backend's uploads and downloads (no synchronisation).
    static std::vector<State::RecurrentLayer>& recurrent(State& s) { return s.m_recurrent; }
    static std::vector<State::AttentionLayer>& attention(State& s) { return s.m_attention; }

protected:
    // Copies the device copy into the host buffers of state(); called with hostStale set.
    // Returns false (after logging) when the device could not be read.
    virtual bool download(State& state) = 0;

private:
    friend class griffin::State;
    State* m_state = nullptr;
};

}  // namespace griffin::detail
