// SPDX-License-Identifier: Apache-2.0
// bfloat16 and IEEE half conversions (griffin-spec.md §4.5).
#pragma once

#include <bit>
#include <cstdint>

namespace griffin {

inline float bf16ToFloat(uint16_t bits) {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// Round to nearest even; NaN stays NaN.
inline uint16_t floatToBf16(float value) {
    uint32_t bits = std::bit_cast<uint32_t>(value);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0) {
        return static_cast<uint16_t>((bits >> 16) | 0x0040u);
    }
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

inline float roundToBf16(float value) {
    return bf16ToFloat(floatToBf16(value));
}

float f16ToFloat(uint16_t bits);

}  // namespace griffin
