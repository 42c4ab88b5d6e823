// SPDX-License-Identifier: Apache-2.0
// AVX-512 VNNI kernels for the block types (q8_0, q4_0), on rows in the interleaved layout
// (quant.h, interleaveRow; cpu/weight_layout.h). vpdpbusd multiplies 64 unsigned weight bytes
// with 64 signed activation bytes and adds each 4 products into one of 16 int32 lanes; in this
// layout lane b holds block b of a set of 16 blocks in every load, so a set's integer sums need
// one scale conversion and one float multiply-add for all 16 blocks and no shuffle. GGUF blocks
// needed a scale shuffle, a conversion and a multiply-add for every 2 (q8_0) or 4 (q4_0)
// blocks: measured on one thread of a 2-core Sapphire Rapids VM with the rows in L2, a row of
// 2560 now takes 42 instead of 27 GB/s of work (q4_0) and 73 instead of 29 (q8_0), which
// leaves the decode products nearer the memory's pace. The activations are 8-bit, interleaved
// the same way (ActInterleaved). Float types are left to the AVX-512 kernels.
//
// Unsigned weights: q8_0 bytes are stored plus 128 and q4_0 nibbles are used as they are
// (w + 8). The excess, 128 or 8 times the sum of the block's activations, is precomputed with
// them (ActInterleaved::corr) and is where each lane's sum starts.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

// One load for a vector used twice (q4_0's two nibbles): see kernels_avx512.cpp. Each kernel
// file keeps its own copy (kernels_abi.h).
template <typename Vector>
inline void inRegister(Vector& v) {
    asm("" : "+v"(v));
}

template <int Type>
constexpr int kVectors = Type == kQ8_0Interleaved ? 8 : 4;  // 64-byte weight loads per set
template <int Type>
constexpr size_t kBlockBytes = Type == kQ8_0Interleaved ? 34 : 18;

// Weight vector v of a set of `width` blocks (16, or fewer for a row's last set, whose vectors
// are 4 * width bytes apart and loaded under `mask`).
template <bool Full>
inline __m512i loadVector(const unsigned char* set, int64_t width, int v, __mmask64 mask) {
    if constexpr (Full)
        return _mm512_loadu_si512(set + 64 * v);
    else
        return _mm512_maskz_loadu_epi8(mask, set + 4 * width * v);
}

template <bool Full>
inline __m512 loadScales(const unsigned char* scales, __mmask16 mask) {
    if constexpr (Full)
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales)));
    else
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, scales));
}

// acc[r][t] += set s of weight rows r times set s of activation rows t.
template <int Type, int R, int T, bool Full>
inline void addSet(const unsigned char* const* rows, const ActInterleaved* const* xs, int64_t s,
                   int64_t width, size_t ahead, size_t nearAhead, __m512 (&acc)[R][T]) {
    constexpr bool q4 = Type == kQ4_0Interleaved;
    constexpr int V = kVectors<Type>;
    const size_t at = static_cast<size_t>(s) * kLaneBlocks * kBlockBytes<Type>;
    const size_t quantBytes = static_cast<size_t>(4 * V * width);
    const __mmask64 mask = Full ? ~0ull : (1ull << (4 * width)) - 1;  // width < 16 if not Full
    const __mmask16 scaleMask = static_cast<__mmask16>((1u << width) - 1);
    const __m512i low = _mm512_set1_epi8(0x0F);
    if constexpr (R == 1 && T == 1) {
        // Decode, row by row: prefetch into L2 `ahead` bytes on (see GemmArgs::prefetchBytes),
        // every line the set spans (it starts anywhere in a line).
        const unsigned char* p = rows[0] + at;
        if (ahead != 0) {  // 0: the hardware prefetcher alone
            const char* next = reinterpret_cast<const char*>(p) + ahead;
#pragma GCC unroll 9
            for (int l = 0; l < (V * 64 + 32 + 63) / 64; ++l)
                _mm_prefetch(next + 64 * l, _MM_HINT_T1);
            if (nearAhead != 0) {
                const char* soon = reinterpret_cast<const char*>(p) + nearAhead;
#pragma GCC unroll 9
                for (int l = 0; l < (V * 64 + 32 + 63) / 64; ++l)
                    _mm_prefetch(soon + 64 * l, _MM_HINT_T0);
            }
        }
        const ActInterleaved& x = xs[0][s];
        __m512i sum = _mm512_load_si512(x.corr), high = _mm512_setzero_si512();
        if constexpr (q4) {
            // High nibbles masked in place are 16 times their value: one shift per set
            // instead of one per vector.
            const __m512i top = _mm512_set1_epi8(static_cast<char>(0xF0));
#pragma GCC unroll 4
            for (int v = 0; v < 4; ++v) {
                __m512i w = loadVector<Full>(p, width, v, mask);
                inRegister(w);
                sum = _mm512_dpbusd_epi32(sum, _mm512_and_si512(w, low),
                                          _mm512_load_si512(x.q + 64 * v));
                high = _mm512_dpbusd_epi32(high, _mm512_and_si512(w, top),
                                           _mm512_load_si512(x.q + 64 * (4 + v)));
            }
            sum = _mm512_add_epi32(sum, _mm512_srai_epi32(high, 4));
        } else {
#pragma GCC unroll 4
            for (int v = 0; v < 8; v += 2) {
                sum = _mm512_dpbusd_epi32(sum, loadVector<Full>(p, width, v, mask),
                                          _mm512_load_si512(x.q + 64 * v));
                high = _mm512_dpbusd_epi32(high, loadVector<Full>(p, width, v + 1, mask),
                                           _mm512_load_si512(x.q + 64 * (v + 1)));
            }
            sum = _mm512_add_epi32(sum, high);
        }
        const __m512 dw = loadScales<Full>(p + quantBytes, scaleMask);
        acc[0][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, _mm512_load_ps(x.d)),
                                    acc[0][0]);
        return;
    }
    __m512i sums[R][T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
        const __m512i c = _mm512_load_si512(xs[t][s].corr);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) sums[r][t] = c;
    }
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            __m512i w = loadVector<Full>(rows[r] + at, width, v, mask);
            if constexpr (q4)
                inRegister(w);
            const __m512i w0 = q4 ? _mm512_and_si512(w, low) : w;
            const __m512i w1 = _mm512_and_si512(_mm512_srli_epi16(w, 4), low);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                sums[r][t] =
                    _mm512_dpbusd_epi32(sums[r][t], w0, _mm512_load_si512(xs[t][s].q + 64 * v));
                if constexpr (q4) {
                    sums[r][t] = _mm512_dpbusd_epi32(sums[r][t], w1,
                                                     _mm512_load_si512(xs[t][s].q + 64 * (4 + v)));
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
        const __m512 dw = loadScales<Full>(rows[r] + at + quantBytes, scaleMask);
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[r][t]),
                                        _mm512_mul_ps(dw, _mm512_load_ps(xs[t][s].d)), acc[r][t]);
        }
    }
}

template <int Type, int R, int T>
void tile(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    const int64_t nb = a.k / 32, sets = (nb + kLaneBlocks - 1) / kLaneBlocks;
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const ActInterleaved* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.xi + (t0 + t) * sets;
    const size_t ahead = static_cast<size_t>(a.prefetchBytes);  // decode only (R = T = 1)
    const size_t nearAhead = static_cast<size_t>(a.prefetchNearBytes);
    // k0 and k1 are multiples of kKBlock (whole sets) or k1 == a.k.
    const int64_t end = (k1 / 32 + kLaneBlocks - 1) / kLaneBlocks;
    const int64_t fullEnd = end < nb / kLaneBlocks ? end : nb / kLaneBlocks;
    int64_t s = k0 / 32 / kLaneBlocks;
    for (; s < fullEnd; ++s)
        addSet<Type, R, T, true>(rows, xs, s, kLaneBlocks, ahead, nearAhead, acc);
    if (s < end)
        addSet<Type, R, T, false>(rows, xs, s, nb - s * kLaneBlocks, ahead, nearAhead, acc);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            float* dst = a.y + (t0 + t) * a.ldy + r0 + r;
            *dst = (add ? *dst : 0.0f) + _mm512_reduce_add_ps(acc[r][t]);
        }
    }
}

// Decode row by row: one row streamed at a time, with the prefetch GemmArgs asks for; the
// tile's chain is one FMA per set (288 or 544 bytes).
constexpr bool kDecodeRowByRow = true;
// Several tokens: slices of 4 sets, so that the horizontal sums after each slice stay rare next
// to the set's work (a row group's slice is 4.4 KB (q8_0) per row, still in L1).
#define GRIFFIN_TILES_K_BLOCK 2048
#define GRIFFIN_TILES_BLOCK_TYPES_ONLY
#include "cpu/kernels_tiling.h"  // here: its templates get this file's instruction set

}  // namespace

void quantizeInterleavedAvx512Vnni(int type, const float* x, int64_t rows, int64_t cols,
                                   ActInterleaved* out) {
    const int64_t blocks = cols / 32, sets = (blocks + kLaneBlocks - 1) / kLaneBlocks;
    const __m512 magnitude = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    const __m512i excess = _mm512_set1_epi8(static_cast<char>(type == kQ8_0 ? 128 : 8));
    for (int64_t t = 0; t < rows; ++t) {
        ActInterleaved* row = out + t * sets;
        for (int64_t blk = 0; blk < blocks; ++blk) {
            ActInterleaved& set = row[blk / kLaneBlocks];
            const int64_t b = blk % kLaneBlocks;
            const float* v = x + t * cols + blk * 32;
            const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            const float amax = _mm512_reduce_max_ps(
                _mm512_max_ps(_mm512_and_ps(v0, magnitude), _mm512_and_ps(v1, magnitude)));
            const __m512 inv = _mm512_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
            // Round to nearest even (the default rounding mode), as the portable code does.
            int32_t q[8];  // values 4v..4v+3 in q[v]
            _mm_storeu_si128(reinterpret_cast<__m128i*>(q),
                             _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, inv))));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 4),
                             _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, inv))));
            for (int i = 0; i < 8; ++i) memcpy(set.q + 64 * i + 4 * b, &q[i], 4);
            set.d[b] = amax / 127.0f;
        }
        // corr[b] = -excess * (sum of block b's q values): vpdpbusd with the excess as the
        // unsigned operand.
        for (int64_t s = 0; s < sets; ++s) {
            __m512i sum = _mm512_setzero_si512();
            for (int v = 0; v < 8; ++v)
                sum = _mm512_dpbusd_epi32(sum, excess, _mm512_load_si512(row[s].q + 64 * v));
            _mm512_store_si512(row[s].corr, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
        }
    }
}

void gemmAvx512Vnni(const GemmArgs& a) {
    switch (a.type) {
        case kQ8_0Interleaved:
            return gemm<kQ8_0Interleaved>(a);
        case kQ4_0Interleaved:
            return gemm<kQ4_0Interleaved>(a);
        default:
            return gemmAvx512(a);
    }
}

}  // namespace griffin::cpu::abi
