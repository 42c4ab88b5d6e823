// SPDX-License-Identifier: Apache-2.0
// Portable kernels: the reference every SIMD path is tested against, and the fallback.
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

float bf16(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float f16(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24, exact in float.
        float v = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
        memcpy(&bits, &v, 4);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float dotFloat(int type, const unsigned char* row, const float* x, int64_t k) {
    // Eight partial sums, as the SIMD paths keep lanes.
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < k; ++i) {
        float w;
        if (type == kF32) {
            memcpy(&w, row + i * 4, 4);
        } else {
            uint16_t h;
            memcpy(&h, row + i * 2, 2);
            w = type == kBf16 ? bf16(h) : f16(h);
        }
        acc[i & 7] += w * x[i];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

float dotBlocks(int type, const unsigned char* row, const BlockAct* x, int64_t blocks) {
    float acc = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
        int32_t sum = 0;
        uint16_t dBits;
        if (type == kQ8_0) {
            const unsigned char* blk = row + b * 34;
            memcpy(&dBits, blk, 2);
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
            for (int i = 0; i < 32; ++i) sum += static_cast<int32_t>(q[i]) * x[b].qs[i];
        } else {
            const unsigned char* blk = row + b * 18;
            memcpy(&dBits, blk, 2);
            const unsigned char* q = blk + 2;
            for (int j = 0; j < 16; ++j) {
                sum += (static_cast<int32_t>(q[j] & 0x0F) - 8) * x[b].qs[j];
                sum += (static_cast<int32_t>(q[j] >> 4) - 8) * x[b].qs[j + 16];
            }
        }
        acc += static_cast<float>(sum) * (f16(dBits) * x[b].d);
    }
    return acc;
}

}  // namespace

void gemmScalar(const GemmArgs& a) {
    const bool blocks = a.type == kQ8_0 || a.type == kQ4_0;
    for (int64_t r = 0; r < a.rows; ++r) {
        const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
        for (int64_t t = 0; t < a.tokens; ++t) {
            a.y[t * a.ldy + r] = blocks ? dotBlocks(a.type, row, a.xq + t * (a.k / 32), a.k / 32)
                                        : dotFloat(a.type, row, a.x + t * a.k, a.k);
        }
    }
}

void accumulateScalar(const AccumulateArgs& a) {
    for (int64_t n = 0; n < a.rows; ++n) {
        float* o = a.o + n * a.ldo;
        const float* p = a.p + n * a.ldp;
        for (int64_t j = 0; j < a.keys; ++j) {
            const float pj = p[j];
            const float* v = a.v + j * a.ldv;
            for (int64_t f = 0; f < a.cols; ++f) o[f] += pj * v[f];
        }
    }
}

}  // namespace griffin::cpu::abi
