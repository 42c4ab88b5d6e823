// SPDX-License-Identifier: Apache-2.0
// AVX-512 kernels (F, BW, VL; built with those -m flags, called only when the CPU has them).
// Register tiles of up to 4 weight rows x 3 tokens: each weight vector loaded once feeds every
// token of the tile, so prefill is a GEMM and decode (one token) of the block types streams 4
// rows at once. Float types decode one row at a time (decodeFloatRows) and, with 8 or more
// tokens, use packed panels (gemmPanels). Float types: 16 lanes, bf16/f16 widened in registers.
// Block types: integer dot products of the int8 weights (widened to int16) with 16-bit activation
// blocks, scaled per block in float. g++ 12's own avx512fintrin.h (_mm512_reduce_add_ps ->
// _mm512_extractf64x4_pd) trips -Wuninitialized on its deliberately undefined registers: silenced
// for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

// GCC folds a load into each instruction that uses it, so a weight vector used twice (a q4_0
// byte's two nibbles, a bf16 pair's two halves) was read from memory twice: two loads waiting
// on each missed line in decode. An empty asm that claims to change the register keeps it to
// one load: on a 2-core Zen 5 VM, decode rows streamed by 2 threads read 15% faster for q4_0
// rows of 7680, 14% for bf16 rows of 2560 and 3% for q4_0 rows of 2560 (medians of 40-60
// alternated rounds in one process).
template <typename Vector>
inline void inRegister(Vector& v) {
    asm("" : "+v"(v));
}

template <int Type>
inline __m512 loadW(const unsigned char* row, int64_t k) {
    if constexpr (Type == kF32) {
        return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
    } else if constexpr (Type == kBf16) {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k * 2));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k * 2));
        return _mm512_cvtph_ps(h);
    }
}

template <int Type>
inline __m512 loadWMasked(const unsigned char* row, int64_t k, __mmask16 m) {
    if constexpr (Type == kF32) {
        return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + k);
    } else if constexpr (Type == kBf16) {
        const __m256i h = _mm256_maskz_loadu_epi16(m, row + k * 2);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
        const __m256i h = _mm256_maskz_loadu_epi16(m, row + k * 2);
        return _mm512_cvtph_ps(h);
    }
}

template <int Type, int R, int T>
void tileFloat(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const size_t ahead = static_cast<size_t>(a.prefetchRows) * a.rowStride;
    (void)ahead;
    const float* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.x + (t0 + t) * a.k;
    int64_t k = k0;
    for (; k + 16 <= k1; k += 16) {
        __m512 xv[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(xs[t] + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            if constexpr (T == 1) {  // decode: see GemmArgs::prefetchRows
                _mm_prefetch(
                    reinterpret_cast<const char*>(rows[r]) + ahead + k * (Type == kF32 ? 4 : 2),
                    _MM_HINT_T0);
            }
            const __m512 wv = loadW<Type>(rows[r], k);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    if (k < k1) {
        const __mmask16 m = static_cast<__mmask16>((1u << (k1 - k)) - 1u);
        __m512 xv[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, xs[t] + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const __m512 wv = loadWMasked<Type>(rows[r], k, m);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            float* dst = a.y + (t0 + t) * a.ldy + r0 + r;
            *dst = (add ? *dst : 0.0f) + _mm512_reduce_add_ps(acc[r][t]);
        }
    }
}

// A decode row's columns [k, end), 16 at a time (the last ones masked), then the sum of its
// four chains.
template <int Type>
inline float finishRow(const unsigned char* row, const float* x, int64_t k, int64_t end,
                       __m512 acc0, __m512 acc1, __m512 acc2, __m512 acc3) {
    for (; k < end; k += 16) {
        const int64_t n = end - k < 16 ? end - k : 16;
        const __mmask16 m = static_cast<__mmask16>(n == 16 ? 0xFFFF : (1u << n) - 1u);
        acc0 = _mm512_fmadd_ps(loadWMasked<Type>(row, k, m), _mm512_maskz_loadu_ps(m, x + k), acc0);
    }
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Decode for the float types: one token, rows streamed one at a time (one stream per thread, which
// the hardware prefetcher follows best; bf16 has its own, in kernels_avx512_bf16.cpp), 64
// columns per step into four chains, with a software prefetch GemmArgs::prefetchBytes on into L2.
template <int Type, bool Prefetch>
void decodeFloatRows(const GemmArgs& a) {
    if constexpr (Type == kBf16) {
        if (a.k <= kBf16SplitMaxColumns)
            return decodeBf16Avx512(a);  // kernels_avx512_bf16.cpp
    }
    constexpr int64_t kBytes = Type == kF32 ? 4 : 2;
    const size_t ahead = static_cast<size_t>(a.prefetchBytes);
    const size_t nearAhead = static_cast<size_t>(a.prefetchNearBytes);
    for (int64_t r = 0; r < a.rows; ++r) {
        const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int64_t k = 0;
        for (; k + 64 <= a.k; k += 64) {
            if constexpr (Prefetch) {
                const char* next = reinterpret_cast<const char*>(row) + ahead + k * kBytes;
#pragma GCC unroll 4
                for (int64_t line = 0; line < 64 * kBytes; line += 64)
                    _mm_prefetch(next + line, _MM_HINT_T1);  // into L2 only: see runGemm
                if (nearAhead != 0) {
                    const char* soon = reinterpret_cast<const char*>(row) + nearAhead + k * kBytes;
#pragma GCC unroll 4
                    for (int64_t line = 0; line < 64 * kBytes; line += 64)
                        _mm_prefetch(soon + line, _MM_HINT_T0);
                }
            }
            acc0 = _mm512_fmadd_ps(loadW<Type>(row, k), _mm512_loadu_ps(a.x + k), acc0);
            acc1 = _mm512_fmadd_ps(loadW<Type>(row, k + 16), _mm512_loadu_ps(a.x + k + 16), acc1);
            acc2 = _mm512_fmadd_ps(loadW<Type>(row, k + 32), _mm512_loadu_ps(a.x + k + 32), acc2);
            acc3 = _mm512_fmadd_ps(loadW<Type>(row, k + 48), _mm512_loadu_ps(a.x + k + 48), acc3);
        }
        a.y[r] = finishRow<Type>(row, a.x, k, a.k, acc0, acc1, acc2, acc3);
    }
}

// Prefill for the float types: a GEMM over packed weight panels. A panel is 32 rows x kPanelK
// columns, transposed to column-major and widened to f32, so that each column is two vectors
// and a micro-kernel multiplies it with up to 12 tokens' activations broadcast one value at a
// time: 24 independent accumulators, no horizontal sums.
constexpr int kPanelRows = 32;
constexpr int kPanelTokens = 12;
constexpr int64_t kPanelK = 256;           // a panel is 32 KB, in L1
constexpr int64_t kPanelTokenBlock = 384;  // these tokens' k-slice (384 KB) stays in L2
constexpr int64_t kPanelMinTokens = 8;

// In: r[i] = row i of a 16 x 16 block. Out: r[j] = column j.
inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 16; h += 8) {
        for (int i = 0; i < 4; ++i) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    }
    for (int i = 0; i < 8; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

// Rows r0 .. r0 + nr - 1, columns k0 .. k0 + kn - 1 into panel[kk * kPanelRows + j] (rows past
// nr are zero), 16 x 16 blocks at a time.
template <int Type>
void packPanel(const GemmArgs& a, int64_t r0, int nr, int64_t k0, int64_t kn, float* panel) {
    for (int j0 = 0; j0 < kPanelRows; j0 += 16) {
        const unsigned char* rows[16];
        for (int j = 0; j < 16; ++j) {
            rows[j] = j0 + j < nr ? a.w + static_cast<size_t>(r0 + j0 + j) * a.rowStride : nullptr;
        }
        for (int64_t kk = 0; kk < kn; kk += 16) {
            const int64_t n = kn - kk < 16 ? kn - kk : 16;
            const __mmask16 m = static_cast<__mmask16>(n == 16 ? 0xFFFF : (1u << n) - 1u);
            __m512 r[16];
            for (int j = 0; j < 16; ++j) {
                r[j] = rows[j] == nullptr ? _mm512_setzero_ps()
                       : n == 16          ? loadW<Type>(rows[j], k0 + kk)
                                          : loadWMasked<Type>(rows[j], k0 + kk, m);
            }
            transpose16(r);
            for (int64_t i = 0; i < n; ++i)
                _mm512_store_ps(panel + (kk + i) * kPanelRows + j0, r[i]);
        }
    }
}

template <int N>
void panelKernel(const float* panel, int64_t kn, const float* x, int64_t ldx, float* y, int64_t ldy,
                 int nr, bool add) {
    __m512 acc[N][2];
#pragma GCC unroll 12
    for (int n = 0; n < N; ++n) acc[n][0] = acc[n][1] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < kn; ++kk) {
        const __m512 w0 = _mm512_load_ps(panel + kk * kPanelRows);
        const __m512 w1 = _mm512_load_ps(panel + kk * kPanelRows + 16);
#pragma GCC unroll 12
        for (int n = 0; n < N; ++n) {
            const __m512 xb = _mm512_set1_ps(x[n * ldx + kk]);
            acc[n][0] = _mm512_fmadd_ps(w0, xb, acc[n][0]);
            acc[n][1] = _mm512_fmadd_ps(w1, xb, acc[n][1]);
        }
    }
    const __mmask16 m0 = static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1u);
    const __mmask16 m1 = static_cast<__mmask16>(nr >= 32   ? 0xFFFF
                                                : nr <= 16 ? 0
                                                           : (1u << (nr - 16)) - 1u);
#pragma GCC unroll 12
    for (int n = 0; n < N; ++n) {
        float* dst = y + n * ldy;
        __m512 v0 = acc[n][0], v1 = acc[n][1];
        if (add) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, dst));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, dst + 16));
        }
        _mm512_mask_storeu_ps(dst, m0, v0);
        _mm512_mask_storeu_ps(dst + 16, m1, v1);
    }
}

// panelKernel<n> for a run-time n in [1, kPanelTokens].
template <int N = kPanelTokens>
inline void panelKernelN(int n, const float* panel, int64_t kn, const float* x, int64_t ldx,
                         float* y, int64_t ldy, int nr, bool add) {
    if constexpr (N >= 1) {
        if (n == N)
            return panelKernel<N>(panel, kn, x, ldx, y, ldy, nr, add);
        return panelKernelN<N - 1>(n, panel, kn, x, ldx, y, ldy, nr, add);
    }
}

// Rows whose outputs for a token block (384 x 512 x 4 bytes = 768 KB) stay in L2 across the
// k slices: the panel order is token block, row block, k slice, panel. With every row of the
// matrix between two k slices instead, each slice read and wrote back all of y from memory
// (11.8 MB for the 2B MLP's 7680 rows). The block is summed in GemmArgs::scratch, 512 floats a
// token, and written to y once: summed in y itself, each kernel call's 12 tokens were 12 rows
// of y apart (10-120 KB, as many pages). Single thread, the panel kernel over 384 tokens and
// 16 panels with the outputs of its 12 tokens 512 / 7680 / 30720 floats apart: 180 / 167 / 146
// GFLOP/s (2-core Intel VM, 2026-12).
constexpr int64_t kPanelRowBlock = 512;
static_assert(kPanelTokenBlock * kPanelRowBlock == kPanelScratchFloats);

// The weights of the panel packed after the one at (r0, k0) of row block [rb, re) and token
// block tb, asked for into L2 a slice per call (`slice` of `slices`) while this panel's tokens
// run: packPanel reads them from memory (a prefill streams every weight once per token block).
template <int Type>
inline void prefetchNextPanel(const GemmArgs& a, int64_t tb, int64_t rb, int64_t re, int64_t r0,
                              int64_t k0, int slice, int slices) {
    int64_t nextR = r0 + kPanelRows, nextK = k0;
    if (nextR >= re) {
        nextR = rb;
        nextK = k0 + kPanelK;
        if (nextK >= a.k) {
            nextK = 0;
            nextR = re;
            if (nextR >= a.rows) {
                if (tb + kPanelTokenBlock >= a.tokens)
                    return;  // the last panel
                nextR = 0;
            }
        }
    }
    constexpr int64_t kBytes = Type == kF32 ? 4 : 2;
    const int64_t rowLines = ((a.k - nextK < kPanelK ? a.k - nextK : kPanelK) * kBytes + 63) / 64;
    const int64_t rows = a.rows - nextR < kPanelRows ? a.rows - nextR : kPanelRows;
    const int64_t lines = rows * rowLines;
    const int64_t per = (lines + slices - 1) / slices;
    const int64_t end = (slice + 1) * per < lines ? (slice + 1) * per : lines;
    for (int64_t l = slice * per; l < end; ++l) {
        const unsigned char* row = a.w + static_cast<size_t>(nextR + l / rowLines) * a.rowStride;
        _mm_prefetch(reinterpret_cast<const char*>(row + nextK * kBytes + (l % rowLines) * 64),
                     _MM_HINT_T1);
    }
}

template <int Type>
void gemmPanels(const GemmArgs& a) {
    alignas(64) float panel[kPanelK * kPanelRows];
    for (int64_t tb = 0; tb < a.tokens; tb += kPanelTokenBlock) {
        const int64_t te = tb + kPanelTokenBlock < a.tokens ? tb + kPanelTokenBlock : a.tokens;
        const int slices = static_cast<int>((te - tb + kPanelTokens - 1) / kPanelTokens);
        for (int64_t rb = 0; rb < a.rows; rb += kPanelRowBlock) {
            const int64_t re = a.rows - rb < kPanelRowBlock ? a.rows : rb + kPanelRowBlock;
            for (int64_t k0 = 0; k0 < a.k; k0 += kPanelK) {
                const int64_t kn = a.k - k0 < kPanelK ? a.k - k0 : kPanelK;
                for (int64_t r0 = rb; r0 < re; r0 += kPanelRows) {
                    const int nr = static_cast<int>(re - r0 < kPanelRows ? re - r0 : kPanelRows);
                    packPanel<Type>(a, r0, nr, k0, kn, panel);
                    int slice = 0;
                    for (int64_t t = tb; t < te; t += kPanelTokens) {
                        prefetchNextPanel<Type>(a, tb, rb, re, r0, k0, slice++, slices);
                        const float* x = a.x + t * a.k + k0;
                        float* y = a.scratch + (t - tb) * (re - rb) + (r0 - rb);
                        const bool add = k0 > 0;
                        const int n =
                            static_cast<int>(te - t < kPanelTokens ? te - t : kPanelTokens);
                        panelKernelN(n, panel, kn, x, a.k, y, re - rb, nr, add);
                    }
                }
            }
            for (int64_t t = tb; t < te; ++t)
                memcpy(a.y + t * a.ldy + rb, a.scratch + (t - tb) * (re - rb),
                       static_cast<size_t>(re - rb) * sizeof(float));
        }
    }
}

// 32 signed weights of block b of a row, and its scale.
template <int Type>
inline __m256i loadBlock(const unsigned char* row, int64_t b, float* d) {
    if constexpr (Type == kQ8_0) {
        const unsigned char* blk = row + b * 34;
        *d = _cvtsh_ss(*reinterpret_cast<const unsigned short*>(blk));
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    } else {
        const unsigned char* blk = row + b * 18;
        *d = _cvtsh_ss(*reinterpret_cast<const unsigned short*>(blk));
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
        inRegister(packed);
        const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
        const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
        const __m256i q = _mm256_set_m128i(high, low);
        return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
    }
}

// Block types: the 32 int8 weights of a block widened to int16 and multiplied with the
// activations' int16 block by vpmaddwd (pairs summed into 16 int32 lanes), then scaled in float.
template <int Type, int R, int T>
void tileBlocks(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    const int64_t nb = a.k / 32;
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const size_t ahead = static_cast<size_t>(a.prefetchRows) * a.rowStride;
    (void)ahead;
    const BlockAct* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.xq + (t0 + t) * nb;
    for (int64_t b = k0 / 32; b < k1 / 32; ++b) {
        __m512i xv[T];
        float dx[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            xv[t] = _mm512_loadu_si512(xs[t][b].qs);
            dx[t] = xs[t][b].d;
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            if constexpr (T == 1) {
                // Decode streams its rows from memory: see GemmArgs::prefetchRows.
                _mm_prefetch(
                    reinterpret_cast<const char*>(rows[r]) + ahead + b * (Type == kQ8_0 ? 34 : 18),
                    _MM_HINT_T0);
            }
            float dw;
            const __m512i w16 = _mm512_cvtepi8_epi16(loadBlock<Type>(rows[r], b, &dw));
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const __m512i p = _mm512_madd_epi16(w16, xv[t]);
                acc[r][t] =
                    _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_set1_ps(dw * dx[t]), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            float* dst = a.y + (t0 + t) * a.ldy + r0 + r;
            *dst = (add ? *dst : 0.0f) + _mm512_reduce_add_ps(acc[r][t]);
        }
    }
}

template <int Type, int R, int T>
inline void tile(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    if constexpr (Type == kQ8_0 || Type == kQ4_0) {
        tileBlocks<Type, R, T>(a, r0, t0, k0, k1, add);
    } else {
        tileFloat<Type, R, T>(a, r0, t0, k0, k1, add);
    }
}

constexpr bool kDecodeRowByRow = false;  // block types: one FMA chain per 32 bytes, keep 4 rows
#include "cpu/kernels_tiling.h"          // here: its templates get this file's instruction set

}  // namespace

void gemmAvx512(const GemmArgs& a) {
    if (a.tokens == 1) {
        const bool prefetch = a.prefetchBytes > 0;  // 0: the hardware prefetcher alone
        switch (a.type) {
            case kF32:
                return prefetch ? decodeFloatRows<kF32, true>(a) : decodeFloatRows<kF32, false>(a);
            case kBf16:
                return prefetch ? decodeFloatRows<kBf16, true>(a)
                                : decodeFloatRows<kBf16, false>(a);
            case kF16:
                return prefetch ? decodeFloatRows<kF16, true>(a) : decodeFloatRows<kF16, false>(a);
            default:
                break;
        }
    }
    if (a.tokens >= kPanelMinTokens) {
        switch (a.type) {
            case kF32:
                return gemmPanels<kF32>(a);
            case kBf16:
                return gemmPanels<kBf16>(a);
            case kF16:
                return gemmPanels<kF16>(a);
            default:
                break;
        }
    }
    gemmAnyType(a);
}

namespace {

// e^x - 1 of 8 doubles as (q, two): e^x = two * (1 + q), two = 2^n exact, |r| <= ln2 / 2 after
// a two-part reduction, q = e^r - 1 by its Taylor series to r^13 (truncation about 1e-17
// relative). x is clamped to [-800, 800], where e^x is already 0 or infinity in double; a NaN
// stays NaN.
inline void expParts(__m512d x, __m512d& q, __m512d& two) {
    x = _mm512_max_pd(_mm512_set1_pd(-800.0), _mm512_min_pd(_mm512_set1_pd(800.0), x));
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0x1.62e42fee00000p-1), x);  // ln2 high bits
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0x1.a39ef35793c76p-33), r);         // and the rest
    // (e^r - 1) / r = sum r^k / (k + 1)!, k = 0..12.
    constexpr double kInverseFactorials[13] = {1.0,
                                               1.0 / 2,
                                               1.0 / 6,
                                               1.0 / 24,
                                               1.0 / 120,
                                               1.0 / 720,
                                               1.0 / 5040,
                                               1.0 / 40320,
                                               1.0 / 362880,
                                               1.0 / 3628800,
                                               1.0 / 39916800,
                                               1.0 / 479001600,
                                               1.0 / 6227020800};
    __m512d s = _mm512_set1_pd(kInverseFactorials[12]);
#pragma GCC unroll 12
    for (int k = 11; k >= 0; --k) s = _mm512_fmadd_pd(s, r, _mm512_set1_pd(kInverseFactorials[k]));
    q = _mm512_mul_pd(s, r);
    two = _mm512_scalef_pd(_mm512_set1_pd(1.0), n);
}

inline __m512d expPd(__m512d x) {
    __m512d q, two;
    expParts(x, q, two);
    return _mm512_mul_pd(two, _mm512_add_pd(_mm512_set1_pd(1.0), q));
}

// two * (1 + q) - 1 without cancelling: two * q + (two - 1), both exact for the n that occur.
inline __m512d expm1Pd(__m512d x) {
    __m512d q, two;
    expParts(x, q, two);
    return _mm512_fmadd_pd(two, q, _mm512_sub_pd(two, _mm512_set1_pd(1.0)));
}

// 1 / (1 + e^-x) in double, rounded to float, as rgLruStep's gates.
inline __m256 sigmoidPs(__m256 x) {
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d e = expPd(_mm512_sub_pd(_mm512_setzero_pd(), _mm512_cvtps_pd(x)));
    return _mm512_cvtpd_ps(_mm512_div_pd(one, _mm512_add_pd(one, e)));
}

}  // namespace

void rgLruStepsAvx512(const float* x, const float* gateXPre, const float* gateAPre,
                      const float* logA, const float* y, bool reset, int64_t n, float* h,
                      float* gated) {
    for (int64_t i = 0; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (n - i)) - 1);
        const __m256 gateX = sigmoidPs(_mm256_maskz_loadu_ps(m, gateXPre + i));
        const __m256 input = _mm256_mul_ps(_mm256_maskz_loadu_ps(m, x + i), gateX);
        __m256 state = input;
        if (!reset) {
            const __m256 gateA = sigmoidPs(_mm256_maskz_loadu_ps(m, gateAPre + i));
            // log a = logA * gate_a, exact in double; a and sqrt(1 - a^2) as rgLruStep.
            const __m512d logAt = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, logA + i)),
                                                _mm512_cvtps_pd(gateA));
            const __m256 a = _mm512_cvtpd_ps(expPd(logAt));
            const __m512d oneMinusASquared =
                _mm512_sub_pd(_mm512_setzero_pd(), expm1Pd(_mm512_add_pd(logAt, logAt)));
            const __m256 mult = _mm512_cvtpd_ps(_mm512_sqrt_pd(oneMinusASquared));
            // Two products rounded, then their sum, as the scalar step: the empty asm keeps the
            // compiler from contracting them into a fused multiply-add.
            __m256 past = _mm256_mul_ps(a, _mm256_maskz_loadu_ps(m, h + i));
            __m256 now = _mm256_mul_ps(mult, input);
            asm("" : "+v"(past), "+v"(now));
            state = _mm256_add_ps(past, now);
        }
        _mm256_mask_storeu_ps(h + i, m, state);
        _mm256_mask_storeu_ps(gated + i, m, _mm256_mul_ps(state, _mm256_maskz_loadu_ps(m, y + i)));
    }
}

double readSumAvx512(const float* p, int64_t n, int64_t aheadBytes, int64_t nearBytes) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        if (aheadBytes > 0 && nearBytes > 0) {
            const char* next = reinterpret_cast<const char*>(p + i) + aheadBytes;
            const char* soon = reinterpret_cast<const char*>(p + i) + nearBytes;
#pragma GCC unroll 4
            for (int line = 0; line < 256; line += 64) _mm_prefetch(next + line, _MM_HINT_T1);
#pragma GCC unroll 4
            for (int line = 0; line < 256; line += 64) _mm_prefetch(soon + line, _MM_HINT_T0);
        } else if (aheadBytes > 0) {
            const char* next = reinterpret_cast<const char*>(p + i) + aheadBytes;
#pragma GCC unroll 4
            for (int line = 0; line < 256; line += 64) _mm_prefetch(next + line, _MM_HINT_T0);
        }
        s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

double fmaLoopAvx512(int64_t iterations) {
    // Ten independent chains hide the FMA latency on two ports.
    __m512 a[10];
    for (int j = 0; j < 10; ++j) a[j] = _mm512_set1_ps(1.0f + 0.001f * static_cast<float>(j));
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 10
        for (int j = 0; j < 10; ++j) a[j] = _mm512_fmadd_ps(a[j], m, c);
    }
    __m512 s = a[0];
    for (int j = 1; j < 10; ++j) s = _mm512_add_ps(s, a[j]);
    return _mm512_reduce_add_ps(s);
}

}  // namespace griffin::cpu::abi
