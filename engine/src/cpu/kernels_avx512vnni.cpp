// SPDX-License-Identifier: Apache-2.0
// AVX-512 VNNI kernels for the block types (q8_0, q4_0): vpdpbusd multiplies 64 unsigned weight
// bytes with 64 signed activation bytes and adds each 4 products into one of 16 int32 lanes, so
// one instruction does the integer work of two q8_0 blocks (or half of four q4_0 blocks) that
// took the AVX-512 path three. The activations are 8-bit here, grouped as ActGroup8 describes;
// the weights are GGUF blocks, or for kQ4_0Grouped q4_0 rows rearranged at load so that a group
// of 4 blocks is one 64-byte load and one 8-byte load of scales (quant.h, groupQ4Row). Float types
// are left to the AVX-512 kernels.
//
// Unsigned weights: q8_0 bytes are flipped to w + 128 and q4_0 nibbles are used as they are
// (w + 8). The excess, 128 * sum(x) or 8 * sum(x) per lane, is precomputed with the activations
// (ActGroup8::corr) and is where each lane's sum starts.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

constexpr int64_t groupBlocks(int type) {
    return type == kQ8_0 ? kQ8GroupBlocks : kQ4GroupBlocks;
}

inline unsigned scaleBits(const unsigned char* blk) {
    unsigned short h;
    memcpy(&h, blk, 2);
    return h;
}

// The weights of group g of a row (count blocks of it; the rest zero) as unsigned bytes laid out
// like ActGroup8::q, and each lane's weight scale.
template <int Type>
inline void loadGroup(const unsigned char* row, int64_t g, int64_t count, __m512i* w, __m512* dw) {
    if constexpr (Type == kQ4_0Grouped) {
        // One 64-byte load for all four blocks' quants where the group is full (about a third
        // fewer vector instructions than gathering four GGUF blocks); a partial group is GGUF.
        if (count == kQ4GroupBlocks) {
            const unsigned char* grp = row + g * 4 * 18;
            const __m512i v = _mm512_loadu_si512(grp);
            const __m512i low = _mm512_set1_epi8(0x0F);
            w[0] = _mm512_and_si512(v, low);
            w[1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
            const __m512 d = _mm512_castps128_ps512(
                _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(grp + 64))));
            *dw = _mm512_permutexvar_ps(
                _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0), d);
            return;
        }
        return loadGroup<kQ4_0>(row, g, count, w, dw);
    } else if constexpr (Type == kQ8_0) {
        const unsigned char* blk = row + g * 2 * 34;
        const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
        __m512i v =
            _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2)));
        unsigned bits = scaleBits(blk);
        if (count == 2) {
            v = _mm512_inserti64x4(
                v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 34 + 2)), 1);
            bits |= scaleBits(blk + 34) << 16;
            w[0] = _mm512_xor_si512(v, flip);
        } else {
            // Half a group: its missing block multiplies zero activations, but must not add
            // the +128 either.
            w[0] = _mm512_maskz_xor_epi64(0x0F, v, flip);
        }
        const __m512 d =
            _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits))));
        *dw = _mm512_permutexvar_ps(
            _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), d);
    } else {
        const unsigned char* blk = row + g * 4 * 18;
        // Four blocks' 16 quant bytes, one per 128-bit lane.
        __m512i v =
            _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2)));
        unsigned long long bits = scaleBits(blk);
        if (count > 1) {
            v = _mm512_inserti32x4(
                v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18 + 2)), 1);
            bits |= static_cast<unsigned long long>(scaleBits(blk + 18)) << 16;
        }
        if (count > 2) {
            v = _mm512_inserti32x4(
                v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 36 + 2)), 2);
            bits |= static_cast<unsigned long long>(scaleBits(blk + 36)) << 32;
        }
        if (count > 3) {
            v = _mm512_inserti32x4(
                v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 54 + 2)), 3);
            bits |= static_cast<unsigned long long>(scaleBits(blk + 54)) << 48;
        }
        const __m512i low = _mm512_set1_epi8(0x0F);
        w[0] = _mm512_and_si512(v, low);
        w[1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
        const __m512 d =
            _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(bits))));
        *dw = _mm512_permutexvar_ps(
            _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0), d);
    }
}

template <int Type, int R, int T>
void tile(const GemmArgs& a, int64_t r0, int64_t t0, int64_t k0, int64_t k1, bool add) {
    constexpr int64_t G = groupBlocks(Type);
    constexpr int V = Type == kQ8_0 ? 1 : 2;  // weight vectors per group
    __m512 acc[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    const int64_t nb = a.k / 32, groups = (nb + G - 1) / G;
    const unsigned char* rows[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) rows[r] = a.w + static_cast<size_t>(r0 + r) * a.rowStride;
    const size_t ahead = static_cast<size_t>(a.prefetchRows) * a.rowStride;
    (void)ahead;
    const ActGroup8* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xs[t] = a.xg + (t0 + t) * groups;
    // k0 and k1 are multiples of kKBlock (a whole number of groups) or k1 == a.k.
    const int64_t gEnd = (k1 / 32 + G - 1) / G;
    for (int64_t g = k0 / 32 / G; g < gEnd; ++g) {
        const int64_t count = nb - g * G < G ? nb - g * G : G;
        __m512i xq[T][V];
        __m512i corr[T];
        __m512 dx[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) xq[t][v] = _mm512_loadu_si512(xs[t][g].q + 64 * v);
            corr[t] = _mm512_loadu_si512(xs[t][g].corr);
            dx[t] = _mm512_loadu_ps(xs[t][g].d);
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            if constexpr (T == 1) {  // decode: see GemmArgs::prefetchRows
                // A group is 68 (q8_0) or 72 (q4_0) bytes: two prefetches miss no line. Into
                // L2 only (see runGemm in kernels.cpp).
                const char* next = reinterpret_cast<const char*>(rows[r]) + ahead +
                                   g * G * (Type == kQ8_0 ? 34 : 18);
                _mm_prefetch(next, _MM_HINT_T1);
                _mm_prefetch(next + 64, _MM_HINT_T1);
            }
            __m512i w[V];
            __m512 dw;
            loadGroup<Type>(rows[r], g, count, w, &dw);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                __m512i s = _mm512_dpbusd_epi32(corr[t], w[0], xq[t][0]);
                if constexpr (V == 2)
                    s = _mm512_dpbusd_epi32(s, w[1], xq[t][1]);
                acc[r][t] =
                    _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, dx[t]), acc[r][t]);
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

// Decode row by row: one q8_0/q4_0 row streamed at a time, with the prefetch GemmArgs asks for,
// read 15-50% faster than 4 interleaved rows (micro-benchmark, 2 threads, rows of 2560 and
// 7680); the tile's chain is one FMA per 68-72 bytes.
constexpr bool kDecodeRowByRow = true;
#define GRIFFIN_TILES_BLOCK_TYPES_ONLY
#include "cpu/kernels_tiling.h"  // here: its templates get this file's instruction set

}  // namespace

void quantizeGroupsAvx512Vnni(int type, const float* x, int64_t rows, int64_t cols,
                              ActGroup8* out) {
    const int64_t blocks = cols / 32, per = groupBlocks(type), groups = (blocks + per - 1) / per;
    const __m512 magnitude = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    const __m512i excess = _mm512_set1_epi8(static_cast<char>(type == kQ8_0 ? 128 : 8));
    for (int64_t t = 0; t < rows; ++t) {
        ActGroup8* row = out + t * groups;
        for (int64_t b = 0; b < blocks; ++b) {
            ActGroup8& g = row[b / per];
            const int64_t j = b % per;
            const float* v = x + t * cols + b * 32;
            const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            const float amax = _mm512_reduce_max_ps(
                _mm512_max_ps(_mm512_and_ps(v0, magnitude), _mm512_and_ps(v1, magnitude)));
            const float d = amax / 127.0f;
            const __m512 inv = _mm512_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
            // Round to nearest even (the default rounding mode), as the portable code does.
            const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, inv)));
            const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, inv)));
            if (type == kQ8_0) {  // values 0-31 at 32j; lanes 8j..8j+7
                _mm_storeu_si128(reinterpret_cast<__m128i*>(g.q + 32 * j), q0);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(g.q + 32 * j + 16), q1);
                _mm256_storeu_ps(g.d + 8 * j, _mm256_set1_ps(d));
            } else {  // values 0-15 at 16j, 16-31 at 64 + 16j; lanes 4j..4j+3
                _mm_storeu_si128(reinterpret_cast<__m128i*>(g.q + 16 * j), q0);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(g.q + 64 + 16 * j), q1);
                _mm_storeu_ps(g.d + 4 * j, _mm_set1_ps(d));
            }
        }
        // corr[l] = -excess * (sum of lane l's q values): vpdpbusd with the excess as the
        // unsigned operand.
        for (int64_t gi = 0; gi < groups; ++gi) {
            ActGroup8& g = row[gi];
            __m512i sum =
                _mm512_dpbusd_epi32(_mm512_setzero_si512(), excess, _mm512_loadu_si512(g.q));
            if (type != kQ8_0)
                sum = _mm512_dpbusd_epi32(sum, excess, _mm512_loadu_si512(g.q + 64));
            _mm512_storeu_si512(g.corr, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
        }
    }
}

void gemmAvx512Vnni(const GemmArgs& a) {
    switch (a.type) {
        case kQ8_0:
            return gemm<kQ8_0>(a);
        case kQ4_0:
            return gemm<kQ4_0>(a);
        case kQ4_0Grouped:
            return gemm<kQ4_0Grouped>(a);
        default:
            return gemmAvx512(a);
    }
}

}  // namespace griffin::cpu::abi
