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

// Weight type codes (the values of griffin::WeightType), and kQ4_0Grouped: q4_0 rows in the
// grouped layout of quant.h (groupQ4Row), which only gemmAvx512Vnni reads.
enum : int { kF32 = 0, kBf16 = 1, kF16 = 2, kQ8_0 = 3, kQ4_0 = 4, kQ4_0Grouped = 5 };

// Activations quantized for the block types: 32 values, value i = d * qs[i], 16-bit so that
// their rounding (about 1/65000 of the block's largest value) is negligible next to the
// weights' 8 or 4 bits.
struct BlockAct {
    float d;
    int16_t qs[32];
};

// Activations for the VNNI kernels: 8-bit, value = d * q with d = max|x| / 127 per block of 32,
// in groups of kQ8GroupBlocks (q8_0) or kQ4GroupBlocks (q4_0) blocks laid out the way the
// weights load:
// - q8_0: q[0, 64) is blocks 0 and 1 in order; lane l (bytes 4l..4l+3) is in block l / 8.
// - q4_0: q[16j + i] is value i of block j and q[64 + 16j + i] is value 16 + i (a low and a high
//   nibble of the same weight byte); lane l is in block l / 4.
// d[l] is the scale of lane l's block; corr[l] = -128 (q8_0) or -8 (q4_0) times the sum of the
// lane's q values. A group past the row's last block is all zero.
constexpr int64_t kQ8GroupBlocks = 2;
constexpr int64_t kQ4GroupBlocks = 4;
struct alignas(64) ActGroup8 {
    int8_t q[128];
    float d[16];
    int32_t corr[16];
};

// y[t * ldy + r] = dot(weight row r, activation row t) for r < rows, t < tokens.
// Weight row r starts at w + r * rowStride and holds k values of `type`. For f32/bf16/f16 the
// activations are `x` (row t at x + t * k); for q8_0/q4_0 they are `xq` (row t at
// xq + t * k / 32), or for the VNNI kernels `xg` (row t at xg + t * groups per row).
struct GemmArgs {
    int type;
    const unsigned char* w;
    size_t rowStride;
    int64_t rows;
    int64_t k;
    const float* x;
    const BlockAct* xq;
    const ActGroup8* xg;
    int64_t tokens;
    float* y;
    int64_t ldy;
    // One token (decode): while reading a row, the kernel prefetches the row this many rows
    // further on, at the same column. Rows are short (2.7 KB for a q8_0 row of 2560), so a
    // prefetch within the row would keep restarting; a fixed distance in bytes across rows
    // keeps a steady number of lines in flight. Set by gemmRows.
    int64_t prefetchRows;
};

// o[n * ldo + f] += sum_j p[n * ldp + j] * v[j * ldv + f] for n < rows, f < cols, j < keys, all
// f32: attention's probability-weighted sum of values, each value row read once per group of
// rows rather than once per row.
struct AccumulateArgs {
    const float* p;
    int64_t ldp;
    int64_t rows;
    int64_t keys;
    const float* v;
    int64_t ldv;
    int64_t cols;
    float* o;
    int64_t ldo;
};

// Quantizes x [rows, cols] (cols a multiple of 32) into `out` (rows * groups per row, zeroed by
// the caller) exactly as the portable quantizeGroups in kernels.cpp does, with AVX-512.
void quantizeGroupsAvx512Vnni(int type, const float* x, int64_t rows, int64_t cols, ActGroup8* out);

void gemmScalar(const GemmArgs& args);
void gemmAvx2(const GemmArgs& args);
void gemmAvx512(const GemmArgs& args);
void gemmAvx512Vnni(const GemmArgs& args);
void accumulateScalar(const AccumulateArgs& args);
void accumulateAvx2(const AccumulateArgs& args);
void accumulateAvx512(const AccumulateArgs& args);

// Streaming-read and FMA throughput probes for `griffin bench` (one thread's share). With
// aheadBytes > 0 the read also prefetches that far on, as the decode kernels do: on some
// machines that reads faster than the hardware prefetcher alone (2-core Zen 5 VM: 37 against
// 29 GB/s), and the bench's bound must be the faster of the two.
double readSumAvx512(const float* p, int64_t n, int64_t aheadBytes = 0);
double fmaLoopAvx512(int64_t iterations);
double readSumAvx2(const float* p, int64_t n, int64_t aheadBytes = 0);
double fmaLoopAvx2(int64_t iterations);

}  // namespace griffin::cpu::abi
