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

// Rearranges one row between GGUF blocks and the interleaved layout (quant.h), either way,
// through a copy of each set of blocks.
void reinterleaveRow(WeightType type, const void* src, int64_t cols, void* dst,
                     bool toInterleaved) {
    const bool q8 = type == WeightType::Q8_0;
    const size_t blockBytes = q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
    const size_t quantBytes = q8 ? 32 : 16;
    const uint32_t flip = q8 ? 0x80808080u : 0u;
    const auto* in = static_cast<const unsigned char*>(src);
    auto* out = static_cast<unsigned char*>(dst);
    const int64_t blocks = cols / kQuantBlock;
    for (int64_t first = 0; first < blocks; first += kInterleavedBlocks) {
        const size_t w = static_cast<size_t>(std::min(kInterleavedBlocks, blocks - first));
        const size_t at = static_cast<size_t>(first) * blockBytes, bytes = w * blockBytes;
        unsigned char copy[kInterleavedBlocks * sizeof(BlockQ8_0)];
        std::memcpy(copy, in + at, bytes);
        unsigned char* to = out + at;
        for (size_t b = 0; b < w; ++b) {
            const size_t gguf = b * blockBytes, scale = w * quantBytes + 2 * b;
            // 4 quant bytes at a time: bytes 4v..4v+3 of the block are lane b of vector v.
            for (size_t v = 0; v < quantBytes / 4; ++v) {
                const size_t lane = 4 * w * v + 4 * b, quants = gguf + 2 + 4 * v;
                uint32_t piece;
                std::memcpy(&piece, copy + (toInterleaved ? quants : lane), 4);
                piece ^= flip;
                std::memcpy(to + (toInterleaved ? lane : quants), &piece, 4);
            }
            if (toInterleaved)
                std::memcpy(to + scale, copy + gguf, 2);
            else
                std::memcpy(to + gguf, copy + scale, 2);
        }
    }
}

}  // namespace

void interleaveRow(WeightType type, const void* src, int64_t cols, void* dst) {
    reinterleaveRow(type, src, cols, dst, true);
}

void deinterleaveRow(WeightType type, const void* src, int64_t cols, void* dst) {
    reinterleaveRow(type, src, cols, dst, false);
}

void dequantizeInterleavedRow(WeightType type, const void* src, int64_t cols, float* dst) {
    const bool q8 = type == WeightType::Q8_0;
    const size_t blockBytes = q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
    const size_t quantBytes = q8 ? 32 : 16;
    const auto* in = static_cast<const unsigned char*>(src);
    const int64_t blocks = cols / kQuantBlock;
    for (int64_t first = 0; first < blocks; first += kInterleavedBlocks) {
        const size_t w = static_cast<size_t>(std::min(kInterleavedBlocks, blocks - first));
        const unsigned char* set = in + static_cast<size_t>(first) * blockBytes;
        for (size_t b = 0; b < w; ++b) {
            uint16_t bits;
            std::memcpy(&bits, set + w * quantBytes + 2 * b, 2);
            const float d = f16ToFloat(bits);
            float* out = dst + (first + static_cast<int64_t>(b)) * kQuantBlock;
            for (size_t q = 0; q < quantBytes; ++q) {
                const unsigned char byte = set[4 * w * (q / 4) + 4 * b + q % 4];
                if (q8) {
                    out[q] = d * static_cast<float>(static_cast<int>(byte) - 128);
                } else {
                    out[q] = d * static_cast<float>((byte & 0x0F) - 8);
                    out[q + 16] = d * static_cast<float>((byte >> 4) - 8);
                }
            }
        }
    }
}

}  // namespace griffin
