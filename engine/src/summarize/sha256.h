// SPDX-License-Identifier: Apache-2.0
// SHA-256 (FIPS 180-4), incremental: identifies a summarised document in its result and session.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace griffin::detail {

// Not thread-safe (a plain value type).
class Sha256 {
public:
    Sha256();
    void update(std::string_view bytes);
    // The digest as 64 lowercase hex digits. Ends the hash: call update() no more.
    std::string hexDigest();

private:
    void compress(const unsigned char* block);
    std::array<uint32_t, 8> m_h;
    std::array<unsigned char, 64> m_block{};
    size_t m_blockSize = 0;
    uint64_t m_totalBytes = 0;
};

}  // namespace griffin::detail
