// SPDX-License-Identifier: Apache-2.0
#include "griffin/state.h"

#include <algorithm>

namespace griffin {

State State::clone() const {
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
