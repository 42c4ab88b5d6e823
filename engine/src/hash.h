// SPDX-License-Identifier: Apache-2.0
// FNV-1a 64: a small non-cryptographic hash for fingerprints and checksums of local files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace griffin {

inline uint64_t fnv1a64(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ull) {
    for (char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;
    }
    return hash;
}

// 16 lowercase hex digits.
std::string hex64(uint64_t value);

}  // namespace griffin
