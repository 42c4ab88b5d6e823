// SPDX-License-Identifier: Apache-2.0
// AVX2 + FMA + F16C kernels: the same register tiles as kernels_avx512.cpp with 8 float lanes;
// block dot products through vpmaddwd on int16 (weights widened from int8).
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

template <int Type>
inline __m256 loadW(const unsigned char* row, int64_t k) {
    if constexpr (Type == kF32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
    } else if constexpr (Type == kBf16) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k * 2));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k * 2));
        return _mm256_cvtph_ps(h);
    }
}

template <int Type>
inline float scalarW(const unsigned char* row, int64_t k) {
    if constexpr (Type == kF32) {
        float f;
        memcpy(&f, row + k * 4, 4);
        return f;
    } else {
        unsigned short h;
        memcpy(&h, row + k * 2, 2);
        if constexpr (Type == kBf16) {
            const unsigned int bits = static_cast<unsigned int>(h) << 16;
            float f;
            memcpy(&f, &bits, 4);
            return f;
        } else {
            return _cvtsh_ss(h);
        }
    }
}

inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

template <int Type, int R, int T>
void tileFloat(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    __m256 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
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
    for (; k + 8 <= k1; k += 8) {
        __m256 xv[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(xs[t] + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            if constexpr (T == 1) {  // decode: see GemmArgs::prefetchRows
                _mm_prefetch(
                    reinterpret_cast<const char*>(rows[r]) + ahead + k * (Type == kF32 ? 4 : 2),
                    _MM_HINT_T0);
            }
            const __m256 wv = loadW<Type>(rows[r], k);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            float tail = 0.0f;
            for (int64_t i = k; i < k1; ++i) tail += scalarW<Type>(rows[r], i) * xs[t][i];
            float* dst = a.y + (t0 + t) * a.ldy + r0 + r;
            *dst = (add ? *dst : 0.0f) + (hsum(acc[r][t]) + tail);
        }
    }
}

template <int Type>
inline __m256i loadBlock(const unsigned char* row, int64_t b, float* d) {
    if constexpr (Type == kQ8_0) {
        const unsigned char* blk = row + b * 34;
        unsigned short h;
        memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    } else {
        const unsigned char* blk = row + b * 18;
        unsigned short h;
        memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
        asm("" : "+x"(packed));  // one load for both nibbles (see kernels_avx512.cpp, inRegister)
        const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
        const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
        return _mm256_sub_epi8(_mm256_set_m128i(high, low), _mm256_set1_epi8(8));
    }
}

template <int Type, int R, int T>
void tileBlocks(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
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
    const size_t ahead = static_cast<size_t>(a.prefetchRows) * a.rowStride;
    (void)ahead;
    const BlockAct* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.xq + (t0 + t) * nb;
    for (int64_t b = k0 / 32; b < k1 / 32; ++b) {
        __m256i xlo[T], xhi[T];
        float dx[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            xlo[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t][b].qs));
            xhi[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[t][b].qs + 16));
            dx[t] = xs[t][b].d;
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            if constexpr (T == 1) {
                _mm_prefetch(
                    reinterpret_cast<const char*>(rows[r]) + ahead + b * (Type == kQ8_0 ? 34 : 18),
                    _MM_HINT_T0);
            }
            float dw;
            const __m256i q = loadBlock<Type>(rows[r], b, &dw);
            const __m256i wlo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
            const __m256i whi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const __m256i p = _mm256_add_epi32(_mm256_madd_epi16(wlo, xlo[t]),
                                                   _mm256_madd_epi16(whi, xhi[t]));
                acc[r][t] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * dx[t]), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            float* dst = a.y + (t0 + t) * a.ldy + r0 + r;
            *dst = (add ? *dst : 0.0f) + hsum(acc[r][t]);
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

constexpr bool kDecodeRowByRow = false;  // one FMA chain per 32-64 bytes: keep 4 rows
#include "cpu/kernels_tiling.h"          // here: its templates get this file's instruction set

}  // namespace

void gemmAvx2(const GemmArgs& a) {
    gemmAnyType(a);
}

// Four rows x 32 columns per register tile: each value vector loaded feeds four rows.
void accumulateAvx2(const AccumulateArgs& a) {
    const int64_t wholeCols = a.cols / 32 * 32;
    for (int64_t n0 = 0; n0 < a.rows; n0 += 4) {
        const int64_t nr = a.rows - n0 < 4 ? a.rows - n0 : 4;
        for (int64_t f0 = 0; f0 < wholeCols; f0 += 32) {
            __m256 acc[4][4];
            for (int n = 0; n < 4; ++n) {
                for (int c = 0; c < 4; ++c) acc[n][c] = _mm256_setzero_ps();
            }
            for (int64_t j = 0; j < a.keys; ++j) {
                const float* v = a.v + j * a.ldv + f0;
                const __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
                const __m256 v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
#pragma GCC unroll 4
                for (int n = 0; n < 4; ++n) {
                    if (n >= nr)
                        break;
                    const __m256 pb = _mm256_set1_ps(a.p[(n0 + n) * a.ldp + j]);
                    acc[n][0] = _mm256_fmadd_ps(v0, pb, acc[n][0]);
                    acc[n][1] = _mm256_fmadd_ps(v1, pb, acc[n][1]);
                    acc[n][2] = _mm256_fmadd_ps(v2, pb, acc[n][2]);
                    acc[n][3] = _mm256_fmadd_ps(v3, pb, acc[n][3]);
                }
            }
            for (int64_t n = 0; n < nr; ++n) {
                float* o = a.o + (n0 + n) * a.ldo + f0;
                for (int c = 0; c < 4; ++c)
                    _mm256_storeu_ps(o + 8 * c,
                                     _mm256_add_ps(_mm256_loadu_ps(o + 8 * c), acc[n][c]));
            }
        }
        for (int64_t n = n0; n < n0 + nr; ++n) {  // columns past the last 32
            for (int64_t j = 0; j < a.keys; ++j) {
                const float pj = a.p[n * a.ldp + j];
                for (int64_t f = wholeCols; f < a.cols; ++f)
                    a.o[n * a.ldo + f] += pj * a.v[j * a.ldv + f];
            }
        }
    }
}

double readSumAvx2(const float* p, int64_t n, int64_t aheadBytes, int64_t nearBytes) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        if (aheadBytes > 0 && nearBytes > 0) {
            const char* next = reinterpret_cast<const char*>(p + i) + aheadBytes;
            const char* soon = reinterpret_cast<const char*>(p + i) + nearBytes;
            _mm_prefetch(next, _MM_HINT_T1);
            _mm_prefetch(next + 64, _MM_HINT_T1);
            _mm_prefetch(soon, _MM_HINT_T0);
            _mm_prefetch(soon + 64, _MM_HINT_T0);
        } else if (aheadBytes > 0) {
            const char* next = reinterpret_cast<const char*>(p + i) + aheadBytes;
            _mm_prefetch(next, _MM_HINT_T0);
            _mm_prefetch(next + 64, _MM_HINT_T0);
        }
        s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

double fmaLoopAvx2(int64_t iterations) {
    __m256 a[10];
    for (int j = 0; j < 10; ++j) a[j] = _mm256_set1_ps(1.0f + 0.001f * static_cast<float>(j));
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 10
        for (int j = 0; j < 10; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
    }
    __m256 s = a[0];
    for (int j = 1; j < 10; ++j) s = _mm256_add_ps(s, a[j]);
    return hsum(s);
}

}  // namespace griffin::cpu::abi
