// SPDX-License-Identifier: Apache-2.0
// Matrix products for every weight type, with the instruction set chosen at run time:
// AVX-512 (F/BW/VL), AVX2 (+FMA, F16C) or portable scalar code. GRIFFIN_CPU_ISA=scalar|avx2|
// avx512 caps the choice (tests force each path; a path the CPU lacks is never used).
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/kernels_abi.h"
#include "weights.h"

namespace griffin::cpu {

// Ordered: each level includes the ones before it. Avx512Vnni adds vpdpbusd for q8_0/q4_0.
enum class Isa { Scalar, Avx2, Avx512, Avx512Vnni };

const char* isaName(Isa isa);
// The best instruction set this CPU supports.
Isa supportedIsa();
// What the kernels use now: supportedIsa() capped by GRIFFIN_CPU_ISA or setIsa().
Isa activeIsa();
// Caps the instruction set (for tests and benchmarks); returns what is now active.
Isa setIsa(Isa wanted);
// Whether `isa`'s kernels for `type` (q8_0 or q4_0) read the interleaved layout (with interleaved
// activations) rather than GGUF blocks (with 16-bit BlockAct ones): every instruction set but
// the scalar one. The activations are 8-bit for AVX-512 VNNI (vpdpbusd, both types) and for
// q4_0 on AVX2 and AVX-512 without VNNI (vpmaddubsw); q8_0 there keeps 16 bits
// (readsInterleaved16, vpmaddwd): with 8-bit ones the demo model's q8_0 top-1 agreement with f32
// fell to 98.75% (floor 99%; 99.69% with 16-bit, 99.06% through VNNI), where q4_0's 4-bit weights
// dominate.
bool readsInterleaved(Isa isa, WeightType type);
// Whether those interleaved activations are the 16-bit ones (q8_0 on AVX2 / AVX-512 without VNNI).
bool readsInterleaved16(Isa isa, WeightType type);

// How far ahead, in bytes, the decode kernels that stream one row at a time (the AVX-512 float
// kernels, the interleaved block kernels) prefetch their rows in software; 0: not at all, which
// leaves the rows to the hardware prefetcher. GRIFFIN_DECODE_PREFETCH=BYTES sets it at start.
int64_t decodePrefetchBytes();
void setDecodePrefetchBytes(int64_t bytes);
// Where decodePrefetchBytes() is not 0, those kernels also prefetch each line into L1 this many
// bytes ahead (0: not at all); GRIFFIN_DECODE_PREFETCH_NEAR=BYTES sets it at start.
int64_t decodePrefetchNearBytes();
void setDecodePrefetchNearBytes(int64_t bytes);
// The setters and those variables (or GRIFFIN_DECODE_TUNE=0) fix the distances; otherwise each
// CPU backend tunes them for its model (cpu/decode_tuner.h) and sets them for each decode step
// with useDecodePrefetch.
bool decodePrefetchFixed();
void useDecodePrefetch(int64_t bytes, int64_t nearBytes);
// This CPU's distances where nothing else sets them: the ones measured best on the CPUs tried
// (see kernels.cpp), and the tuner's first candidate.
int64_t defaultDecodePrefetchBytes();
int64_t defaultDecodePrefetchNearBytes();

// The q8_0 / q4_0 dot products' other operand: the activations quantized in blocks of 32, to
// 16 bits (`blocks`) or, for the kernels that read interleaved rows, interleaved to 8 bits
// (`interleaved`) or 16 (`interleaved16`), with the excess of `type`'s weights. At most one is
// filled.
struct QuantizedActivations {
    WeightType type = WeightType::F32;
    std::vector<abi::BlockAct> blocks;
    std::vector<abi::ActInterleaved> interleaved;
    std::vector<abi::ActInterleaved16> interleaved16;
    bool isInterleaved() const { return !interleaved.empty() || !interleaved16.empty(); }
    bool empty() const { return blocks.empty() && !isInterleaved(); }
};

// Quantizes x [rows, cols] for a product with `type` weights on `isa`'s kernels (nothing to do
// for float types). `cols` must be a multiple of 32.
void quantizeActivations(Isa isa, WeightType type, const float* x, int64_t rows, int64_t cols,
                         QuantizedActivations& out);
// The portable definition of the VNNI kernels' 8-bit interleaved activations
// (quantizeActivations on Avx512Vnni runs an AVX-512 version that must give the same bytes).
void quantizeInterleavedReference(WeightType type, const float* x, int64_t rows, int64_t cols,
                                  std::vector<abi::ActInterleaved>& out);
// The portable definition of the 16-bit interleaved activations for q8_0 (the AVX2 version
// quantizeActivations runs must give the same bytes).
void quantizeInterleaved16Reference(const float* x, int64_t rows, int64_t cols,
                                    std::vector<abi::ActInterleaved16>& out);
// The values the kernels multiply: out [rows, cols] (tests compare against these).
void dequantizeActivations(const QuantizedActivations& q, int64_t rows, int64_t cols, float* out);

// y[t * ldy + (o - rowBegin)] = dot(w row o, x row t) for o in [rowBegin, rowEnd), t < tokens.
// x: [tokens, w.cols] float; xq: its quantizeActivations() for the same isa and w.type (needed
// only for block types; without it, or for another type, nothing is computed). With interleaved
// activations the kernels read interleaved rows (Matrix::interleaved), else GGUF blocks: rows in
// the other layout are rearranged as they are read, a few at a time (correct, slower).
void gemmRows(Isa isa, const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
              const QuantizedActivations* xq, int64_t tokens, float* y, int64_t ldy);

// gemmRows for f32 rows `ldw` floats apart: y[t * ldy + r] = dot(w + r * ldw, x + t * k) for
// r < rows, t < tokens (attention's keys, one head of several in each ring row). `next`, if
// given, is rows laid out like w's that the caller reads next (attention's values): a decode
// step (2 to 16 tokens) may prefetch them along with w.
void gemmF32(Isa isa, const float* w, int64_t ldw, int64_t rows, int64_t k, const float* x,
             int64_t tokens, float* y, int64_t ldy, const float* next = nullptr);

// rgLruStep (cpu/ops.h) over channels [0, n): h[i] = rgLruStep(x[i], gateXPre[i], gateAPre[i],
// logA[i], h[i], reset) and gated[i] = h[i] * y[i]. The AVX-512 loop does the same float
// arithmetic with double exponentials of its own, and may differ from the scalar one by a float
// ulp where an exact value lies at a rounding boundary (a 1e-8 chance per value).
void rgLruSteps(Isa isa, const float* x, const float* gateXPre, const float* gateAPre,
                const float* logA, const float* y, bool reset, int64_t n, float* h, float* gated);

// o[n * ldo + f] += sum_j p[n * ldp + j] * v[j * ldv + f] for n < rows, f < cols, j < keys.
void accumulateRows(Isa isa, const float* p, int64_t ldp, int64_t rows, int64_t keys,
                    const float* v, int64_t ldv, int64_t cols, float* o, int64_t ldo);

}  // namespace griffin::cpu
