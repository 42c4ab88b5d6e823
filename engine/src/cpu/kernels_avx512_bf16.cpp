// SPDX-License-Identifier: Apache-2.0
// AVX-512 decode (one token) of bf16 rows (F, BW; built with the same -m flags as
// kernels_avx512.cpp, called only when the CPU has them). g++ 12's own avx512fintrin.h trips
// -Wuninitialized on its deliberately undefined registers (_mm512_reduce_add_ps): silenced for
// this file only.
//
// A row takes 32 values per 64-byte load and uses each 32-bit lane's two values where they lie:
// the high one is a float once the low 16 bits are cleared, the low one once shifted up 16 bits.
// The activations are split to match (each 32 values: the even ones, then the odd ones) once per
// call. That is 2 integer operations per 32 weights where widening them took 4.
//
// Tried and left out: AVX512_BF16's vdpbf16ps, which multiplies bf16 pairs. Against activations
// rounded to bf16 it streamed 7680-column rows at 0.98 of a plain read where this kernel's loop
// reached 0.84 (2 threads, 2-core Zen 5 VM), and 2B decode steps ran 1.2x faster, but the
// conformance model's bf16 decode logits moved by 0.48 (the golden set wants f32 arithmetic on
// the bf16 weights, 1e-3). Each activation as two bf16 parts (high, low) cut that to 7.5e-4
// (1.2e-3 on the greedy run) and took the speed with it: 7680 columns 0.76-0.89 of a read, and
// whole decode steps no faster than this kernel's.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/kernels_abi.h"

namespace griffin::cpu::abi {
namespace {

// Keeps a loaded weight vector in its register: GCC would otherwise fold the load into both of
// the instructions that use its halves and read the line twice (see kernels_avx512.cpp).
inline void inRegister(__m512i& v) {
    asm("" : "+v"(v));
}

// Rows of this many columns or more are long: their split activations (30 KB for 7680) and the
// row itself overflow a 32 KB L1, so every activation load went to L2. 2-core Zen 4 VM, one
// thread re-reading 1 MB of rows in L2: 7680 columns 44 GB/s read in pairs (each activation
// vector loaded once for two rows) against 32 one row at a time; 2560 columns 69 against 63, so
// short rows stay one stream per thread.
constexpr int64_t kLongRowColumns = 4096;

// With a software prefetch, long rows are read in column blocks of at most this many: all rows'
// first block, then all rows' second, each row's block prefetching the next row's same block
// (its activations, 16 KB at most, stay in L1). 2-core Zen 4 VM, against rows in pairs with an
// 8 KiB prefetch: 7680 columns streamed by 2 threads, 0.82 of a plain read of the same bytes
// against 0.72 (medians of 9 alternated rounds); whole 2B bf16 decode steps 1.04x faster
// (median of 40 alternated rounds).
constexpr int64_t kBlockColumns = 4096;

// The two lines of a row's 64 columns from k: `ahead` bytes on into L2 only (see runGemm) and,
// unless nearAhead is 0, `nearAhead` bytes on into L1.
inline void prefetchBf16(const unsigned char* row, int64_t k, size_t ahead, size_t nearAhead) {
    const char* at = reinterpret_cast<const char*>(row) + k * 2;
    _mm_prefetch(at + ahead, _MM_HINT_T1);
    _mm_prefetch(at + ahead + 64, _MM_HINT_T1);
    if (nearAhead != 0) {
        _mm_prefetch(at + nearAhead, _MM_HINT_T0);
        _mm_prefetch(at + nearAhead + 64, _MM_HINT_T0);
    }
}

// 32 bf16 weights v (as pairs in 32-bit lanes) times their split activations: the low halves
// (even values) with `even` into accEven, the high halves with `odd` into accOdd.
inline void fmaBf16(__m512i v, __m512 even, __m512 odd, __m512i high, __m512& accEven,
                    __m512& accOdd) {
    accEven = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), even, accEven);
    accOdd = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), odd, accOdd);
}

// Columns [k, end) of one row (end - k a multiple of 32) into four chains, prefetching as
// prefetchBf16 does when Prefetch.
template <bool Prefetch>
inline void spanBf16(const unsigned char* row, const float* split, int64_t k, int64_t end,
                     __m512i high, size_t ahead, size_t nearAhead, __m512 acc[4]) {
    for (; k + 64 <= end; k += 64) {
        if constexpr (Prefetch)
            prefetchBf16(row, k, ahead, nearAhead);
        __m512i v0 = _mm512_loadu_si512(row + k * 2);
        __m512i v1 = _mm512_loadu_si512(row + k * 2 + 64);
        inRegister(v0);
        inRegister(v1);
        fmaBf16(v0, _mm512_load_ps(split + k), _mm512_load_ps(split + k + 16), high, acc[0],
                acc[1]);
        fmaBf16(v1, _mm512_load_ps(split + k + 32), _mm512_load_ps(split + k + 48), high, acc[2],
                acc[3]);
    }
    if (k < end) {  // 32 more
        __m512i v = _mm512_loadu_si512(row + k * 2);
        inRegister(v);
        fmaBf16(v, _mm512_load_ps(split + k), _mm512_load_ps(split + k + 16), high, acc[0], acc[1]);
    }
}

// The row's columns [k, end) (fewer than 32, not split: x as it is), then the sum of the chains.
inline float finishBf16(const unsigned char* row, const float* x, int64_t k, int64_t end,
                        __m512 acc[4]) {
    if (k < end) {
        const __mmask16 lo =
            static_cast<__mmask16>(end - k >= 16 ? 0xFFFF : (1u << (end - k)) - 1u);
        const __mmask16 hi =
            static_cast<__mmask16>(end - k <= 16 ? 0 : (1u << (end - k - 16)) - 1u);
        const __m256i w0 = _mm256_maskz_loadu_epi16(lo, row + k * 2);
        const __m256i w1 = _mm256_maskz_loadu_epi16(hi, row + k * 2 + 32);
        acc[0] =
            _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(w0), 16)),
                            _mm512_maskz_loadu_ps(lo, x + k), acc[0]);
        acc[1] =
            _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(w1), 16)),
                            _mm512_maskz_loadu_ps(hi, x + k + 16), acc[1]);
    }
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// Long rows' column blocks: at most kBlockColumns each, whole pairs of 32 but the last.
struct Blocks {
    int64_t width;
    explicit Blocks(int64_t k) {
        const int64_t count = (k + kBlockColumns - 1) / kBlockColumns;
        width = ((k + count - 1) / count + 63) / 64 * 64;
    }
    int64_t end(int64_t k0, int64_t k) const { return k - k0 < width ? k : k0 + width; }
};

// Long rows with a software prefetch: the rows' first blocks, then their second ones..., each
// prefetching the next row's same block; y sums a row's blocks in order.
void blockedRows(const GemmArgs& a, const float* split, int64_t paired, __m512i high) {
    const Blocks blocks(a.k);
    for (int64_t k0 = 0; k0 < a.k; k0 += blocks.width) {
        const int64_t k1 = blocks.end(k0, a.k), end = k1 < paired ? k1 : paired;
        for (int64_t r = 0; r < a.rows; ++r) {
            const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
            __m512 acc[4];
            for (int i = 0; i < 4; ++i) acc[i] = _mm512_setzero_ps();
            spanBf16<true>(row, split, k0, end, high, a.rowStride, 0, acc);
            const float sum = finishBf16(row, a.x, end, k1, acc);
            a.y[r] = k0 == 0 ? sum : a.y[r] + sum;
        }
    }
}

// Long rows without one, which the hardware prefetcher follows better whole (2B bf16 decode
// steps alternated in one process on the Zen 4 VM: blocks 0.94x of this, medians of 30): two
// rows at a time, each activation vector loaded once for both, summed block by block in the
// same order as blockedRows, so that a prefetch never changes a result. The last odd row alone.
void pairedRows(const GemmArgs& a, const float* split, int64_t paired, __m512i high) {
    const Blocks blocks(a.k);
    int64_t r = 0;
    for (; r + 2 <= a.rows; r += 2) {
        const unsigned char* p = a.w + static_cast<size_t>(r) * a.rowStride;
        const unsigned char* q = p + a.rowStride;
        float sumP = 0.0f, sumQ = 0.0f;
        for (int64_t k0 = 0; k0 < a.k; k0 += blocks.width) {
            const int64_t k1 = blocks.end(k0, a.k), end = k1 < paired ? k1 : paired;
            __m512 pa[4], qa[4];
            for (int i = 0; i < 4; ++i) pa[i] = qa[i] = _mm512_setzero_ps();
            int64_t k = k0;
            for (; k + 64 <= end; k += 64) {
                const __m512 s0 = _mm512_load_ps(split + k), s1 = _mm512_load_ps(split + k + 16);
                const __m512 s2 = _mm512_load_ps(split + k + 32);
                const __m512 s3 = _mm512_load_ps(split + k + 48);
                __m512i v0 = _mm512_loadu_si512(p + k * 2), v1 = _mm512_loadu_si512(p + k * 2 + 64);
                __m512i u0 = _mm512_loadu_si512(q + k * 2), u1 = _mm512_loadu_si512(q + k * 2 + 64);
                inRegister(v0);
                inRegister(v1);
                inRegister(u0);
                inRegister(u1);
                fmaBf16(v0, s0, s1, high, pa[0], pa[1]);
                fmaBf16(v1, s2, s3, high, pa[2], pa[3]);
                fmaBf16(u0, s0, s1, high, qa[0], qa[1]);
                fmaBf16(u1, s2, s3, high, qa[2], qa[3]);
            }
            if (k < end) {  // 32 more
                const __m512 s0 = _mm512_load_ps(split + k), s1 = _mm512_load_ps(split + k + 16);
                __m512i v = _mm512_loadu_si512(p + k * 2), u = _mm512_loadu_si512(q + k * 2);
                inRegister(v);
                inRegister(u);
                fmaBf16(v, s0, s1, high, pa[0], pa[1]);
                fmaBf16(u, s0, s1, high, qa[0], qa[1]);
            }
            const float blockP = finishBf16(p, a.x, end, k1, pa);
            const float blockQ = finishBf16(q, a.x, end, k1, qa);
            sumP = k0 == 0 ? blockP : sumP + blockP;
            sumQ = k0 == 0 ? blockQ : sumQ + blockQ;
        }
        a.y[r] = sumP;
        a.y[r + 1] = sumQ;
    }
    if (r < a.rows) {
        const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
        for (int64_t k0 = 0; k0 < a.k; k0 += blocks.width) {
            const int64_t k1 = blocks.end(k0, a.k), end = k1 < paired ? k1 : paired;
            __m512 acc[4];
            for (int i = 0; i < 4; ++i) acc[i] = _mm512_setzero_ps();
            spanBf16<false>(row, split, k0, end, high, 0, 0, acc);
            const float sum = finishBf16(row, a.x, end, k1, acc);
            a.y[r] = k0 == 0 ? sum : a.y[r] + sum;
        }
    }
}

template <bool Prefetch>
void decodeRows(const GemmArgs& a) {
    alignas(64) float split[kBf16SplitMaxColumns];
    const int64_t paired = a.k / 32 * 32;
    const __m512i evens =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds =
        _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int64_t k = 0; k < paired; k += 32) {
        const __m512 x0 = _mm512_loadu_ps(a.x + k), x1 = _mm512_loadu_ps(a.x + k + 16);
        _mm512_store_ps(split + k, _mm512_permutex2var_ps(x0, evens, x1));
        _mm512_store_ps(split + k + 16, _mm512_permutex2var_ps(x0, odds, x1));
    }
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
    if (a.k >= kLongRowColumns)
        return Prefetch ? blockedRows(a, split, paired, high) : pairedRows(a, split, paired, high);
    const size_t ahead = static_cast<size_t>(a.prefetchBytes);
    const size_t nearAhead = static_cast<size_t>(a.prefetchNearBytes);
    for (int64_t r = 0; r < a.rows; ++r) {
        const unsigned char* row = a.w + static_cast<size_t>(r) * a.rowStride;
        __m512 acc[4];
        for (int i = 0; i < 4; ++i) acc[i] = _mm512_setzero_ps();
        spanBf16<Prefetch>(row, split, 0, paired, high, ahead, nearAhead, acc);
        a.y[r] = finishBf16(row, a.x, paired, a.k, acc);
    }
}

}  // namespace

void decodeBf16Avx512(const GemmArgs& a) {
    if (a.prefetchBytes > 0)  // 0: the hardware prefetcher alone
        decodeRows<true>(a);
    else
        decodeRows<false>(a);
}

}  // namespace griffin::cpu::abi
