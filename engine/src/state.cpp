// SPDX-License-Identifier: Apache-2.0
#include "griffin/state.h"

#include <algorithm>
#include <utility>

#include "state_residence.h"

namespace griffin {

namespace detail {

void StateResidence::attach(State& state, std::shared_ptr<StateResidence> self) {
    detach();
    m_state = &state;
    state.m_residence = std::move(self);
    hostStale = false;
    deviceStale = false;
}

void StateResidence::detach() {
    if (m_state != nullptr) {
        State* s = std::exchange(m_state, nullptr);
        s->m_residence.reset();  // may destroy *this: nothing after it
    }
}

void StateResidence::release(State& state) {
    state.hostRead();
    state.detachResidence();
}

}  // namespace detail

State::~State() {
    detachResidence();
}

State::State(State&& other) noexcept
    : m_recurrent(std::move(other.m_recurrent)),
      m_attention(std::move(other.m_attention)),
      m_position(other.m_position),
      m_residence(std::move(other.m_residence)) {
    if (m_residence)
        m_residence->m_state = this;
}

State& State::operator=(State&& other) noexcept {
    if (this != &other) {
        detachResidence();
        m_recurrent = std::move(other.m_recurrent);
        m_attention = std::move(other.m_attention);
        m_position = other.m_position;
        m_residence = std::move(other.m_residence);
        if (m_residence)
            m_residence->m_state = this;
    }
    return *this;
}

void State::detachResidence() {
    if (m_residence) {
        // The device copy is abandoned with the link; the backend sees state() == null.
        m_residence->m_state = nullptr;
        m_residence.reset();
    }
}

void State::pullFromDevice(bool forWrite) const {
    detail::StateResidence& r = *m_residence;
    if (r.hostStale) {
        if (r.download(const_cast<State&>(*this)))
            r.hostStale = false;
    }
    if (forWrite)
        r.deviceStale = true;
}

State State::clone() const {
    hostRead();
    State copy;
    copy.m_recurrent = m_recurrent;
    copy.m_attention = m_attention;
    copy.m_position = m_position;
    return copy;
}

size_t State::bytes() const {
    size_t n = sizeof(m_position);
    for (const RecurrentLayer& l : m_recurrent) {
        n += (l.h.size() + l.convTail.size()) * sizeof(float);
    }
    for (const AttentionLayer& l : m_attention) {
        n += (l.keys.size() + l.values.size()) * sizeof(float) +
             l.slotPositions.size() * sizeof(int64_t);
    }
    return n;
}

void State::reset() {
    if (m_residence) {
        // Every value is overwritten here: nothing to bring back, the device copy is stale.
        m_residence->hostStale = false;
        m_residence->deviceStale = true;
    }
    for (RecurrentLayer& l : m_recurrent) {
        std::fill(l.h.begin(), l.h.end(), 0.0f);
        std::fill(l.convTail.begin(), l.convTail.end(), 0.0f);
    }
    for (AttentionLayer& l : m_attention) {
        std::fill(l.keys.begin(), l.keys.end(), 0.0f);
        std::fill(l.values.begin(), l.values.end(), 0.0f);
        std::fill(l.slotPositions.begin(), l.slotPositions.end(), int64_t{-1});
    }
    m_position = 0;
}

}  // namespace griffin
