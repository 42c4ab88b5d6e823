// SPDX-License-Identifier: Apache-2.0
// CpuBackend: the exact float32 reference forward pass (griffin-spec.md §2), every other backend
// is tested against it.
#pragma once

#include <chrono>
#include <vector>

#include "backend.h"
#include "cpu/decode_tuner.h"
#include "cpu/thread_pool.h"
#include "io/page_arena.h"
#include "weights.h"

namespace griffin::cpu {

// Not thread-safe. Keeps references to `config` and `weights`, which must outlive it.
class CpuBackend final : public Backend {
public:
    CpuBackend(const ModelConfig& config, const ModelWeights& weights, int threads);

    BackendKind kind() const override { return BackendKind::Cpu; }
    Status forward(State& state, std::span<const int32_t> tokens, bool allLogits,
                   float* logits) override;
    // Stage timing (Model::setProfiling): the wall time of each stage of forward() on the
    // calling thread, the pool's work included, summed per stage name in counters().opProfile
    // ("dispatches": how many times the stage ran). Products that read weights are named
    // "matmul.*" (with what runs fused into them), the embedding lookup "embed_gather".
    bool setProfiling(bool on) override;
    BackendCounters counters() const override;

private:
    using Clock = std::chrono::steady_clock;
    // Ends the stage that began at the previous endStage (or forward's start) when profiling.
    void endStage(const char* op);
    // Each block reads u [T, D] (normalised input) and writes its output [T, D] to `out`.
    // The RG-LRU gates of one layer, [gate][head][output][input]: the input gate's heads, then
    // the recurrent gate's, each head's block an ordinary matrix for the kernels (rows =
    // outputs), and the whole one stream of 2 * lruWidth rows.
    struct Gates {
        const std::byte* data = nullptr;    // null for attention layers
        WeightType type = WeightType::F32;  // f32, bf16 or f16: as the checkpoint stores them
    };
    void recurrentBlock(const RecurrentWeights& w, const Gates& gates, State::RecurrentLayer& s,
                        const float* u, int64_t firstPos, int64_t T, float* out);
    void attentionBlock(const AttentionWeights& w, State::AttentionLayer& s, const float* u,
                        int64_t firstPos, int64_t T, float* out);
    void mlpBlock(const LayerWeights& w, const float* v, int64_t T, float* out);
    // Tied LM head and soft cap: logits of the last row of `normed` [T, D], or of every row.
    void lmHead(const float* normed, int64_t T, bool allLogits, float* logits);

    // Work buffers handed out in order and kept from layer to layer: allocating and zeroing
    // fresh ones per layer cost about a fifth of a prefill in page faults and memset.
    class Scratch {
    public:
        void rewind() { m_next = 0; }
        float* take(int64_t n);  // n floats, contents unspecified
        float* takeZeroed(int64_t n);
        // Frees the buffers when they hold more than `bytes` (after a long prefill).
        void releaseIfOver(size_t bytes);

    private:
        std::vector<std::vector<float>> m_buffers;
        size_t m_next = 0;
    };

    const ModelConfig& m_config;
    const ModelWeights& m_weights;
    ThreadPool m_pool;
    std::vector<float> m_invFreq;  // [ropeDims / 2]
    // Per layer, in huge pages (m_gateArena) like the weights: decoding streams all of them for
    // every token.
    std::vector<Gates> m_gates;
    io::PageArena m_gateArena;
    std::vector<std::vector<std::byte>> m_gateFallback;  // where no huge-page memory was mapped
    Scratch m_passScratch;                               // for a whole forward pass
    Scratch m_blockScratch;                              // rewound by each block
    DecodeTuner m_tuner{decodePrefetchCandidates()};
    bool m_profiling = false;
    std::vector<OpProfile> m_stages;  // in the order first seen
    Clock::time_point m_stageStart;
};

}  // namespace griffin::cpu
