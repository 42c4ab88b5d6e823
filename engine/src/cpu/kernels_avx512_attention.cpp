// SPDX-License-Identifier: Apache-2.0
// AVX-512 kernels for attention (F, DQ; built with the same -m flags as kernels_avx512.cpp,
// called only when the CPU has them): the scores of a decode step's few query heads against a
// part of the keys (dotRowsAvx512) and the probability-weighted sum of the values
// (accumulateAvx512). g++ 12's own avx512fintrin.h trips -Wuninitialized on its deliberately
// undefined registers (_mm512_reduce_add_ps): silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

// The accumulate tile: rows of probabilities (query heads, or a prefill block's rows) times
// value vectors of 16 columns, 24 accumulators. 6 x 4 loads 10 vectors (4 values, 6
// probabilities) per 24 multiply-adds where 12 x 2 loaded 14. 2B attention, 8 layers, one
// decode step's 10 heads as 5 + 5 rows, alternated runs of tools/kernel_bench/attention_bench
// on the 2-core Zen 5 VM: 2048 keys cold 481-504 -> 381-413 us a layer on one thread, 226-260
// -> 223-233 on two; 1024 keys 256-267 -> 197-244 and 144-152 -> 129-131.
constexpr int kAccumulateRows = 6;
constexpr int kAccumulateVectors = 4;

// accumulateAvx512's register tile: N rows x 16 * CV columns (CV value vectors, each masked to
// the columns left), each value vector loaded once for all N rows.
template <int N, int CV>
void accumulateTile(const AccumulateArgs& a, int64_t n0, int64_t f0) {
    const int64_t left = a.cols - f0;
    __mmask16 m[CV];
#pragma GCC unroll 4
    for (int c = 0; c < CV; ++c) {
        const int64_t l = left - 16 * c;
        m[c] = static_cast<__mmask16>(l >= 16 ? 0xFFFF : l <= 0 ? 0 : (1u << l) - 1u);
    }
    __m512 acc[N][CV];
#pragma GCC unroll 12
    for (int n = 0; n < N; ++n) {
#pragma GCC unroll 4
        for (int c = 0; c < CV; ++c) acc[n][c] = _mm512_setzero_ps();
    }
    const float* p = a.p + n0 * a.ldp;
    // The first tile of a call asks for whole value rows 16 keys ahead (into L2): the tiles
    // read 256 bytes of each row at a time, a strided pattern the hardware prefetcher follows
    // poorly, and the values come from memory in decode (the weights streamed since the last
    // step evicted them). 2B attention, 8 layers, alternated in one process (medians of 15):
    // 2048 keys 4.39 -> 3.65 ms, 1024 keys 2.04 -> 1.86 ms. The same for the keys (next panel's
    // rows in packPanel) was no faster.
    const bool firstTile = f0 == 0 && n0 == 0;
    const size_t rowBytes = static_cast<size_t>(a.cols) * sizeof(float);
    for (int64_t j = 0; j < a.keys; ++j) {
        const float* v = a.v + j * a.ldv + f0;
        if (firstTile && j + 16 < a.keys) {
            const char* ahead = reinterpret_cast<const char*>(a.v + (j + 16) * a.ldv);
            for (size_t at = 0; at < rowBytes; at += 64) _mm_prefetch(ahead + at, _MM_HINT_T1);
        }
        __m512 vv[CV];
#pragma GCC unroll 4
        for (int c = 0; c < CV; ++c) vv[c] = _mm512_maskz_loadu_ps(m[c], v + 16 * c);
#pragma GCC unroll 12
        for (int n = 0; n < N; ++n) {
            const __m512 pb = _mm512_set1_ps(p[n * a.ldp + j]);
#pragma GCC unroll 4
            for (int c = 0; c < CV; ++c) acc[n][c] = _mm512_fmadd_ps(vv[c], pb, acc[n][c]);
        }
    }
#pragma GCC unroll 12
    for (int n = 0; n < N; ++n) {
        float* o = a.o + (n0 + n) * a.ldo + f0;
#pragma GCC unroll 4
        for (int c = 0; c < CV; ++c) {
            _mm512_mask_storeu_ps(
                o + 16 * c, m[c],
                _mm512_add_ps(_mm512_maskz_loadu_ps(m[c], o + 16 * c), acc[n][c]));
        }
    }
}

template <int N>
inline void accumulateTileN(int n, const AccumulateArgs& a, int64_t n0, int64_t f0) {
    if constexpr (N >= 1) {
        if (n == N)
            return accumulateTile<N, kAccumulateVectors>(a, n0, f0);
        return accumulateTileN<N - 1>(n, a, n0, f0);
    }
}

// dotRowsAvx512: the sums of 4 vectors, in lanes 0-3 (each sum in a different order than
// _mm512_reduce_add_ps, with 13 operations instead of 32).
inline __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
    // Per 128-bit lane: [a0 0+2, a1 0+2, a0 1+3, a1 1+3] and the same for a2, a3.
    const __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
    const __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
    // Per 128-bit lane: a0, a1, a2, a3 summed over the lane.
    const __m512 u = _mm512_add_ps(_mm512_shuffle_ps(t01, t23, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(t01, t23, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m256 v = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}

// Rows r .. r+R-1 (R = 4 or 1) times tokens t0 .. t0+H-1: R * H accumulators over k, each row
// vector loaded once for the H tokens and each token vector once for the R rows. With
// `prefetch`, the same columns of the rows kDotAheadRows on (and of GemmArgs::companion's) go
// into L2: in decode the ring's keys and values come from memory (the weights streamed since
// the last step evicted them), and its rows are short (1 KB for the 2B model's heads).
// 2B attention, 8 layers, the ring evicted before each: 1024 keys 260 -> 211 us a layer,
// 2048 keys 477 -> 347, against the panel GEMM (whose packing cost as much as the products).
constexpr int64_t kDotAheadRows = 8;
template <int R, int H>
void dotTile(const GemmArgs& a, int64_t r, int64_t t0, bool prefetch) {
    __m512 acc[H][R];
#pragma GCC unroll 5
    for (int h = 0; h < H; ++h) {
#pragma GCC unroll 4
        for (int i = 0; i < R; ++i) acc[h][i] = _mm512_setzero_ps();
    }
    const float* rows[R];
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i)
        rows[i] = reinterpret_cast<const float*>(a.w + static_cast<size_t>(r + i) * a.rowStride);
    const float* xs = a.x + t0 * a.k;
    const size_t ahead = static_cast<size_t>(kDotAheadRows) * a.rowStride;
    for (int64_t d = 0; d < a.k; d += 16) {
        if (prefetch) {
#pragma GCC unroll 4
            for (int i = 0; i < R; ++i)
                _mm_prefetch(reinterpret_cast<const char*>(rows[i] + d) + ahead, _MM_HINT_T1);
            if (a.companion != nullptr) {
                const char* c = reinterpret_cast<const char*>(a.companion) +
                                static_cast<size_t>(r) * a.rowStride + d * 4 + ahead;
#pragma GCC unroll 4
                for (int i = 0; i < R; ++i) _mm_prefetch(c + i * a.rowStride, _MM_HINT_T1);
            }
        }
        __m512 w[R];
#pragma GCC unroll 4
        for (int i = 0; i < R; ++i) w[i] = _mm512_loadu_ps(rows[i] + d);
#pragma GCC unroll 5
        for (int h = 0; h < H; ++h) {
            const __m512 x = _mm512_loadu_ps(xs + h * a.k + d);
#pragma GCC unroll 4
            for (int i = 0; i < R; ++i) acc[h][i] = _mm512_fmadd_ps(w[i], x, acc[h][i]);
        }
    }
#pragma GCC unroll 5
    for (int h = 0; h < H; ++h) {
        float* y = a.y + (t0 + h) * a.ldy + r;
        if constexpr (R == 4)
            _mm_storeu_ps(y, sum4(acc[h][0], acc[h][1], acc[h][2], acc[h][3]));
        else
            *y = _mm512_reduce_add_ps(acc[h][0]);
    }
}

template <int R>
void dotTileTokens(int h, const GemmArgs& a, int64_t r, int64_t t0, bool prefetch) {
    switch (h) {
        case 1:
            return dotTile<R, 1>(a, r, t0, prefetch);
        case 2:
            return dotTile<R, 2>(a, r, t0, prefetch);
        case 3:
            return dotTile<R, 3>(a, r, t0, prefetch);
        case 4:
            return dotTile<R, 4>(a, r, t0, prefetch);
        default:
            return dotTile<R, 5>(a, r, t0, prefetch);
    }
}

}  // namespace

void dotRowsAvx512(const GemmArgs& a) {
    // Tokens in groups of at most 5 (4 rows x 5 tokens = 20 accumulators), as even as they go.
    const int64_t groups = (a.tokens + 4) / 5;
    int64_t r = 0;
    for (; r + 4 <= a.rows; r += 4) {
        for (int64_t g = 0, t0 = 0; g < groups; ++g) {
            const int64_t t1 = a.tokens * (g + 1) / groups;
            dotTileTokens<4>(static_cast<int>(t1 - t0), a, r, t0,
                             g == 0 && r + 4 + kDotAheadRows <= a.rows);
            t0 = t1;
        }
    }
    for (; r < a.rows; ++r) {
        for (int64_t g = 0, t0 = 0; g < groups; ++g) {
            const int64_t t1 = a.tokens * (g + 1) / groups;
            dotTileTokens<1>(static_cast<int>(t1 - t0), a, r, t0, false);
            t0 = t1;
        }
    }
}

void accumulateAvx512(const AccumulateArgs& a) {
    for (int64_t f0 = 0; f0 < a.cols; f0 += 16 * kAccumulateVectors) {
        for (int64_t n0 = 0; n0 < a.rows;) {
            // Tiles as even as they go: a decode step's 10 query heads as 5 + 5.
            const int64_t tiles = (a.rows - n0 + kAccumulateRows - 1) / kAccumulateRows;
            const int n = static_cast<int>((a.rows - n0 + tiles - 1) / tiles);
            accumulateTileN<kAccumulateRows>(n, a, n0, f0);
            n0 += n;
        }
    }
}

}  // namespace griffin::cpu::abi
