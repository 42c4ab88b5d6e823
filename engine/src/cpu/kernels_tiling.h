// SPDX-License-Identifier: Apache-2.0
// The loop nest shared by the SIMD kernel files: token blocks, K slices, groups of 4 weight rows
// and 3 tokens, over the register tile `tile<Type, R, T>(args, row, token, k0, k1, add)` that
// the including file defines first, with `kDecodeRowByRow`: whether one token (decode) reads
// its rows one at a time (a single stream, best where the tile's loop-carried chain is short
// next to the bytes it reads) rather than 4 at once. Included inside that file's anonymous
// namespace, so each instruction set gets its own copy (no inline function is shared between them;
// see kernels_abi.h).
#pragma once

constexpr int64_t kTokenBlock = 48;  // activations of a token block stay in L2
// A multiple of 32 (blocks) and 16 (lanes); the including file may set another (a multiple of
// 512, for the VNNI kernels' sets of 16 blocks).
#ifdef GRIFFIN_TILES_K_BLOCK
constexpr int64_t kKBlock = GRIFFIN_TILES_K_BLOCK;
#else
constexpr int64_t kKBlock = 512;
#endif

template <int Type, int R>
void rowGroup(const GemmArgs& a, int64_t r0, int64_t tBegin, int64_t tEnd, int64_t k0, int64_t k1,
              bool add) {
    int64_t t = tBegin;
    for (; t + 3 <= tEnd; t += 3) tile<Type, R, 3>(a, r0, t, k0, k1, add);
    if (tEnd - t == 2)
        tile<Type, R, 2>(a, r0, t, k0, k1, add);
    else if (tEnd - t == 1)
        tile<Type, R, 1>(a, r0, t, k0, k1, add);
}

template <int Type>
void gemm(const GemmArgs& a) {
    // Several tokens: columns in slices of kKBlock, so that a row group's slice stays in L1
    // while every token of the block passes over it. One token: whole rows, as streams.
    const int64_t kc = a.tokens > 1 ? kKBlock : a.k;
    for (int64_t tb = 0; tb < a.tokens; tb += kTokenBlock) {
        const int64_t te = tb + kTokenBlock < a.tokens ? tb + kTokenBlock : a.tokens;
        for (int64_t k0 = 0; k0 < a.k; k0 += kc) {
            const int64_t k1 = k0 + kc < a.k ? k0 + kc : a.k;
            const bool add = k0 > 0;
            int64_t r = 0;
            if (kDecodeRowByRow && a.tokens == 1) {
                for (; r < a.rows; ++r) rowGroup<Type, 1>(a, r, tb, te, k0, k1, add);
            }
            for (; r + 4 <= a.rows; r += 4) rowGroup<Type, 4>(a, r, tb, te, k0, k1, add);
            switch (a.rows - r) {
                case 3:
                    rowGroup<Type, 3>(a, r, tb, te, k0, k1, add);
                    break;
                case 2:
                    rowGroup<Type, 2>(a, r, tb, te, k0, k1, add);
                    break;
                case 1:
                    rowGroup<Type, 1>(a, r, tb, te, k0, k1, add);
                    break;
                default:
                    break;
            }
        }
    }
}

#ifndef GRIFFIN_TILES_BLOCK_TYPES_ONLY
inline void gemmAnyType(const GemmArgs& a) {
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
#endif
