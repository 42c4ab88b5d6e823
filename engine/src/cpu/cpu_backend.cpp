// SPDX-License-Identifier: Apache-2.0
// The reference forward pass. Read it next to griffin-spec.md §2.9 (whole-model pseudo-code).
#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "cpu/ops.h"

namespace griffin::cpu {
namespace {

// Above this, the work buffers are freed after the pass (a 4096-token prefill of the 2B model
// needs about 300 MB of them; decoding needs under 1 MB).
constexpr size_t kKeptScratchBytes = size_t{64} << 20;

}  // namespace

float* CpuBackend::Scratch::take(int64_t n) {
    if (m_next == m_buffers.size())
        m_buffers.emplace_back();
    std::vector<float>& b = m_buffers[m_next++];
    if (b.size() < static_cast<size_t>(n))
        b.resize(static_cast<size_t>(n));
    return b.data();
}

float* CpuBackend::Scratch::takeZeroed(int64_t n) {
    float* p = take(n);
    std::fill_n(p, n, 0.0f);
    return p;
}

void CpuBackend::Scratch::releaseIfOver(size_t bytes) {
    size_t held = 0;
    for (const std::vector<float>& b : m_buffers) held += b.capacity() * sizeof(float);
    if (held > bytes)
        m_buffers = {};
    m_next = 0;
}

CpuBackend::CpuBackend(const ModelConfig& config, const ModelWeights& weights, int threads)
    : m_config(config), m_weights(weights), m_pool(threads) {
    m_invFreq.resize(static_cast<size_t>(config.ropeDims() / 2));
    ropeInverseFrequencies(config.ropeDims(), config.ropeTheta, m_invFreq.data());
    const int64_t bw = config.lruBlockWidth(), heads = config.numHeads;
    const size_t perLayer = static_cast<size_t>(2 * heads * bw * bw);
    m_gates.assign(weights.layers.size(), Gates{});
    std::vector<float> row(static_cast<size_t>(bw));
    for (size_t layer = 0; layer < weights.layers.size(); ++layer) {
        if (weights.layers[layer].type != BlockType::Recurrent)
            continue;
        const RecurrentWeights& w = weights.layers[layer].recurrent;
        // Both gates in the type they are stored in where it is a 16-bit float one (transposed,
        // the values unchanged): a bf16 checkpoint's gates as f32 were twice the bytes it
        // stores, 94 instead of 47 MB of each 2B decode step. Else f32.
        const WeightType stored = w.inputGate.type;
        const bool keep = stored == w.recurrentGate.type &&
                          (stored == WeightType::BF16 || stored == WeightType::F16);
        const WeightType type = keep ? stored : WeightType::F32;
        const size_t valueBytes = type == WeightType::F32 ? 4 : 2;
        auto* gates = m_gateArena.allocate(perLayer * valueBytes);
        if (gates == nullptr)
            gates = m_gateFallback.emplace_back(perLayer * valueBytes).data();
        m_gates[layer] = Gates{gates, type};
        for (int64_t gate = 0; gate < 2; ++gate) {
            const Matrix& src = gate == 0 ? w.inputGate : w.recurrentGate;
            for (int64_t h = 0; h < heads; ++h) {
                std::byte* block = gates + (gate * heads + h) * bw * bw * valueBytes;
                for (int64_t i = 0; i < bw; ++i) {
                    // Row i of the head's block: input i to every output.
                    if (keep) {
                        const std::byte* in = src.row(h * bw + i);
                        for (int64_t o = 0; o < bw; ++o)
                            std::memcpy(block + (o * bw + i) * 2, in + o * 2, 2);
                    } else {
                        loadRow(src, h * bw + i, row.data());
                        for (int64_t o = 0; o < bw; ++o)
                            std::memcpy(block + (o * bw + i) * 4, &row[static_cast<size_t>(o)], 4);
                    }
                }
            }
        }
    }
}

// griffin-spec.md §2.2-2.3: embedding, residual blocks, final norm, tied LM head, soft cap.
// Kept whole so that it reads as the model.
Status CpuBackend::forward(State& state, std::span<const int32_t> tokens, bool allLogits,
                           float* logits) {
    const ModelConfig& c = m_config;
    const int64_t T = static_cast<int64_t>(tokens.size()), D = c.width;
    const int64_t firstPos = state.position();
    // Decode steps (one token, logits wanted) tune the kernels' prefetch for this model.
    const bool tuning = T == 1 && logits != nullptr && !decodePrefetchFixed();
    const Clock::time_point stepStart = Clock::now();
    if (tuning) {
        const PrefetchSetting setting = m_tuner.next();
        useDecodePrefetch(setting.ahead, setting.nearAhead);
    }
    if (m_profiling)
        m_stageStart = stepStart;

    // Embedding lookup times bf16(sqrt(D)).
    m_passScratch.rewind();
    float* x = m_passScratch.take(T * D);
    const float scale = c.embeddingScale();
    for (int64_t t = 0; t < T; ++t) {
        float* row = x + t * D;
        loadRow(m_weights.embedding, tokens[static_cast<size_t>(t)], row);
        for (int64_t i = 0; i < D; ++i) row[i] *= scale;
    }
    endStage("embed_gather");
    observe(-1, x, T, D);

    float* normed = m_passScratch.take(T * D);
    float* branch = m_passScratch.take(T * D);
    const double eps = c.rmsNormEps;
    for (int64_t layer = 0; layer < c.numLayers; ++layer) {
        const LayerWeights& lw = m_weights.layers[static_cast<size_t>(layer)];
        const size_t slot = static_cast<size_t>(c.indexAmongType(layer));
        // Temporal block with its residual.
        rmsNorm(x, lw.temporalNormGain.data(), T, D, eps, normed);
        endStage("rms_norm");
        if (lw.type == BlockType::Recurrent) {
            recurrentBlock(lw.recurrent, m_gates[static_cast<size_t>(layer)],
                           state.recurrentLayers()[slot], normed, firstPos, T, branch);
        } else {
            attentionBlock(lw.attention, state.attentionLayers()[slot], normed, firstPos, T,
                           branch);
        }
        for (int64_t i = 0; i < T * D; ++i) x[i] += branch[i];
        endStage("residual");
        // MLP block with its residual.
        rmsNorm(x, lw.channelNormGain.data(), T, D, eps, normed);
        endStage("rms_norm");
        mlpBlock(lw, normed, T, branch);
        for (int64_t i = 0; i < T * D; ++i) x[i] += branch[i];
        endStage("residual");
        observe(layer, x, T, D);
        endStage("other");
    }

    rmsNorm(x, m_weights.finalNormGain.data(), T, D, eps, normed);
    endStage("rms_norm");
    observe(c.numLayers, normed, T, D);

    state.setPosition(firstPos + T);
    if (logits != nullptr) {
        lmHead(normed, T, allLogits, logits);
        endStage("matmul.lm_head");
    }
    m_passScratch.releaseIfOver(kKeptScratchBytes);
    m_blockScratch.releaseIfOver(kKeptScratchBytes);
    endStage("other");
    if (tuning)
        m_tuner.report(std::chrono::duration<double>(Clock::now() - stepStart).count());
    return {};
}

bool CpuBackend::setProfiling(bool on) {
    m_profiling = on;
    m_stages.clear();
    return true;
}

BackendCounters CpuBackend::counters() const {
    BackendCounters counters;
    counters.opProfile = m_stages;
    const bool fixed = decodePrefetchFixed();
    const PrefetchSetting setting =
        fixed ? PrefetchSetting{decodePrefetchBytes(), decodePrefetchNearBytes()}
              : m_tuner.chosen();
    counters.decodePrefetchBytes = setting.ahead;
    counters.decodePrefetchNearBytes = setting.ahead != 0 ? setting.nearAhead : 0;
    counters.decodePrefetchTuningRounds = fixed ? -1 : m_tuner.rounds();
    std::stable_sort(counters.opProfile.begin(), counters.opProfile.end(),
                     [](const OpProfile& a, const OpProfile& b) { return a.seconds > b.seconds; });
    return counters;
}

void CpuBackend::endStage(const char* op) {
    if (!m_profiling)
        return;
    const Clock::time_point now = Clock::now();
    auto it = std::find_if(m_stages.begin(), m_stages.end(),
                           [&](const OpProfile& s) { return s.op == op; });
    if (it == m_stages.end())
        it = m_stages.insert(m_stages.end(), OpProfile{op, 0, 0.0});
    it->dispatches += 1;
    it->seconds += std::chrono::duration<double>(now - m_stageStart).count();
    m_stageStart = now;
}

void CpuBackend::lmHead(const float* normed, int64_t T, bool allLogits, float* logits) {
    const ModelConfig& c = m_config;
    const int64_t D = c.width;
    const int64_t rows = allLogits ? T : 1;
    const float* finalRows = normed + (T - rows) * D;
    // The soft cap (256,000 tanh per row) on the logits each thread has just computed.
    const int64_t vocab = m_weights.embedding.rows;
    const std::function<void(int64_t, int64_t)> cap = [&](int64_t r0, int64_t r1) {
        for (int64_t t = 0; t < rows; ++t)
            softCap(logits + t * vocab + r0, r1 - r0, static_cast<float>(c.logitsSoftCap));
    };
    matmulAll(m_pool, {Product{&m_weights.embedding, nullptr, logits, &cap}}, finalRows, rows);
}

// griffin-spec.md §2.6: linear_y + GeLU, linear_x, causal Conv1D, RG-LRU, gated linear_out.
void CpuBackend::recurrentBlock(const RecurrentWeights& w, const Gates& gates,
                                State::RecurrentLayer& s, const float* u, int64_t firstPos,
                                int64_t T, float* out) {
    const int64_t L = m_config.lruWidth, K = m_config.convWidth;
    m_blockScratch.rewind();
    float* yb = m_blockScratch.take(T * L);
    float* xb = m_blockScratch.take(T * L);
    float* xc = m_blockScratch.take(T * L);
    // The GeLU of linear_y and the conv of linear_x run on the rows (channels) each thread has
    // just computed, as the products' `after` steps: a serial conv over all channels was 8-11 us
    // of a 2B decode token per layer, its weights cold after the products' stream.
    const std::function<void(int64_t, int64_t)> geluRows = [&](int64_t r0, int64_t r1) {
        for (int64_t t = 0; t < T; ++t) geluInPlace(yb + t * L + r0, r1 - r0);
    };
    // Conv1D over [tail (K-1 rows, oldest first) ++ xb], channel by channel; tap K-1 is the
    // current token. Each sum in the order bias, tap 0, ..., tap K-1.
    float* tail = s.convTail.data();
    const std::function<void(int64_t, int64_t)> convRows = [&](int64_t c0, int64_t c1) {
        conv1dRows(w.convWeight.data(), w.convBias.data(), K, L, tail, xb, T, c0, c1, xc);
    };
    matmulAll(m_pool,
              {Product{&w.linearY, w.linearYBias.data(), yb, &geluRows},
               Product{&w.linearX, w.linearXBias.data(), xb, &convRows}},
              u, T);
    endStage("matmul.linear_xy_gelu_conv");

    // RG-LRU gate pre-activations depend only on the conv output: computed for all t first.
    // Block-diagonal (griffin-spec.md §2.6.2): head h's outputs read only head h's inputs. The
    // gates' 2L rows are split over the pool in tiles of 4 like a matmul's, each range run
    // head by head: one stream through both gates' weights. As whole (head, gate) jobs, each a
    // new 256 KB matrix for the prefetchers and in 4 KB pages, the 2B model's gates read at
    // about half the memory's pace in decoding.
    float* gateXPre = m_blockScratch.take(T * L);
    float* gateAPre = m_blockScratch.take(T * L);
    const int64_t heads = m_config.numHeads, bw = m_config.lruBlockWidth();
    float* headInputs = m_blockScratch.take(T * L);  // [head][t][bw]
    for (int64_t h = 0; h < heads; ++h) {
        for (int64_t t = 0; t < T; ++t)
            std::copy_n(xc + t * L + h * bw, bw, headInputs + (h * T + t) * bw);
    }
    const Isa isa = activeIsa();
    const int64_t valueBytes = gates.type == WeightType::F32 ? 4 : 2;
    m_pool.parallelFor(2 * L / 4, 1, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin * 4; row < end * 4;) {
            const int64_t block = row / bw, h = block % heads;  // block = gate * heads + h
            const bool inputGate = block < heads;
            const int64_t r0 = row % bw, r1 = std::min(bw, r0 + end * 4 - row);
            const Matrix m{gates.type, gates.data + block * bw * bw * valueBytes, bw, bw};
            float* dst = (inputGate ? gateXPre : gateAPre) + h * bw;
            gemmRows(isa, m, r0, r1, headInputs + h * T * bw, nullptr, T, dst + r0, L);
            const float* bias = (inputGate ? w.inputGateBias : w.recurrentGateBias).data() + h * bw;
            for (int64_t t = 0; t < T; ++t) {
                for (int64_t j = r0; j < r1; ++j) dst[t * L + j] += bias[j];
            }
            row += r1 - r0;
        }
    });
    endStage("matmul.rg_lru_gates");
    // griffin-spec.md §2.6.2: the scan, sequential in t, f32 state; position 0 resets. Channels
    // are independent: split across the pool, each running its channels through every t.
    float* gated = m_blockScratch.take(T * L);
    m_pool.parallelFor(L, 64, [&](int64_t chBegin, int64_t chEnd) {
        const int64_t n = chEnd - chBegin;
        for (int64_t t = 0; t < T; ++t) {
            const int64_t i = t * L + chBegin;
            rgLruSteps(isa, xc + i, gateXPre + i, gateAPre + i, w.logA.data() + chBegin, yb + i,
                       firstPos + t == 0, n, s.h.data() + chBegin, gated + i);
        }
    });
    endStage("rg_lru_scan");
    matmul(m_pool, w.linearOut, gated, T, w.linearOutBias.data(), out);
    endStage("matmul.linear_out");
}

// griffin-spec.md §2.7: MQA/GQA local attention; a query at position p sees keys p-W..p.
void CpuBackend::attentionBlock(const AttentionWeights& w, State::AttentionLayer& s, const float* u,
                                int64_t firstPos, int64_t T, float* out) {
    const ModelConfig& c = m_config;
    const int64_t H = c.numHeads, KV = c.numKvHeads, hd = c.headDim, W = c.attentionWindow;
    const int64_t qDim = H * hd, kvDim = KV * hd;
    m_blockScratch.rewind();
    float* q = m_blockScratch.take(T * qDim);
    float* k = m_blockScratch.take(T * kvDim);
    float* v = m_blockScratch.take(T * kvDim);
    matmulAll(m_pool,
              {Product{&w.q, nullptr, q}, Product{&w.k, nullptr, k}, Product{&w.v, nullptr, v}}, u,
              T);
    endStage("matmul.qkv");
    // One rotation per position for all its heads (its cos and sin in double took 11 us per
    // layer of a 2B decode step when computed head by head).
    float* ropeCos = m_blockScratch.take(c.ropeDims() / 2);
    float* ropeSin = m_blockScratch.take(c.ropeDims() / 2);
    for (int64_t t = 0; t < T; ++t) {
        ropeRotation(c.ropeDims(), firstPos + t, m_invFreq.data(), ropeCos, ropeSin);
        for (int64_t h = 0; h < H; ++h)
            applyRope(q + t * qDim + h * hd, c.ropeDims(), ropeCos, ropeSin);
        for (int64_t h = 0; h < KV; ++h)
            applyRope(k + t * kvDim + h * hd, c.ropeDims(), ropeCos, ropeSin);
    }
    endStage("rope");

    // Keys visible to this chunk: the ring as it was before the chunk, then the chunk's own.
    float* attended = m_blockScratch.take(T * qDim);
    const AttentionShape shape{H, KV, hd, W};
    const AttentionRing ring{s.keys.data(), s.values.data(), s.slotPositions.data()};
    localAttention(m_pool, shape, ring, firstPos, q, k, v, T, attended);
    endStage("attention");
    matmul(m_pool, w.o, attended, T, w.oBias.data(), out);
    endStage("matmul.attention_out");

    // Only now write the chunk into the ring (slot = position mod W).
    for (int64_t t = std::max<int64_t>(0, T - W); t < T; ++t) {
        const int64_t pos = firstPos + t, slot = pos % W;
        std::copy_n(k + t * kvDim, kvDim, s.keys.data() + slot * kvDim);
        std::copy_n(v + t * kvDim, kvDim, s.values.data() + slot * kvDim);
        s.slotPositions[static_cast<size_t>(slot)] = pos;
    }
    endStage("kv_ring_write");
}

// griffin-spec.md §2.5: GeGLU MLP.
void CpuBackend::mlpBlock(const LayerWeights& w, const float* v, int64_t T, float* out) {
    const int64_t M = m_config.mlpWidth;
    m_blockScratch.rewind();
    float* gate = m_blockScratch.take(T * M);
    float* up = m_blockScratch.take(T * M);
    const std::initializer_list<Product> products = {
        Product{&w.mlpGate, w.mlpGateBias.data(), gate}, Product{&w.mlpUp, w.mlpUpBias.data(), up}};
    if (T == 1) {
        // Decoding: the two products as one split (each thread one stream, through the gate's
        // rows or the up's), then the GeGLU on the caller (7680 values for the 2B model, a few
        // microseconds). By row ranges, each thread switched between the two matrices at every
        // range it claimed: 2B q4_0 decode, in one process with the same products chained
        // alone, 0.85 ms a token over the chain's time by row ranges, 0.54 as one split.
        matmulAll(m_pool, products, v, T);
        geluTimes(gate, up, M);
    } else {
        // gelu(gate) * up on each range of rows as soon as both products have it (still in
        // cache for a chunk's many rows).
        matmulByRow(m_pool, products, v, T, [&](int64_t r0, int64_t r1) {
            for (int64_t t = 0; t < T; ++t) geluTimes(gate + t * M + r0, up + t * M + r0, r1 - r0);
        });
    }
    endStage("matmul.mlp_gate_up_geglu");
    matmul(m_pool, w.mlpDown, gate, T, w.mlpDownBias.data(), out);
    endStage("matmul.mlp_down");
}

}  // namespace griffin::cpu
