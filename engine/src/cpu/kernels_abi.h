// SPDX-License-Identifier: Apache-2.0
// The interface between the kernel dispatcher (kernels.cpp) and the per-instruction-set kernel
// files (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512*.cpp). Those files are compiled
// with their own -m flags, so this header and they use no C++ standard library templates: an
// inline template instantiated there could be picked by the linker for code that runs on a CPU
// without those instructions.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace griffin::cpu::abi {

// Weight type codes (the values of griffin::WeightType), and q8_0 / q4_0 rows in the
// interleaved layout of quant.h (interleaveRow), the only rows gemmAvx512Vnni and
// gemmAvx2Q4Interleaved read.
enum : int {
    kF32 = 0,
    kBf16 = 1,
    kF16 = 2,
    kQ8_0 = 3,
    kQ4_0 = 4,
    kQ8_0Interleaved = 5,
    kQ4_0Interleaved = 6
};

// Activations quantized for the block types: 32 values, value i = d * qs[i], 16-bit so that
// their rounding (about 1/65000 of the block's largest value) is negligible next to the
// weights' 8 or 4 bits.
struct BlockAct {
    float d;
    int16_t qs[32];
};

// Activations for the VNNI and AVX2 interleaved kernels: 8-bit, value = d * q with d = max|x| / 127
// per block of 32, interleaved like the weights (quant.h, interleaveRow) in sets of 16 blocks, one
// block per 32-bit lane: q[64v + 4b + i] is value 4v + i of block b (v < 8), d[b] its scale and
// corr[b] = -128 (q8_0) or -8 (q4_0) times the sum of its q values (the weights' excess). Lanes
// past the row's last block are zero.
constexpr int64_t kLaneBlocks = 16;
struct alignas(64) ActInterleaved {
    int8_t q[512];
    float d[16];
    int32_t corr[16];
};

// The same interleaving with 16-bit values, for q8_0 on CPUs without VNNI
// (kernels_avx2_blocks.cpp): q[64v + 4b + i] is value 4v + i of block b, d[b] = max|x| / 32767
// (BlockAct's rounding) and corr[b] = -128 times the sum of its q values. Lanes past the row's last
// block are zero.
struct alignas(64) ActInterleaved16 {
    int16_t q[512];
    float d[16];
    int32_t corr[16];
};

// y[t * ldy + r] = dot(weight row r, activation row t) for r < rows, t < tokens.
// Weight row r starts at w + r * rowStride and holds k values of `type`. For f32/bf16/f16 the
// activations are `x` (row t at x + t * k); for q8_0/q4_0 they are `xq` (row t at
// xq + t * k / 32), or for the VNNI kernels `xi` (row t at xi + t * sets of 16 blocks per row),
// or for AVX2's q8_0 kernel `xi16` (likewise).
struct GemmArgs {
    int type;
    const unsigned char* w;
    size_t rowStride;
    int64_t rows;
    int64_t k;
    const float* x;
    const BlockAct* xq;
    const ActInterleaved* xi;
    const ActInterleaved16* xi16 = nullptr;  // kQ8_0Interleaved rows on AVX2 (or null)
    int64_t tokens;
    float* y;
    int64_t ldy;
    // One token (decode): while reading a row, the kernel prefetches the row this many rows
    // further on, at the same column. Rows are short (2.7 KB for a q8_0 row of 2560), so a
    // prefetch within the row would keep restarting; a fixed distance in bytes across rows
    // keeps a steady number of lines in flight. Set by gemmRows.
    int64_t prefetchRows;
    // One token, kernels that stream one row at a time (the AVX-512 float decode rows, the VNNI
    // block kernels): the prefetch distance in bytes along the stream of rows (they lie one
    // after another), not rounded to whole rows; 0: no software prefetch. Set by gemmRows.
    int64_t prefetchBytes;
    // With prefetchBytes, the same kernels also prefetch each line into L1 this many bytes on
    // (0: not at all). Set by gemmRows.
    int64_t prefetchNearBytes;
    // Several tokens: kPanelScratchFloats floats of the caller's (per thread), where the AVX-512
    // panel GEMM sums a block of outputs over the k slices before writing it to y. Null for one
    // token.
    float* scratch;
    // dotRowsAvx512 only (else null): rows laid out like w's (attention's values, read next),
    // prefetched into L2 along with w's.
    const unsigned char* companion = nullptr;
};
constexpr int64_t kPanelScratchFloats = 384 * 512;

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

// Quantizes x [rows, cols] (cols a multiple of 32) into `out` (rows * sets per row, zeroed by
// the caller) exactly as the portable quantizeInterleavedReference in kernels.cpp does, with
// AVX-512. `type`: kQ8_0 or kQ4_0 (the excess in corr).
void quantizeInterleavedAvx512Vnni(int type, const float* x, int64_t rows, int64_t cols,
                                   ActInterleaved* out);

// The same with AVX2 (kernels_avx2_blocks.cpp).
void quantizeInterleavedAvx2(int type, const float* x, int64_t rows, int64_t cols,
                             ActInterleaved* out);

// 16-bit interleaved activations (ActInterleaved16, zeroed by the caller) exactly as the portable
// quantizeInterleaved16Reference in kernels.cpp gives them, with AVX2 (kernels_avx2_blocks.cpp).
void quantizeInterleaved16Avx2(const float* x, int64_t rows, int64_t cols, ActInterleaved16* out);

void gemmScalar(const GemmArgs& args);
void gemmAvx2(const GemmArgs& args);
// kQ4_0Interleaved rows with `xi` activations (kernels_avx2_blocks.cpp).
void gemmAvx2Q4Interleaved(const GemmArgs& args);
// kQ8_0Interleaved rows with `xi16` activations (kernels_avx2_blocks.cpp).
void gemmAvx2Q8Interleaved(const GemmArgs& args);
void gemmAvx512(const GemmArgs& args);
void gemmAvx512Vnni(const GemmArgs& args);
// gemmAvx512's decode (one token) of bf16 rows of up to kBf16SplitMaxColumns columns
// (kernels_avx512_bf16.cpp): the activations, split to match the rows' pairs, live on its stack.
constexpr int64_t kBf16SplitMaxColumns = 16384;
void decodeBf16Avx512(const GemmArgs& args);
// f32 rows only, a few tokens (2 to 16) and k a multiple of 16: gemmAvx512's result with each
// dot product summed in another order, without the panel GEMM's packing of the rows (attention's
// scores when decoding: one token's 10 or 16 query heads against a few hundred keys).
void dotRowsAvx512(const GemmArgs& args);
void accumulateScalar(const AccumulateArgs& args);
void accumulateAvx2(const AccumulateArgs& args);
void accumulateAvx512(const AccumulateArgs& args);

// rgLruStep (cpu/ops.h) over n channels, 8 at a time: h[i] becomes the new state and
// gated[i] = h[i] * y[i]. The same float arithmetic in the same order; its double-precision
// exponentials are this file's (within about 1 ulp of double), so a rounded float result differs
// from the scalar one's only where the exact value lies within that of a float rounding
// boundary. reset: position 0.
void rgLruStepsAvx512(const float* x, const float* gateXPre, const float* gateAPre,
                      const float* logA, const float* y, bool reset, int64_t n, float* h,
                      float* gated);

// Streaming-read and FMA throughput probes for `griffin bench` (one thread's share). With
// aheadBytes > 0 the read also prefetches that far on, as the decode kernels do: on some
// machines that reads faster than the hardware prefetcher alone (2-core Zen 5 VM: 37 against
// 29 GB/s), and the bench's bound must be the faster of the two. With nearBytes > 0 too, the
// far prefetch goes into L2 and a second one, nearBytes on, into L1 (the decode kernels' pair
// of distances).
double readSumAvx512(const float* p, int64_t n, int64_t aheadBytes = 0, int64_t nearBytes = 0);
double fmaLoopAvx512(int64_t iterations);
double readSumAvx2(const float* p, int64_t n, int64_t aheadBytes = 0, int64_t nearBytes = 0);
double fmaLoopAvx2(int64_t iterations);

}  // namespace griffin::cpu::abi
