// SPDX-License-Identifier: Apache-2.0
// griffin-spec.md §2.7: local (sliding-window) multi-query / grouped-query attention of a chunk
// of queries over the keys before the chunk (the state's ring) and the chunk's own keys.
#pragma once

#include <cstdint>

#include "cpu/thread_pool.h"

namespace griffin::cpu {

struct AttentionShape {
    int64_t heads = 0;
    int64_t kvHeads = 0;  // divides heads
    int64_t headDim = 0;
    int64_t window = 0;  // a query at position p sees keys p - window .. p
};

// The keys and values of the positions before the chunk: slot s holds position positions[s]
// (-1: empty), keys and values [window, kvHeads * headDim], post-RoPE.
struct AttentionRing {
    const float* keys = nullptr;
    const float* values = nullptr;
    const int64_t* positions = nullptr;
};

// out [T, heads * headDim] = softmax(q k^T / sqrt(headDim)) v per head over the visible keys, for
// the T queries at positions firstPos .. firstPos + T - 1. q [T, heads * headDim]; k, v
// [T, kvHeads * headDim] are the chunk's own keys and values (post-RoPE). The ring is read, not
// written.
//
// Scores and the weighted sums are matrix products over blocks of queries (every head that
// shares a key head at once, so each key and value row is read once per block, not once per
// head). One token (decoding) splits its keys across the pool and merges the parts' softmax
// sums, so that the cost grows with the keys actually visible and uses every thread.
void localAttention(ThreadPool& pool, const AttentionShape& shape, const AttentionRing& ring,
                    int64_t firstPos, const float* q, const float* k, const float* v, int64_t T,
                    float* out);

}  // namespace griffin::cpu
