// SPDX-License-Identifier: Apache-2.0
#include "hash.h"

namespace griffin {

std::string hex64(uint64_t value) {
    static const char* kDigits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<size_t>(i)] = kDigits[value & 0xF];
    return out;
}

}  // namespace griffin
