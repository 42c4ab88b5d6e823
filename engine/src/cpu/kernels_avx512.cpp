// SPDX-License-Identifier: Apache-2.0
// AVX-512 kernels (F, BW, VL, VNNI; built with those -m flags, called only when the CPU has
// them). Register tiles of up to 4 weight rows x 3 tokens: each weight vector loaded once feeds
// every token of the tile, so prefill is a GEMM and decode (one token) streams 4 rows at once.
// Float types: 16 lanes, bf16/f16 widened in registers. Block types: int8 dot products with
// vpdpbusd on 32-value blocks (|w| times x with w's sign), scaled per block in float.
// g++ 12's own avx512fintrin.h (_mm512_reduce_add_ps -> _mm512_extractf64x4_pd) trips
// -Wuninitialized on its deliberately undefined registers: silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

constexpr int64_t kTokenBlock = 48;  // activations of a token block stay in L2

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
void tileFloat(const GemmArgs& a, int64_t r0, int64_t t0) {
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const float* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.x + (t0 + t) * a.k;
    int64_t k = 0;
    for (; k + 16 <= a.k; k += 16) {
        __m512 xv[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(xs[t] + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const __m512 wv = loadW<Type>(rows[r], k);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    if (k < a.k) {
        const __mmask16 m = static_cast<__mmask16>((1u << (a.k - k)) - 1u);
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
        for (int t = 0; t < T; ++t)
            a.y[(t0 + t) * a.ldy + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
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
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
        const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
        const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
        const __m256i q = _mm256_set_m128i(high, low);
        return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
    }
}

template <int Type, int R, int T>
void tileBlocks(const GemmArgs& a, int64_t r0, int64_t t0) {
    __m256 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    const int64_t nb = a.k / 32;
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const BlockQ8Act* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.xq + (t0 + t) * nb;
    const __m256i zero = _mm256_setzero_si256();
    for (int64_t b = 0; b < nb; ++b) {
        __m256i xv[T];
        float dx[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            xv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t][b].qs));
            dx[t] = xs[t][b].d;
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            float dw;
            const __m256i q = loadBlock<Type>(rows[r], b, &dw);
            const __m256i aw = _mm256_abs_epi8(q);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const __m256i sx = _mm256_sign_epi8(xv[t], q);
                const __m256i p = _mm256_dpbusd_epi32(zero, aw, sx);
                acc[r][t] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * dx[t]), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const __m128 s =
                _mm_add_ps(_mm256_castps256_ps128(acc[r][t]), _mm256_extractf128_ps(acc[r][t], 1));
            const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
            const __m128 s3 = _mm_add_ss(s2, _mm_movehdup_ps(s2));
            a.y[(t0 + t) * a.ldy + r0 + r] = _mm_cvtss_f32(s3);
        }
    }
}

// Decode (one token): two blocks per 512-bit register halves the instructions per block.
// AVX-512 has no vpsignb, so x takes w's sign through a mask subtract.
template <int Type, int R>
void tileBlocksDecode(const GemmArgs& a, int64_t r0, int64_t t0) {
    __m512 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    const int64_t nb = a.k / 32;
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const BlockQ8Act* xs = a.xq + t0 * nb;
    const __m512i zero = _mm512_setzero_si512();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m512i xv = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[b].qs))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[b + 1].qs)), 1);
        const __m512 dx = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(xs[b].d)),
                                             _mm256_set1_ps(xs[b + 1].d), 1);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            float d0, d1;
            const __m256i q0 = loadBlock<Type>(rows[r], b, &d0);
            const __m256i q1 = loadBlock<Type>(rows[r], b + 1, &d1);
            const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
            const __m512 dw = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)),
                                                 _mm256_set1_ps(d1), 1);
            const __m512i aw = _mm512_abs_epi8(q);
            const __m512i sx = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(q), zero, xv);
            const __m512i p = _mm512_dpbusd_epi32(zero, aw, sx);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw, dx), acc[r]);
        }
    }
    float tail[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) tail[r] = 0.0f;
    if (b < nb) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[b].qs));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            float dw;
            const __m256i q = loadBlock<Type>(rows[r], b, &dw);
            const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(q),
                                                  _mm256_sign_epi8(xv, q));
            const __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * xs[b].d));
            const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
            const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
            tail[r] = _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) a.y[t0 * a.ldy + r0 + r] = _mm512_reduce_add_ps(acc[r]) + tail[r];
}

template <int Type, int R, int T>
inline void tile(const GemmArgs& a, int64_t r0, int64_t t0) {
    if constexpr ((Type == kQ8_0 || Type == kQ4_0) && T == 1) {
        tileBlocksDecode<Type, R>(a, r0, t0);
    } else if constexpr (Type == kQ8_0 || Type == kQ4_0) {
        tileBlocks<Type, R, T>(a, r0, t0);
    } else {
        tileFloat<Type, R, T>(a, r0, t0);
    }
}

template <int Type, int R>
void rowGroup(const GemmArgs& a, int64_t r0, int64_t tBegin, int64_t tEnd) {
    int64_t t = tBegin;
    for (; t + 3 <= tEnd; t += 3) tile<Type, R, 3>(a, r0, t);
    if (tEnd - t == 2)
        tile<Type, R, 2>(a, r0, t);
    else if (tEnd - t == 1)
        tile<Type, R, 1>(a, r0, t);
}

template <int Type>
void gemm(const GemmArgs& a) {
    for (int64_t tb = 0; tb < a.tokens; tb += kTokenBlock) {
        const int64_t te = tb + kTokenBlock < a.tokens ? tb + kTokenBlock : a.tokens;
        int64_t r = 0;
        for (; r + 4 <= a.rows; r += 4) rowGroup<Type, 4>(a, r, tb, te);
        switch (a.rows - r) {
            case 3:
                rowGroup<Type, 3>(a, r, tb, te);
                break;
            case 2:
                rowGroup<Type, 2>(a, r, tb, te);
                break;
            case 1:
                rowGroup<Type, 1>(a, r, tb, te);
                break;
            default:
                break;
        }
    }
}

}  // namespace

void gemmAvx512(const GemmArgs& a) {
    switch (a.type) {
        case kF32:
            return gemm<kF32>(a);
        case kBf16:
            return gemm<kBf16>(a);
        case kF16:
            return gemm<kF16>(a);
        case kQ8_0:
            return gemm<kQ8_0>(a);
        case kQ4_0:
            return gemm<kQ4_0>(a);
        default:
            return;
    }
}

double readSumAvx512(const float* p, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
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
