// SPDX-License-Identifier: Apache-2.0
// AVX2 kernels for q4_0 and q8_0 rows in the interleaved layout (quant.h, interleaveRow;
// cpu/weight_layout.h), for CPUs with AVX2 (or AVX-512 without VNNI). q4_0 takes the 8-bit
// interleaved activations of the VNNI kernels (ActInterleaved). A set of 16 blocks is read as
// two halves of 32 bytes per 64-byte vector: lane b of a half is block 8h + b, so each half needs
// one scale conversion and one float multiply-add for 8 blocks, and no shuffles. vpmaddubsw
// multiplies the unsigned nibbles (w + 8, 0..15) with signed activation bytes and adds pairs into
// int16 (at most 2 * 15 * 127 = 3810, so a half's 8 products add up in int16 without
// saturating); vpmaddwd with ones then adds each 32-bit lane's pair into int32, and the excess (8
// times the block's activation sum, ActInterleaved::corr) is added once.
//
// q8_0 rows in the same layout take 16-bit interleaved activations (ActInterleaved16; 8-bit ones
// cost too much accuracy, see cpu::readsInterleaved): addHalfQ8 widens the weight bytes to int16
// for vpmaddwd, 4 blocks per register, and sorts the block sums into lanes once per half.
//
// They replaced, for both types, the GGUF-block kernels of kernels_avx2.cpp / kernels_avx512.cpp
// (16-bit activations, weights widened to int16 and scaled block by block), which now run only
// for rows a caller lays out in GGUF blocks.
// 2B shapes, `griffin bench --synthetic 2b --type q4_0`, 2-core Sapphire Rapids VM capped with
// GRIFFIN_CPU_ISA: AVX2 prefill of 512 tokens 25 -> 57 tok/s, decode at context 16 10.6 -> 17.4
// tok/s (0.45 -> 0.73 of the read bandwidth); AVX-512 without VNNI 24 -> 62 and 10.4 -> 17.8.
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

constexpr int kVectors = 4;                       // 64-byte weight vectors per set
constexpr size_t kSetBytes = kLaneBlocks * 18;    // 16 blocks of 16 + 2 bytes
constexpr int kVectorsQ8 = 8;                     // q8_0
constexpr size_t kSetBytesQ8 = kLaneBlocks * 34;  // 16 blocks of 32 + 2 bytes

// One load for a vector used twice: see kernels_avx512.cpp (inRegister). Each kernel file keeps
// its own copy (kernels_abi.h).
inline void inRegister(__m256i& v) {
    asm("" : "+x"(v));
}

inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// 32 bytes at p: all of them (lanes >= 8), else the first `lanes` 32-bit lanes and zeros.
inline __m256i loadHalf(const unsigned char* p, int lanes) {
    if (lanes >= 8)
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), index);
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), mask);
}

// The 8 block scales of half h of a set of `width` blocks (16, or fewer for a row's last set),
// zeros past its last block.
inline __m256 loadScales(const unsigned char* scales, int64_t width, int h) {
    if (width == 16)
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * h)));
    unsigned short halves[8] = {};
    const int64_t lanes = width - 8 * h;
    memcpy(halves, scales + 16 * h, static_cast<size_t>(lanes < 8 ? lanes : 8) * 2);
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(halves)));
}

// acc[t] += half h of set `set` (`width` blocks) of a weight row times that of activation set
// xs[t], for T tokens.
template <int T>
inline void addHalf(const unsigned char* set, int64_t width, int h,
                    const ActInterleaved* const (&xs)[T], __m256 (&acc)[T]) {
    const int lanes = width == 16 ? 8 : static_cast<int>(width - 8 * h);
    if (lanes <= 0)
        return;
    const size_t stride = width == 16 ? 64 : static_cast<size_t>(4 * width);  // between vectors
    const unsigned char* q = set + 32 * h;
    const __m256 dw = loadScales(set + kVectors * stride, width, h);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i lo[4], hi[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
        __m256i w = loadHalf(q + stride * v, lanes);
        inRegister(w);
        lo[v] = _mm256_and_si256(w, low);
        hi[v] = _mm256_and_si256(_mm256_srli_epi16(w, 4), low);
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
        const int8_t* x = xs[t]->q + 32 * h;
        __m256i s16 = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            s16 = _mm256_add_epi16(
                s16, _mm256_maddubs_epi16(
                         lo[v], _mm256_load_si256(reinterpret_cast<const __m256i*>(x + 64 * v))));
            s16 = _mm256_add_epi16(
                s16,
                _mm256_maddubs_epi16(
                    hi[v], _mm256_load_si256(reinterpret_cast<const __m256i*>(x + 64 * (4 + v)))));
        }
        const __m256i s32 = _mm256_add_epi32(
            _mm256_madd_epi16(s16, ones),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(xs[t]->corr + 8 * h)));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32),
                                 _mm256_mul_ps(dw, _mm256_load_ps(xs[t]->d + 8 * h)), acc[t]);
    }
}

// q8_0: acc[t] += half h of set `set` (`width` blocks) of a weight row times that of the 16-bit
// activation set xs[t]. Each vector's 32 bytes (4 of each of 8 blocks, stored plus 128) are
// widened to int16 in two groups of 4 blocks, which vpmaddwd multiplies with the activations and
// adds in pairs: 2 int32 lanes per block (at most 2 * 255 * 32767 per product pair, 2^27 over
// the 8 vectors, with the -128 * sum(q) excess in corr). One horizontal add and one permutation
// per half put each block in its own lane, in order, for one conversion and one multiply-add.
template <int T>
inline void addHalfQ8(const unsigned char* set, int64_t width, int h,
                      const ActInterleaved16* const (&xs)[T], __m256 (&acc)[T]) {
    const int lanes = width == 16 ? 8 : static_cast<int>(width - 8 * h);
    if (lanes <= 0)
        return;
    const size_t stride = width == 16 ? 64 : static_cast<size_t>(4 * width);  // between vectors
    const unsigned char* q = set + 32 * h;
    const __m256 dw = loadScales(set + kVectorsQ8 * stride, width, h);
    __m256i lo[T], hi[T];  // blocks 0-3 and 4-7 of the half, two lanes each
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) lo[t] = hi[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int v = 0; v < kVectorsQ8; ++v) {
        __m256i wl, wh;
        if (lanes >= 8) {
            wl = _mm256_cvtepu8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + stride * v)));
            wh = _mm256_cvtepu8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + stride * v + 16)));
        } else {
            const __m256i w = loadHalf(q + stride * v, lanes);
            wl = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(w));
            wh = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(w, 1));
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const int16_t* x = xs[t]->q + 64 * v + 32 * h;
            lo[t] = _mm256_add_epi32(
                lo[t],
                _mm256_madd_epi16(wl, _mm256_load_si256(reinterpret_cast<const __m256i*>(x))));
            hi[t] = _mm256_add_epi32(
                hi[t],
                _mm256_madd_epi16(wh, _mm256_load_si256(reinterpret_cast<const __m256i*>(x + 16))));
        }
    }
    // hadd gives blocks 0 1 4 5 | 2 3 6 7.
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
        const __m256i s32 = _mm256_add_epi32(
            _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(lo[t], hi[t]), order),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(xs[t]->corr + 8 * h)));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32),
                                 _mm256_mul_ps(dw, _mm256_load_ps(xs[t]->d + 8 * h)), acc[t]);
    }
}

// What differs between q4_0 and q8_0 for the row and token loops.
struct Q4 {
    using Act = ActInterleaved;
    static constexpr size_t kBytes = kSetBytes;
    static const Act* acts(const GemmArgs& a) { return a.xi; }
    template <int T>
    static void half(const unsigned char* set, int64_t width, int h, const Act* const (&xs)[T],
                     __m256 (&acc)[T]) {
        addHalf<T>(set, width, h, xs, acc);
    }
};
struct Q8 {
    using Act = ActInterleaved16;
    static constexpr size_t kBytes = kSetBytesQ8;
    static const Act* acts(const GemmArgs& a) { return a.xi16; }
    template <int T>
    static void half(const unsigned char* set, int64_t width, int h, const Act* const (&xs)[T],
                     __m256 (&acc)[T]) {
        addHalfQ8<T>(set, width, h, xs, acc);
    }
};

// y for one weight row and tokens t0 .. t0+T-1 over sets [s0, s1) (add: onto y's value).
template <typename Kind, int T>
void rowTokens(const GemmArgs& a, int64_t r, int64_t t0, int64_t s0, int64_t s1, bool add) {
    const int64_t nb = a.k / 32, sets = (nb + kLaneBlocks - 1) / kLaneBlocks;
    const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
    __m256 acc[T];
    const typename Kind::Act* xs[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const size_t ahead = static_cast<size_t>(a.prefetchBytes);  // decode only (T = 1)
    const size_t nearAhead = static_cast<size_t>(a.prefetchNearBytes);
    for (int64_t s = s0; s < s1; ++s) {
        const unsigned char* set = row + static_cast<size_t>(s) * Kind::kBytes;
        if (T == 1 && a.tokens == 1 && ahead != 0) {
            // As the VNNI kernels: every line the set spans, `ahead` bytes on into L2 and
            // `nearAhead` on into L1.
            constexpr int kLines = static_cast<int>((Kind::kBytes + 63) / 64);
            const char* next = reinterpret_cast<const char*>(set) + ahead;
#pragma GCC unroll 9
            for (int l = 0; l < kLines; ++l) _mm_prefetch(next + 64 * l, _MM_HINT_T1);
            if (nearAhead != 0) {
                const char* soon = reinterpret_cast<const char*>(set) + nearAhead;
#pragma GCC unroll 9
                for (int l = 0; l < kLines; ++l) _mm_prefetch(soon + 64 * l, _MM_HINT_T0);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) xs[t] = Kind::acts(a) + (t0 + t) * sets + s;
        const int64_t width =
            nb - s * kLaneBlocks < kLaneBlocks ? nb - s * kLaneBlocks : kLaneBlocks;
        Kind::template half<T>(set, width, 0, xs, acc);
        Kind::template half<T>(set, width, 1, xs, acc);
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
        float* dst = a.y + (t0 + t) * a.ldy + r;
        *dst = (add ? *dst : 0.0f) + hsum(acc[t]);
    }
}

// Several tokens: blocks of 48 tokens (their activations stay in L2) and slices of 4 sets (a
// row's slice, 1.1 or 2.2 KB, stays in L1 while each group of 4 tokens passes over it). One
// token: whole rows, one after another, as a stream.
constexpr int64_t kTokenBlock = 48;
constexpr int64_t kSliceSets = 4;

template <typename Kind>
void gemm(const GemmArgs& a) {
    const int64_t nb = a.k / 32, sets = (nb + kLaneBlocks - 1) / kLaneBlocks;
    if (a.tokens == 1) {
        for (int64_t r = 0; r < a.rows; ++r) rowTokens<Kind, 1>(a, r, 0, 0, sets, false);
        return;
    }
    for (int64_t tb = 0; tb < a.tokens; tb += kTokenBlock) {
        const int64_t te = tb + kTokenBlock < a.tokens ? tb + kTokenBlock : a.tokens;
        for (int64_t s0 = 0; s0 < sets; s0 += kSliceSets) {
            const int64_t s1 = s0 + kSliceSets < sets ? s0 + kSliceSets : sets;
            for (int64_t r = 0; r < a.rows; ++r) {
                int64_t t = tb;
                for (; t + 4 <= te; t += 4) rowTokens<Kind, 4>(a, r, t, s0, s1, s0 > 0);
                switch (te - t) {
                    case 3:
                        rowTokens<Kind, 3>(a, r, t, s0, s1, s0 > 0);
                        break;
                    case 2:
                        rowTokens<Kind, 2>(a, r, t, s0, s1, s0 > 0);
                        break;
                    case 1:
                        rowTokens<Kind, 1>(a, r, t, s0, s1, s0 > 0);
                        break;
                    default:
                        break;
                }
            }
        }
    }
}

// x [rows, cols] into interleaved activation sets of 8-bit (ActInterleaved, levels 127) or
// 16-bit (ActInterleaved16, levels 32767) values, with `excess` times each block's sum in corr.
template <typename Set>
void quantizeSets(const float* x, int64_t rows, int64_t cols, int32_t excess, Set* out) {
    constexpr bool kWide = sizeof(out->q[0]) == 2;
    constexpr float kLevels = kWide ? 32767.0f : 127.0f;
    const int64_t blocks = cols / 32, sets = (blocks + kLaneBlocks - 1) / kLaneBlocks;
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    for (int64_t t = 0; t < rows; ++t) {
        Set* row = out + t * sets;
        for (int64_t blk = 0; blk < blocks; ++blk) {
            Set& set = row[blk / kLaneBlocks];
            const int64_t b = blk % kLaneBlocks;
            const float* v = x + t * cols + blk * 32;
            __m256 part[4], m = _mm256_setzero_ps();
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) {
                part[i] = _mm256_loadu_ps(v + 8 * i);
                m = _mm256_max_ps(m, _mm256_and_ps(part[i], magnitude));
            }
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            const float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
            const __m256 inv = _mm256_set1_ps(amax > 0.0f ? kLevels / amax : 0.0f);
            // Round to nearest even (the default rounding mode), as the portable code does.
            __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) {
                const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(part[i], inv));
                sum = _mm256_add_epi32(sum, q);
                // Values 8i .. 8i+7: groups of 4 (v = 2i, 2i + 1) go to lane b of vectors v.
                const __m128i q16 =
                    _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
                if constexpr (kWide) {
                    _mm_storel_epi64(reinterpret_cast<__m128i*>(set.q + 64 * (2 * i) + 4 * b), q16);
                    _mm_storel_epi64(reinterpret_cast<__m128i*>(set.q + 64 * (2 * i + 1) + 4 * b),
                                     _mm_unpackhi_epi64(q16, q16));
                } else {
                    const __m128i q8 = _mm_packs_epi16(q16, q16);
                    const int32_t lo = _mm_cvtsi128_si32(q8), hi = _mm_extract_epi32(q8, 1);
                    memcpy(set.q + 64 * (2 * i) + 4 * b, &lo, 4);
                    memcpy(set.q + 64 * (2 * i + 1) + 4 * b, &hi, 4);
                }
            }
            __m128i s4 =
                _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            set.d[b] = amax / kLevels;
            set.corr[b] = -excess * _mm_cvtsi128_si32(s4);
        }
    }
}

}  // namespace

void quantizeInterleavedAvx2(int type, const float* x, int64_t rows, int64_t cols,
                             ActInterleaved* out) {
    quantizeSets(x, rows, cols, type == kQ8_0 ? 128 : 8, out);
}

void quantizeInterleaved16Avx2(const float* x, int64_t rows, int64_t cols, ActInterleaved16* out) {
    quantizeSets(x, rows, cols, 128, out);
}

void gemmAvx2Q4Interleaved(const GemmArgs& a) {
    if (a.type == kQ4_0Interleaved && a.xi != nullptr)
        gemm<Q4>(a);
}

void gemmAvx2Q8Interleaved(const GemmArgs& a) {
    if (a.type == kQ8_0Interleaved && a.xi16 != nullptr)
        gemm<Q8>(a);
}

}  // namespace griffin::cpu::abi
