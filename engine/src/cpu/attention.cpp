// SPDX-License-Identifier: Apache-2.0
#include "cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/ops.h"

namespace griffin::cpu {
namespace {

constexpr int64_t kQueryBlock = 32;   // chunk tokens per job: 320 score rows for 10 heads
constexpr int64_t kDecodeKeys = 256;  // keys per job when decoding one token
constexpr int64_t kMaxDecodeParts = 8;
// Below this many keys one thread takes them all: split in two, 65 keys took 39 instead of 32 us
// a layer, 128 keys 40 instead of 51.
constexpr int64_t kMinSplitKeys = 128;
constexpr float kMasked = -std::numeric_limits<float>::infinity();

}  // namespace

void localAttention(ThreadPool& pool, const AttentionShape& shape, const AttentionRing& ring,
                    int64_t firstPos, const float* q, const float* k, const float* v, int64_t T,
                    float* out) {
    const int64_t H = shape.heads, KV = shape.kvHeads, hd = shape.headDim, W = shape.window;
    const int64_t G = H / KV, qDim = H * hd, kvDim = KV * hd;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
    // Position p sits in slot p % W, so before the ring fills (firstPos < W) only the slots
    // below firstPos can hold a key.
    const int64_t ringSlots = std::min(firstPos, W);
    const int64_t blocks = (T + kQueryBlock - 1) / kQueryBlock;
    int64_t parts = 1;
    if (T == 1) {
        parts = std::clamp<int64_t>((ringSlots + 1 + kDecodeKeys - 1) / kDecodeKeys, 1,
                                    kMaxDecodeParts);
        // As many parts for every thread: 5 parts on 2 threads left one idle for a fifth of
        // the time. 2B attention, 8 layers, 2-core Sapphire Rapids VM, both threads busy
        // before (in-process medians of 9): 1024 keys 183 -> 161 us a layer, 200 keys 65 -> 57.
        const int64_t threads = pool.size();
        if (threads > 1 && ringSlots + 1 >= kMinSplitKeys)
            parts = (parts + threads - 1) / threads * threads;
    }
    const int64_t jobs = blocks * KV * parts;
    // Decoding with several parts: each part's unnormalised sums, row maxima and row sums,
    // merged once every part is done.
    std::vector<float> partSums, partMax, partTotal;
    if (parts > 1) {
        partSums.resize(static_cast<size_t>(jobs * G * hd));
        partMax.resize(static_cast<size_t>(jobs * G));
        partTotal.resize(static_cast<size_t>(jobs * G));
    }
    const Isa isa = activeIsa();
    pool.parallelFor(jobs, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> queries, scores, sums, rowMax, rowTotal;
        for (int64_t job = begin; job < end; ++job) {
            const int64_t part = job % parts, g = job / parts % KV, block = job / parts / KV;
            const int64_t t0 = block * kQueryBlock, t1 = std::min(T, t0 + kQueryBlock);
            const int64_t rows = (t1 - t0) * G;  // row (t - t0) * G + i: head g * G + i at t
            // The keys some query of the block sees, in order: ring slots [0, ringCount), then
            // the chunk's keys from ownFirst. Ring positions are below firstPos and query t sees
            // positions from firstPos + t - W, so the ring only matters while t0 < W.
            const int64_t ringCount = t0 < W ? ringSlots : 0;
            const int64_t ownFirst = std::max<int64_t>(0, t0 - W);
            const int64_t total = ringCount + (t1 - ownFirst);
            const int64_t ka = total * part / parts, kb = total * (part + 1) / parts;
            const int64_t n = kb - ka;
            const int64_t ringBegin = std::min(ka, ringCount), ringEnd = std::min(kb, ringCount);
            const int64_t nRing = ringEnd - ringBegin;
            const int64_t ownBegin = ownFirst + std::max<int64_t>(0, ka - ringCount);
            const int64_t ownEnd = ownFirst + std::max<int64_t>(0, kb - ringCount);

            queries.resize(static_cast<size_t>(rows * hd));
            for (int64_t t = t0; t < t1; ++t) {
                std::copy_n(q + t * qDim + g * G * hd, G * hd, queries.data() + (t - t0) * G * hd);
            }
            scores.resize(static_cast<size_t>(rows * n));
            if (nRing > 0) {
                gemmF32(isa, ring.keys + ringBegin * kvDim + g * hd, kvDim, nRing, hd,
                        queries.data(), rows, scores.data(), n,
                        ring.values + ringBegin * kvDim + g * hd);
            }
            if (ownEnd > ownBegin) {
                gemmF32(isa, k + ownBegin * kvDim + g * hd, kvDim, ownEnd - ownBegin, hd,
                        queries.data(), rows, scores.data() + nRing, n,
                        v + ownBegin * kvDim + g * hd);
            }
            rowMax.assign(static_cast<size_t>(rows), kMasked);
            rowTotal.assign(static_cast<size_t>(rows), 0.0f);
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t t = t0 + r / G;
                const int64_t oldest = firstPos + t - W;  // the oldest position t sees
                float* s = scores.data() + r * n;
                for (int64_t c = 0; c < nRing; ++c) {
                    const int64_t p = ring.positions[ringBegin + c];
                    s[c] = p >= 0 && p >= oldest ? s[c] * scale : kMasked;
                }
                float* own = s + nRing;
                for (int64_t j = ownBegin; j < ownEnd; ++j) {
                    own[j - ownBegin] = j >= t - W && j <= t ? own[j - ownBegin] * scale : kMasked;
                }
                float m = kMasked;
                for (int64_t c = 0; c < n; ++c) m = std::max(m, s[c]);
                rowMax[static_cast<size_t>(r)] = m;
                if (m == kMasked) {
                    std::fill_n(s, n, 0.0f);  // nothing visible in this part
                } else {
                    rowTotal[static_cast<size_t>(r)] = expShifted(s, n, m);
                }
            }
            sums.assign(static_cast<size_t>(rows * hd), 0.0f);
            accumulateRows(isa, scores.data(), n, rows, nRing,
                           ring.values + ringBegin * kvDim + g * hd, kvDim, hd, sums.data(), hd);
            accumulateRows(isa, scores.data() + nRing, n, rows, ownEnd - ownBegin,
                           v + ownBegin * kvDim + g * hd, kvDim, hd, sums.data(), hd);
            if (parts == 1) {
                // Every row sees at least its own key, so its total is positive.
                for (int64_t r = 0; r < rows; ++r) {
                    const int64_t t = t0 + r / G, head = g * G + r % G;
                    const float inv = 1.0f / rowTotal[static_cast<size_t>(r)];
                    float* dst = out + t * qDim + head * hd;
                    for (int64_t i = 0; i < hd; ++i)
                        dst[i] = sums[static_cast<size_t>(r * hd + i)] * inv;
                }
            } else {
                std::copy(sums.begin(), sums.end(), partSums.begin() + job * G * hd);
                std::copy(rowMax.begin(), rowMax.end(), partMax.begin() + job * G);
                std::copy(rowTotal.begin(), rowTotal.end(), partTotal.begin() + job * G);
            }
        }
    });
    if (parts == 1)
        return;
    // One token: merge the parts of each head, rescaled to the largest maximum.
    for (int64_t g = 0; g < KV; ++g) {
        for (int64_t i = 0; i < G; ++i) {
            const int64_t head = g * G + i;
            float m = kMasked;
            for (int64_t part = 0; part < parts; ++part)
                m = std::max(m, partMax[static_cast<size_t>((g * parts + part) * G + i)]);
            float* dst = out + head * hd;
            std::fill_n(dst, hd, 0.0f);
            float total = 0.0f;
            for (int64_t part = 0; part < parts; ++part) {
                const int64_t job = g * parts + part;
                const float pm = partMax[static_cast<size_t>(job * G + i)];
                if (pm == kMasked)
                    continue;
                const float w = std::exp(pm - m);
                total += w * partTotal[static_cast<size_t>(job * G + i)];
                const float* src = partSums.data() + (job * G + i) * hd;
                for (int64_t c = 0; c < hd; ++c) dst[c] += w * src[c];
            }
            const float inv = 1.0f / total;
            for (int64_t c = 0; c < hd; ++c) dst[c] *= inv;
        }
    }
}

}  // namespace griffin::cpu
