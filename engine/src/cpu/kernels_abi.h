// SPDX-License-Identifier: Apache-2.0
// The interface between the kernel dispatcher (kernels.cpp) and the per-instruction-set kernel
// files (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp). Those files are compiled
// with their own -m flags, so this header and they use no C++ standard library templates: an
// inline template instantiated there could be picked by the linker for code that runs on a CPU
// without those instructions.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace griffin::cpu::abi {

// Weight type codes (the values of griffin::WeightType).
enum : int { kF32 = 0, kBf16 = 1, kF16 = 2, kQ8_0 = 3, kQ4_0 = 4 };

// Activations quantized for the block types: 32 values, value i = d * qs[i], 16-bit so that
// their rounding (about 1/65000 of the block's largest value) is negligible next to the
// weights' 8 or 4 bits.
struct BlockAct {
    float d;
    int16_t qs[32];
};

// y[t * ldy + r] = dot(weight row r, activation row t) for r < rows, t < tokens.
// Weight row r starts at w + r * rowStride and holds k values of `type`. For f32/bf16/f16 the
// activations are `x` (row t at x + t * k); for q8_0/q4_0 they are `xq` (row t at
// xq + t * k / 32).
struct GemmArgs {
    int type;
    const unsigned char* w;
    size_t rowStride;
    int64_t rows;
    int64_t k;
    const float* x;
    const BlockAct* xq;
    int64_t tokens;
    float* y;
    int64_t ldy;
};

void gemmScalar(const GemmArgs& args);
void gemmAvx2(const GemmArgs& args);
void gemmAvx512(const GemmArgs& args);

// Streaming-read and FMA throughput probes for `griffin bench` (one thread's share).
double readSumAvx512(const float* p, int64_t n);
double fmaLoopAvx512(int64_t iterations);
double readSumAvx2(const float* p, int64_t n);
double fmaLoopAvx2(int64_t iterations);

}  // namespace griffin::cpu::abi
