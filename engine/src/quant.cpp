// SPDX-License-Identifier: Apache-2.0
#include "quant.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "bf16.h"

namespace griffin {

std::optional<WeightType> parseWeightType(std::string_view name) {
    if (name == "f32")
        return WeightType::F32;
    if (name == "bf16")
        return WeightType::BF16;
    if (name == "f16")
        return WeightType::F16;
    if (name == "q8_0")
        return WeightType::Q8_0;
    if (name == "q4_0")
        return WeightType::Q4_0;
    return std::nullopt;
}

bool isBlockQuantized(WeightType type) {
    return type == WeightType::Q8_0 || type == WeightType::Q4_0;
}

size_t rowBytes(WeightType type, int64_t cols) {
    if (cols < 0)
        return 0;
    const size_t n = static_cast<size_t>(cols);
    switch (type) {
        case WeightType::F32:
            return n * 4;
        case WeightType::BF16:
        case WeightType::F16:
            return n * 2;
        case WeightType::Q8_0:
            return n % kQuantBlock == 0 ? n / kQuantBlock * sizeof(BlockQ8_0) : 0;
        case WeightType::Q4_0:
            return n % kQuantBlock == 0 ? n / kQuantBlock * sizeof(BlockQ4_0) : 0;
    }
    return 0;
}

size_t elementAlignment(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return 4;
        case WeightType::BF16:
        case WeightType::F16:
            return 2;
        default:
            return 1;
    }
}

float f16ToFloatValue(uint16_t bits) {
    return f16ToFloat(bits);
}

uint16_t floatToF16(float value) {
    const uint32_t bits = std::bit_cast<uint32_t>(value);
    const uint32_t sign = (bits >> 16) & 0x8000u;
    const uint32_t absBits = bits & 0x7FFFFFFFu;
    if (absBits >= 0x7F800000u)  // inf or NaN
        return static_cast<uint16_t>(sign | 0x7C00u | (absBits > 0x7F800000u ? 0x200u : 0u));
    if (absBits >= 0x477FF000u)  // rounds to >= 65520: overflow
        return static_cast<uint16_t>(sign | 0x7C00u);
    if (absBits < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        // value / 2^-24 rounded to nearest even, in float arithmetic (exact for these ranges).
        const float scaled = std::fabs(value) * 16777216.0f;
        const float rounded = std::nearbyint(scaled);
        return static_cast<uint16_t>(sign | static_cast<uint32_t>(rounded));
    }
    // Normal: rebias the exponent, round the mantissa from 23 to 10 bits, nearest even.
    uint32_t h = ((absBits >> 13) - ((127 - 15) << 10));
    const uint32_t rest = absBits & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0))
        ++h;  // may carry into the exponent, which is still correct
    return static_cast<uint16_t>(sign | h);
}

void quantizeRow(WeightType type, const float* src, int64_t cols, void* dst) {
    const size_t n = static_cast<size_t>(cols);
    switch (type) {
        case WeightType::F32:
            std::memcpy(dst, src, n * 4);
            return;
        case WeightType::BF16: {
            auto* out = static_cast<uint16_t*>(dst);
            for (size_t i = 0; i < n; ++i) out[i] = floatToBf16(src[i]);
            return;
        }
        case WeightType::F16: {
            auto* out = static_cast<uint16_t*>(dst);
            for (size_t i = 0; i < n; ++i) out[i] = floatToF16(src[i]);
            return;
        }
        case WeightType::Q8_0: {
            auto* blocks = static_cast<BlockQ8_0*>(dst);
            for (size_t b = 0; b < n / kQuantBlock; ++b) {
                const float* x = src + b * kQuantBlock;
                float amax = 0.0f;
                for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(x[i]));
                const float d = amax / 127.0f;
                const float inv = d != 0.0f ? 1.0f / d : 0.0f;
                blocks[b].d = floatToF16(d);
                for (int i = 0; i < kQuantBlock; ++i) {
                    blocks[b].qs[i] = static_cast<int8_t>(std::lround(x[i] * inv));
                }
            }
            return;
        }
        case WeightType::Q4_0: {
            auto* blocks = static_cast<BlockQ4_0*>(dst);
            for (size_t b = 0; b < n / kQuantBlock; ++b) {
                const float* x = src + b * kQuantBlock;
                // The signed value of largest magnitude maps to -8, so the full range [-8, 7]
                // is used on the side that matters most.
                float amax = 0.0f, extreme = 0.0f;
                for (int i = 0; i < kQuantBlock; ++i) {
                    if (std::fabs(x[i]) > amax) {
                        amax = std::fabs(x[i]);
                        extreme = x[i];
                    }
                }
                const float d = extreme / -8.0f;
                const float inv = d != 0.0f ? 1.0f / d : 0.0f;
                blocks[b].d = floatToF16(d);
                for (int j = 0; j < kQuantBlock / 2; ++j) {
                    const int lo = std::min(15, static_cast<int>(x[j] * inv + 8.5f));
                    const int hi = std::min(15, static_cast<int>(x[j + 16] * inv + 8.5f));
                    blocks[b].qs[j] =
                        static_cast<uint8_t>(std::max(0, lo) | (std::max(0, hi) << 4));
                }
            }
            return;
        }
    }
}

void dequantizeRow(WeightType type, const void* src, int64_t cols, float* dst) {
    const size_t n = static_cast<size_t>(cols);
    switch (type) {
        case WeightType::F32:
            std::memcpy(dst, src, n * 4);
            return;
        case WeightType::BF16: {
            const auto* in = static_cast<const uint16_t*>(src);
            for (size_t i = 0; i < n; ++i) dst[i] = bf16ToFloat(in[i]);
            return;
        }
        case WeightType::F16: {
            const auto* in = static_cast<const uint16_t*>(src);
            for (size_t i = 0; i < n; ++i) dst[i] = f16ToFloat(in[i]);
            return;
        }
        case WeightType::Q8_0: {
            const auto* blocks = static_cast<const BlockQ8_0*>(src);
            for (size_t b = 0; b < n / kQuantBlock; ++b) {
                const float d = f16ToFloat(blocks[b].d);
                for (int i = 0; i < kQuantBlock; ++i) {
                    dst[b * kQuantBlock + i] = d * static_cast<float>(blocks[b].qs[i]);
                }
            }
            return;
        }
        case WeightType::Q4_0: {
            const auto* blocks = static_cast<const BlockQ4_0*>(src);
            for (size_t b = 0; b < n / kQuantBlock; ++b) {
                const float d = f16ToFloat(blocks[b].d);
                float* out = dst + b * kQuantBlock;
                for (int j = 0; j < kQuantBlock / 2; ++j) {
                    out[j] = d * static_cast<float>((blocks[b].qs[j] & 0x0F) - 8);
                    out[j + 16] = d * static_cast<float>((blocks[b].qs[j] >> 4) - 8);
                }
            }
            return;
        }
    }
}

namespace {

constexpr size_t kQ4GroupBytes = kQ4GroupedBlocks * sizeof(BlockQ4_0);  // 72

// Rearranges the full groups of one q4_0 row, either way, through a copy of each group.
void regroupQ4Row(const void* src, int64_t cols, void* dst, bool toGrouped) {
    const auto* in = static_cast<const unsigned char*>(src);
    auto* out = static_cast<unsigned char*>(dst);
    const int64_t blocks = cols / kQuantBlock, groups = blocks / kQ4GroupedBlocks;
    for (int64_t g = 0; g < groups; ++g) {
        unsigned char copy[kQ4GroupBytes];
        std::memcpy(copy, in + static_cast<size_t>(g) * kQ4GroupBytes, kQ4GroupBytes);
        unsigned char* to = out + static_cast<size_t>(g) * kQ4GroupBytes;
        for (int64_t j = 0; j < kQ4GroupedBlocks; ++j) {
            const size_t gguf = static_cast<size_t>(j) * sizeof(BlockQ4_0);
            const size_t quants = static_cast<size_t>(j) * 16;
            const size_t scale = 64 + static_cast<size_t>(j) * 2;
            if (toGrouped) {
                std::memcpy(to + quants, copy + gguf + 2, 16);
                std::memcpy(to + scale, copy + gguf, 2);
            } else {
                std::memcpy(to + gguf + 2, copy + quants, 16);
                std::memcpy(to + gguf, copy + scale, 2);
            }
        }
    }
    const size_t done = static_cast<size_t>(groups) * kQ4GroupBytes;
    const size_t tail = static_cast<size_t>(blocks - groups * kQ4GroupedBlocks) * sizeof(BlockQ4_0);
    if (in != out)
        std::memmove(out + done, in + done, tail);
}

}  // namespace

void groupQ4Row(const void* src, int64_t cols, void* dst) {
    regroupQ4Row(src, cols, dst, true);
}

void ungroupQ4Row(const void* src, int64_t cols, void* dst) {
    regroupQ4Row(src, cols, dst, false);
}

void dequantizeGroupedQ4Row(const void* src, int64_t cols, float* dst) {
    const auto* in = static_cast<const unsigned char*>(src);
    const int64_t blocks = cols / kQuantBlock, groups = blocks / kQ4GroupedBlocks;
    for (int64_t g = 0; g < groups; ++g) {
        const unsigned char* group = in + static_cast<size_t>(g) * kQ4GroupBytes;
        for (int64_t j = 0; j < kQ4GroupedBlocks; ++j) {
            uint16_t bits;
            std::memcpy(&bits, group + 64 + j * 2, 2);
            const float d = f16ToFloat(bits);
            const unsigned char* q = group + j * 16;
            float* out = dst + (g * kQ4GroupedBlocks + j) * kQuantBlock;
            for (int i = 0; i < kQuantBlock / 2; ++i) {
                out[i] = d * static_cast<float>((q[i] & 0x0F) - 8);
                out[i + 16] = d * static_cast<float>((q[i] >> 4) - 8);
            }
        }
    }
    const int64_t done = groups * kQ4GroupedBlocks;
    dequantizeRow(WeightType::Q4_0, in + static_cast<size_t>(groups) * kQ4GroupBytes,
                  (blocks - done) * kQuantBlock, dst + done * kQuantBlock);
}

}  // namespace griffin
