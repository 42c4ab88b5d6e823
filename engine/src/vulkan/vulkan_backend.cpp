// SPDX-License-Identifier: Apache-2.0
// The Vulkan forward pass. Read it next to cpu/cpu_backend.cpp: the same steps in the same order
// (griffin-spec.md §2.9).
#include "vulkan/vulkan_backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "cpu/ops.h"
#include "log.h"
#include "state_residence.h"

namespace griffin::vulkan {
namespace {

// Tokens recorded into one command buffer. Bounds the rope table, the logits and hidden-state
// slices and the descriptor sets of one submit.
constexpr int64_t kMaxBatch = 64;

BufferSlice subSlice(const BufferSlice& s, VkDeviceSize offset, VkDeviceSize size) {
    return BufferSlice{s.buffer, s.offset + offset, size,
                       s.mapped != nullptr ? s.mapped + offset : nullptr};
}

bool envFlagSet(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

// The link to the State whose copy the device buffers hold.
class VulkanBackend::Residence final : public detail::StateResidence {
public:
    explicit Residence(VulkanBackend& backend) : m_backend(backend) {}

protected:
    bool download(State& state) override {
        if (auto s = m_backend.downloadState(state); !s) {
            logger(Component::Vulkan)
                ->error("reading the state back from the device failed: {}", s.error().message);
            return false;
        }
        return true;
    }

private:
    VulkanBackend& m_backend;
};

Result<std::unique_ptr<VulkanBackend>> VulkanBackend::create(const ModelConfig& config,
                                                             const ModelWeights& weights,
                                                             const VulkanOptions& options) {
    std::unique_ptr<VulkanBackend> backend(new VulkanBackend(config, weights));
    if (auto s = backend->upload(options); !s)
        return s.error();
    if (auto s = backend->warmPipelines(); !s)
        return s.error();
    return backend;
}

VulkanBackend::~VulkanBackend() {
    // The state on the device goes back to its host buffers before the device goes away.
    if (m_residence && m_residence->state() != nullptr) {
        if (m_residence->hostStale) {
            if (auto s = downloadState(*m_residence->state()); !s) {
                logger(Component::Vulkan)
                    ->error("reading the state back from the device failed: {}", s.error().message);
            }
            m_residence->hostStale = false;
        }
        m_residence->detach();
    }
}

Status VulkanBackend::upload(const VulkanOptions& options) {
    const ModelConfig& c = m_config;
    m_invFreq.resize(static_cast<size_t>(c.ropeDims() / 2));
    cpu::ropeInverseFrequencies(c.ropeDims(), c.ropeTheta, m_invFreq.data());

    auto context = Context::create(options.context);
    if (!context)
        return context.error();
    m_context = std::move(*context);
    auto registry = PipelineRegistry::create(*m_context);
    if (!registry)
        return registry.error();
    m_registry = std::move(*registry);
    const VkDeviceSize range = m_context->caps().maxStorageBufferRange;
    const VkDeviceSize chunk =
        options.maxChunkBytes > 0 ? std::min(options.maxChunkBytes, range) : range;
    VkDeviceSize blockBytes = VkDeviceSize{64} << 20;
    if (m_context->caps().maxMemoryAllocationSize > 0)
        blockBytes = std::min(blockBytes, m_context->caps().maxMemoryAllocationSize);
    auto transfer = Transfer::create(*m_context, VkDeviceSize{16} << 20);
    if (!transfer)
        return transfer.error();
    m_transfer = std::move(*transfer);
    // Weights, state and scratch in device-local memory; what the host writes or reads every
    // token (rope table, logits, observed hidden states) in host-visible memory.
    const bool allowMapping = options.allowMapping && !envFlagSet("GRIFFIN_VULKAN_STAGING");
    m_arena = std::make_unique<Arena>(
        *m_context, blockBytes, MemoryKind::Device, allowMapping,
        [t = m_transfer.get()](VkBuffer b, VkDeviceSize bytes) { return t->zero(b, 0, bytes); });
    m_hostArena = std::make_unique<Arena>(*m_context, VkDeviceSize{4} << 20, MemoryKind::Host);
    for (auto* r : {&m_recorder, &m_decodeLogits, &m_decodeGreedy}) {
        auto recorder = CommandRecorder::create(*m_context, *m_registry);
        if (!recorder)
            return recorder.error();
        *r = std::move(*recorder);
    }

    Arena& arena = *m_arena;
    Transfer& t = *m_transfer;
    // Binds `dst` to an upload of `src`, returning from upload() on failure.
#define GRIFFIN_UPLOAD(dst, expr) \
    do {                          \
        auto r_ = (expr);         \
        if (!r_)                  \
            return r_.error();    \
        dst = std::move(*r_);     \
    } while (false)
    auto matrix = [&](const Matrix& m) { return uploadMatrix(arena, t, m, chunk); };
    // block_diag_matvec reads f32 / bf16 / f16 only.
    auto gate = [&](const Matrix& m) { return uploadMatrix(arena, t, m, chunk, false); };
    auto floats = [&](const std::vector<float>& v) { return uploadFloats(arena, t, v); };
    auto zeros = [&](int64_t n) { return arena.allocate(static_cast<VkDeviceSize>(n) * 4); };

    GRIFFIN_UPLOAD(m_embedding, matrix(m_weights.embedding));
    GRIFFIN_UPLOAD(m_finalGain, floats(m_weights.finalNormGain));
    const int64_t D = c.width, L = c.lruWidth, M = c.mlpWidth, W = c.attentionWindow;
    const int64_t kvDim = c.numKvHeads * c.headDim, qDim = c.numHeads * c.headDim;
    for (int64_t layer = 0; layer < c.numLayers; ++layer) {
        const LayerWeights& lw = m_weights.layers[static_cast<size_t>(layer)];
        LayerDevice ld;
        ld.slot = static_cast<size_t>(c.indexAmongType(layer));
        GRIFFIN_UPLOAD(ld.temporalGain, floats(lw.temporalNormGain));
        GRIFFIN_UPLOAD(ld.channelGain, floats(lw.channelNormGain));
        GRIFFIN_UPLOAD(ld.mlpGate, matrix(lw.mlpGate));
        GRIFFIN_UPLOAD(ld.mlpUp, matrix(lw.mlpUp));
        GRIFFIN_UPLOAD(ld.mlpDown, matrix(lw.mlpDown));
        GRIFFIN_UPLOAD(ld.mlpGateBias, floats(lw.mlpGateBias));
        GRIFFIN_UPLOAD(ld.mlpUpBias, floats(lw.mlpUpBias));
        GRIFFIN_UPLOAD(ld.mlpDownBias, floats(lw.mlpDownBias));
        if (lw.type == BlockType::Recurrent) {
            const RecurrentWeights& w = lw.recurrent;
            RecurrentDevice rd;
            GRIFFIN_UPLOAD(rd.linearX, matrix(w.linearX));
            GRIFFIN_UPLOAD(rd.linearY, matrix(w.linearY));
            GRIFFIN_UPLOAD(rd.linearOut, matrix(w.linearOut));
            GRIFFIN_UPLOAD(rd.inputGate, gate(w.inputGate));
            GRIFFIN_UPLOAD(rd.recurrentGate, gate(w.recurrentGate));
            GRIFFIN_UPLOAD(rd.linearXBias, floats(w.linearXBias));
            GRIFFIN_UPLOAD(rd.linearYBias, floats(w.linearYBias));
            GRIFFIN_UPLOAD(rd.linearOutBias, floats(w.linearOutBias));
            GRIFFIN_UPLOAD(rd.convWeight, floats(w.convWeight));
            GRIFFIN_UPLOAD(rd.convBias, floats(w.convBias));
            GRIFFIN_UPLOAD(rd.inputGateBias, floats(w.inputGateBias));
            GRIFFIN_UPLOAD(rd.recurrentGateBias, floats(w.recurrentGateBias));
            GRIFFIN_UPLOAD(rd.logA, floats(w.logA));
            GRIFFIN_UPLOAD(rd.h, zeros(L));
            GRIFFIN_UPLOAD(rd.convTail, zeros(std::max<int64_t>(1, (c.convWidth - 1) * L)));
            m_recurrent.push_back(std::move(rd));
        } else {
            const AttentionWeights& w = lw.attention;
            AttentionDevice ad;
            GRIFFIN_UPLOAD(ad.q, matrix(w.q));
            GRIFFIN_UPLOAD(ad.k, matrix(w.k));
            GRIFFIN_UPLOAD(ad.v, matrix(w.v));
            GRIFFIN_UPLOAD(ad.o, matrix(w.o));
            GRIFFIN_UPLOAD(ad.oBias, floats(w.oBias));
            GRIFFIN_UPLOAD(ad.keys, zeros(W * kvDim));
            GRIFFIN_UPLOAD(ad.values, zeros(W * kvDim));
            GRIFFIN_UPLOAD(ad.slotPositions, zeros(W));
            m_attention.push_back(std::move(ad));
        }
        m_layers.push_back(std::move(ld));
    }
    // Activations of up to kMaxBatch tokens, one row per token; rows padded so that each starts
    // at a legal storage-buffer offset (per-token ops bind a single row).
    Scratch& s = m_scratch;
    const int64_t align = static_cast<int64_t>(
        std::max<VkDeviceSize>(m_context->caps().minStorageBufferOffsetAlignment, 16) / 4);
    auto stride = [&](int64_t n) { return static_cast<uint32_t>((n + align - 1) / align * align); };
    s.strideD = stride(D);
    s.strideL = stride(L);
    s.strideQ = stride(qDim);
    s.strideKv = stride(kvDim);
    s.strideM = stride(M);
    GRIFFIN_UPLOAD(s.x, zeros(kMaxBatch * s.strideD));
    GRIFFIN_UPLOAD(s.xn, zeros(kMaxBatch * s.strideD));
    for (BufferSlice* b : {&s.y, &s.xb, &s.xc, &s.gateX, &s.gateA, &s.gated}) {
        GRIFFIN_UPLOAD(*b, zeros(kMaxBatch * s.strideL));
    }
    GRIFFIN_UPLOAD(s.q, zeros(kMaxBatch * s.strideQ));
    GRIFFIN_UPLOAD(s.attended, zeros(kMaxBatch * s.strideQ));
    GRIFFIN_UPLOAD(s.k, zeros(kMaxBatch * s.strideKv));
    GRIFFIN_UPLOAD(s.v, zeros(kMaxBatch * s.strideKv));
    GRIFFIN_UPLOAD(s.scores, zeros(kMaxBatch * c.numHeads * (W + 1)));
    GRIFFIN_UPLOAD(
        s.attentionPartials,
        zeros(kMaxBatch * static_cast<int64_t>(OpRecorder::attentionPartialFloats(
                              static_cast<uint32_t>(c.numHeads), static_cast<uint32_t>(c.headDim),
                              static_cast<uint32_t>(W)))));
    for (BufferSlice* b : {&s.gate, &s.up, &s.act}) {
        GRIFFIN_UPLOAD(*b, zeros(kMaxBatch * s.strideM));
    }
    GRIFFIN_UPLOAD(s.ropeTable, m_hostArena->allocate(static_cast<VkDeviceSize>(std::max<int64_t>(
                                                          1, kMaxBatch * c.ropeDims())) *
                                                      4));
    GRIFFIN_UPLOAD(s.stepParams, m_hostArena->allocate(kMaxBatch * sizeof(StepParams)));
    const uint32_t vocab = static_cast<uint32_t>(m_embedding.rows);
    GRIFFIN_UPLOAD(s.deviceLogits, zeros(vocab));
    GRIFFIN_UPLOAD(s.argmaxPartials, arena.allocate(OpRecorder::argmaxPartialBytes(vocab)));
    GRIFFIN_UPLOAD(s.argmaxResult, m_hostArena->allocate(8));
#undef GRIFFIN_UPLOAD
    if (auto st = t.flush(); !st)
        return st;
    logger(Component::Vulkan)
        ->info("weights on {}: {} MiB ({}), {} MiB staged", m_context->caps().name,
               m_arena->allocatedBytes() >> 20,
               m_arena->mapped() ? "device-local, mapped" : "device-local", t.stagedBytes() >> 20);
    return {};
}

Status VulkanBackend::warmPipelines() {
    const auto started = std::chrono::steady_clock::now();
    if (m_scratch.logits.empty()) {
        auto slice = m_hostArena->allocate(static_cast<VkDeviceSize>(m_embedding.rows) * 4);
        if (!slice)
            return slice.error();
        m_scratch.logits.push_back(*slice);
    }
    auto record = [&](CommandRecorder& recorder, size_t tokens, int32_t greedyLimit) -> Status {
        if (auto s = recorder.begin(); !s)
            return s;
        OpRecorder ops(*m_registry, recorder);
        auto lastRow = [tokens](size_t t) { return t + 1 == tokens ? 0 : -1; };
        if (auto s = recordBatch(ops, tokens, lastRow, greedyLimit); !s)
            return s;
        return recorder.end();
    };
    // The decode steps are kept (the first token replays them); the full prefill batch only
    // compiles the multi-column variants, and is recorded anew when a prefill comes.
    const int32_t vocab = static_cast<int32_t>(m_embedding.rows);
    if (auto s = record(*m_decodeLogits, 1, 0); !s)
        return s;
    if (auto s = record(*m_decodeGreedy, 1, vocab); !s)
        return s;
    m_greedyLimit = vocab;
    if (auto s = record(*m_recorder, static_cast<size_t>(kMaxBatch), 0); !s)
        return s;
    logger(Component::Vulkan)
        ->info("{} pipelines compiled and the decode step recorded in {:.0f} ms",
               m_registry->size(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                   .count());
    return {};
}

Status VulkanBackend::makeResident(State& state) {
    if (!m_residence)
        m_residence = std::make_shared<Residence>(*this);
    Residence& r = *m_residence;
    if (r.state() == &state) {
        if (r.deviceStale) {
            // The host changed it (reset, load, the CPU backend): send it again.
            if (auto s = uploadState(state); !s)
                return s;
            r.deviceStale = false;
            r.hostStale = false;
        }
        return {};
    }
    // Another state is on the device: bring it back to its host buffers, then unlink it.
    if (State* previous = r.state()) {
        if (r.hostStale) {
            if (auto s = downloadState(*previous); !s)
                return s;
            r.hostStale = false;
        }
        r.detach();
    }
    // `state` may live on another device (or this one's earlier link): make its host copy current.
    detail::StateResidence::release(state);
    if (auto s = uploadState(state); !s)
        return s;
    r.attach(state, m_residence);
    return {};
}

Status VulkanBackend::uploadState(State& state) {
    Transfer& t = *m_transfer;
    auto put = [&](const BufferSlice& dst, const auto& v) {
        return t.upload(dst, 0, v.data(), v.size() * sizeof(v[0]));
    };
    auto& recurrent = detail::StateResidence::recurrent(state);
    auto& attention = detail::StateResidence::attention(state);
    for (size_t i = 0; i < m_recurrent.size(); ++i) {
        if (auto s = put(m_recurrent[i].h, recurrent[i].h); !s)
            return s;
        if (auto s = put(m_recurrent[i].convTail, recurrent[i].convTail); !s)
            return s;
    }
    std::vector<int32_t> slots;
    for (size_t i = 0; i < m_attention.size(); ++i) {
        const State::AttentionLayer& a = attention[i];
        if (auto s = put(m_attention[i].keys, a.keys); !s)
            return s;
        if (auto s = put(m_attention[i].values, a.values); !s)
            return s;
        slots.resize(a.slotPositions.size());
        for (size_t j = 0; j < a.slotPositions.size(); ++j) {
            if (a.slotPositions[j] > std::numeric_limits<int32_t>::max())
                return makeError(ErrorCode::Unsupported, "Vulkan: position beyond 2^31");
            slots[j] = static_cast<int32_t>(a.slotPositions[j]);
        }
        if (auto s = put(m_attention[i].slotPositions, slots); !s)  // copied at once
            return s;
    }
    if (auto s = t.flush(); !s)
        return s;
    ++m_stateUploads;
    return {};
}

Status VulkanBackend::downloadState(State& state) {
    Transfer& t = *m_transfer;
    auto get = [&](const BufferSlice& src, auto& v) {
        return t.download(src, 0, v.data(), v.size() * sizeof(v[0]));
    };
    auto& recurrent = detail::StateResidence::recurrent(state);
    auto& attention = detail::StateResidence::attention(state);
    for (size_t i = 0; i < m_recurrent.size(); ++i) {
        if (auto s = get(m_recurrent[i].h, recurrent[i].h); !s)
            return s;
        if (auto s = get(m_recurrent[i].convTail, recurrent[i].convTail); !s)
            return s;
    }
    std::vector<std::vector<int32_t>> slots(m_attention.size());
    for (size_t i = 0; i < m_attention.size(); ++i) {
        State::AttentionLayer& a = attention[i];
        if (auto s = get(m_attention[i].keys, a.keys); !s)
            return s;
        if (auto s = get(m_attention[i].values, a.values); !s)
            return s;
        slots[i].resize(a.slotPositions.size());
        if (auto s = get(m_attention[i].slotPositions, slots[i]); !s)
            return s;
    }
    if (auto s = t.flush(); !s)
        return s;
    for (size_t i = 0; i < m_attention.size(); ++i) {
        std::vector<int64_t>& out = attention[i].slotPositions;
        for (size_t j = 0; j < out.size(); ++j) out[j] = slots[i][j];
    }
    ++m_stateDownloads;
    return {};
}

// Tokens [0, T) of a batch through the network, layer by layer (cpu_backend.cpp's forward): the
// matrix products run once per layer over every token (matvecColumns), the ops that carry state
// from token to token (conv, RG-LRU, attention and the KV ring) run token by token in order.
// `logitsRow(t)` is the logits slice for token t, or -1 for none.
Status VulkanBackend::recordBatch(OpRecorder& ops, size_t T,
                                  const std::function<int(size_t)>& logitsRow,
                                  int32_t greedyLimit) {
    const ModelConfig& c = m_config;
    const Scratch& s = m_scratch;
    const uint32_t columns = static_cast<uint32_t>(T);
    const uint32_t D = static_cast<uint32_t>(c.width), L = static_cast<uint32_t>(c.lruWidth);
    const uint32_t H = static_cast<uint32_t>(c.numHeads);
    const uint32_t KV = static_cast<uint32_t>(c.numKvHeads);
    const uint32_t hd = static_cast<uint32_t>(c.headDim);
    const uint32_t W = static_cast<uint32_t>(c.attentionWindow);
    const float eps = static_cast<float>(c.rmsNormEps);
    const bool observe = observing();
    const VkDeviceSize rowBytes = VkDeviceSize{D} * 4;
    // Row t of a batch buffer with `stride` floats per row, `n` of them used.
    auto row = [](const BufferSlice& b, size_t t, uint32_t stride, uint32_t n) {
        return subSlice(b, static_cast<VkDeviceSize>(t) * stride * 4, VkDeviceSize{n} * 4);
    };
    auto snapshot = [&](int64_t layer) {
        if (!observe)
            return;
        for (size_t t = 0; t < T; ++t) {
            m_recorder->copy(
                row(s.x, t, s.strideD, D),
                subSlice(s.hidden[t], static_cast<VkDeviceSize>(layer + 1) * rowBytes, rowBytes));
        }
    };
#define GRIFFIN_TRY(expr)          \
    do {                           \
        if (auto s_ = (expr); !s_) \
            return s_;             \
    } while (false)

    const int64_t half = c.ropeDims() / 2;
    GRIFFIN_TRY(
        ops.embedGather(m_embedding, c.embeddingScale(), s.x, s.stepParams, 0, columns, s.strideD));
    snapshot(-1);
    auto normAll = [&](const BufferSlice& gain) {
        return ops.rmsNorm(s.x, gain, D, eps, s.xn, columns, s.strideD);
    };
    for (int64_t layer = 0; layer < c.numLayers; ++layer) {
        const LayerDevice& ld = m_layers[static_cast<size_t>(layer)];
        GRIFFIN_TRY(normAll(ld.temporalGain));
        if (c.layerType(layer) == BlockType::Recurrent) {
            RecurrentDevice& r = m_recurrent[ld.slot];
            GRIFFIN_TRY(ops.matvecColumns(r.linearY, s.xn, &r.linearYBias, s.y, kMatvecGelu,
                                          columns, s.strideD, s.strideL));
            GRIFFIN_TRY(ops.matvecColumns(r.linearX, s.xn, &r.linearXBias, s.xb, 0, columns,
                                          s.strideD, s.strideL));
            // Conv and RG-LRU scan the batch in order inside one dispatch each; the gates are
            // per token, over the whole batch.
            GRIFFIN_TRY(ops.conv1dStep(s.xb, r.convWeight, r.convBias, r.convTail, s.xc, L,
                                       static_cast<uint32_t>(c.convWidth), columns, s.strideL));
            GRIFFIN_TRY(
                ops.blockDiag(r.inputGate, s.xc, r.inputGateBias, s.gateX, columns, s.strideL));
            GRIFFIN_TRY(ops.blockDiag(r.recurrentGate, s.xc, r.recurrentGateBias, s.gateA, columns,
                                      s.strideL));
            GRIFFIN_TRY(ops.rgLruStep(s.xc, s.gateX, s.gateA, r.logA, r.h, s.y, s.gated, L,
                                      s.stepParams, 0, columns, s.strideL));
            GRIFFIN_TRY(ops.matvecColumns(r.linearOut, s.gated, &r.linearOutBias, s.x,
                                          kMatvecAccumulate, columns, s.strideL, s.strideD));
        } else {
            AttentionDevice& a = m_attention[ld.slot];
            GRIFFIN_TRY(
                ops.matvecColumns(a.q, s.xn, nullptr, s.q, 0, columns, s.strideD, s.strideQ));
            GRIFFIN_TRY(
                ops.matvecColumns(a.k, s.xn, nullptr, s.k, 0, columns, s.strideD, s.strideKv));
            GRIFFIN_TRY(
                ops.matvecColumns(a.v, s.xn, nullptr, s.v, 0, columns, s.strideD, s.strideKv));
            const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
            // The whole batch at once: RoPE, attention (each token sees the ring plus the
            // batch's earlier keys), then the keys go into the ring.
            if (half > 0) {
                const uint32_t rd = static_cast<uint32_t>(c.ropeDims());
                GRIFFIN_TRY(ops.rope(s.q, s.ropeTable, RopePush{H, hd, rd, 0, s.strideQ}, columns));
                GRIFFIN_TRY(
                    ops.rope(s.k, s.ropeTable, RopePush{KV, hd, rd, 0, s.strideKv}, columns));
            }
            const BufferSlice attention[10] = {s.q,          s.k,
                                               s.v,          a.keys,
                                               a.values,     a.slotPositions,
                                               s.scores,     s.attentionPartials,
                                               s.stepParams, s.attended};
            GRIFFIN_TRY(ops.attentionDecode(
                attention, AttentionPush{H, KV, hd, W, 0, scale, 0, s.strideQ, s.strideKv}, columns,
                s.strideQ));
            const BufferSlice write[6] = {s.k,         s.v, a.keys, a.values, a.slotPositions,
                                          s.stepParams};
            GRIFFIN_TRY(ops.kvWrite(write, KvWritePush{KV * hd, W, 0, columns, s.strideKv}));
            GRIFFIN_TRY(ops.matvecColumns(a.o, s.attended, &a.oBias, s.x, kMatvecAccumulate,
                                          columns, s.strideQ, s.strideD));
        }
        GRIFFIN_TRY(normAll(ld.channelGain));
        GRIFFIN_TRY(ops.matvecColumns(ld.mlpGate, s.xn, &ld.mlpGateBias, s.gate, 0, columns,
                                      s.strideD, s.strideM));
        GRIFFIN_TRY(ops.matvecColumns(ld.mlpUp, s.xn, &ld.mlpUpBias, s.up, 0, columns, s.strideD,
                                      s.strideM));
        // Elementwise over the whole batch (padding included: zeros in, zeros out).
        GRIFFIN_TRY(ops.geglu(s.gate, s.up, s.act, columns * s.strideM));
        GRIFFIN_TRY(ops.matvecColumns(ld.mlpDown, s.act, &ld.mlpDownBias, s.x, kMatvecAccumulate,
                                      columns, s.strideM, s.strideD));
        snapshot(layer);
    }
    // The final norm and the LM head for the tokens that want logits (and every token when
    // observing, whose last snapshot is the final norm).
    const float cap = static_cast<float>(c.logitsSoftCap);
    if (greedyLimit > 0) {
        if (T != 1 || observe)
            return makeError(ErrorCode::Internal, "Vulkan: greedy decode of a batch");
        const BufferSlice xn = row(s.xn, 0, s.strideD, D);
        GRIFFIN_TRY(ops.rmsNorm(row(s.x, 0, s.strideD, D), m_finalGain, D, eps, xn));
        GRIFFIN_TRY(ops.matvec(m_embedding, xn, nullptr, s.deviceLogits,
                               cap > 0.0f ? kMatvecSoftCap : 0u, cap));
        return ops.argmax(s.deviceLogits, static_cast<uint32_t>(greedyLimit), s.argmaxPartials,
                          s.argmaxResult);
    }
    for (size_t t = 0; t < T; ++t) {
        const int slot = logitsRow(t);
        if (slot < 0 && !observe)
            continue;
        const BufferSlice xn = row(s.xn, t, s.strideD, D);
        GRIFFIN_TRY(ops.rmsNorm(row(s.x, t, s.strideD, D), m_finalGain, D, eps, xn));
        if (observe) {
            m_recorder->copy(
                xn, subSlice(s.hidden[t], static_cast<VkDeviceSize>(c.numLayers + 1) * rowBytes,
                             rowBytes));
        }
        if (slot >= 0) {
            GRIFFIN_TRY(ops.matvec(m_embedding, xn, nullptr, s.logits[static_cast<size_t>(slot)],
                                   cap > 0.0f ? kMatvecSoftCap : 0u, cap));
        }
    }
#undef GRIFFIN_TRY
    return {};
}

void VulkanBackend::writeStepInputs(std::span<const int32_t> tokens, int64_t firstPos) {
    const Scratch& s = m_scratch;
    const int64_t half = m_config.ropeDims() / 2;
    auto* params = reinterpret_cast<StepParams*>(s.stepParams.mapped);
    for (size_t t = 0; t < tokens.size(); ++t) {
        const int64_t position = firstPos + static_cast<int64_t>(t);
        params[t] = StepParams{tokens[t], static_cast<int32_t>(position), {0, 0}};
        // RoPE table row t: the f32 angle as the reference, cos/sin in double.
        float* table = s.ropeTable.as<float>() + static_cast<int64_t>(t) * 2 * half;
        for (int64_t i = 0; i < half; ++i) {
            const float angle = static_cast<float>(position) * m_invFreq[static_cast<size_t>(i)];
            table[2 * i] = static_cast<float>(std::cos(static_cast<double>(angle)));
            table[2 * i + 1] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
    }
}

BackendCounters VulkanBackend::counters() const {
    BackendCounters c;
    c.stateUploads = m_stateUploads;
    c.stateDownloads = m_stateDownloads;
    c.lastDispatches = m_lastDispatches;
    c.lastBarriers = m_lastBarriers;
    c.deviceMemoryMapped = deviceMemoryMapped();
    c.recordSeconds = m_recordSeconds;
    c.waitSeconds = m_waitSeconds;
    c.recordings =
        m_recorder->recordings() + m_decodeLogits->recordings() + m_decodeGreedy->recordings();
    std::map<std::string, OpProfile> merged;
    for (const CommandRecorder* r :
         {m_recorder.get(), m_decodeLogits.get(), m_decodeGreedy.get()}) {
        for (const auto& [name, p] : r->opProfile()) {
            OpProfile& m = merged[name];
            m.op = name;
            m.dispatches += p.dispatches;
            m.seconds += p.seconds;
        }
    }
    for (auto& [name, p] : merged) c.opProfile.push_back(std::move(p));
    std::sort(c.opProfile.begin(), c.opProfile.end(),
              [](const OpProfile& a, const OpProfile& b) { return a.seconds > b.seconds; });
    return c;
}

bool VulkanBackend::setProfiling(bool on) {
    bool ok = true;
    for (CommandRecorder* r : {m_recorder.get(), m_decodeLogits.get(), m_decodeGreedy.get()})
        ok = r->setProfiling(on) && ok;
    if (!ok) {
        for (CommandRecorder* r : {m_recorder.get(), m_decodeLogits.get(), m_decodeGreedy.get()})
            r->setProfiling(false);
    }
    return ok;
}

Status VulkanBackend::runBatch(State& state, std::span<const int32_t> tokens, bool allLogits,
                               bool lastLogits, float* logits, int32_t greedyLimit,
                               GreedyToken* greedy) {
    const ModelConfig& c = m_config;
    const size_t T = tokens.size();
    const int64_t firstPos = state.position();
    const int64_t vocab = m_embedding.rows, D = c.width;
    const bool observe = observing();
    // Logits and hidden-state slices, made on first need and reused (recorded buffers keep
    // referring to them).
    const size_t needLogits = allLogits ? T : (lastLogits ? 1 : 0);
    while (m_scratch.logits.size() < needLogits) {
        auto slice = m_hostArena->allocate(static_cast<VkDeviceSize>(vocab) * 4);
        if (!slice)
            return slice.error();
        m_scratch.logits.push_back(*slice);
    }
    while (observe && m_scratch.hidden.size() < T) {
        auto slice = m_hostArena->allocate(static_cast<VkDeviceSize>((c.numLayers + 2) * D) * 4);
        if (!slice)
            return slice.error();
        m_scratch.hidden.push_back(*slice);
    }
    if (firstPos + static_cast<int64_t>(T) > std::numeric_limits<int32_t>::max())
        return makeError(ErrorCode::Unsupported, "Vulkan: position beyond 2^31");
    if (auto s = makeResident(state); !s)
        return s;

    // Which command buffer: a decode step replays its recorded one; anything else (prefill
    // batches, observed runs) is recorded for this call.
    CommandRecorder* recorder = m_recorder.get();
    bool record = true;
    if (T == 1 && !observe && greedyLimit > 0) {
        recorder = m_decodeGreedy.get();
        record = !recorder->ready() || m_greedyLimit != greedyLimit;
        m_greedyLimit = greedyLimit;
    } else if (T == 1 && !observe && needLogits == 1) {
        recorder = m_decodeLogits.get();
        record = !recorder->ready();
    }
    const auto recordStart = std::chrono::steady_clock::now();
    if (record) {
        if (auto s = recorder->begin(); !s)
            return s;
        OpRecorder ops(*m_registry, *recorder);
        // Without allLogits, the single logits row goes into slice 0.
        auto logitsRow = [&](size_t t) {
            if (allLogits)
                return static_cast<int>(t);
            return lastLogits && t + 1 == T ? 0 : -1;
        };
        if (auto s = recordBatch(ops, T, logitsRow, greedyLimit); !s)
            return s;
        if (auto s = recorder->end(); !s)
            return s;
    }
    writeStepInputs(tokens, firstPos);
    m_lastDispatches = recorder->dispatchCount();
    m_lastBarriers = recorder->barrierCount();
    const auto submitStart = std::chrono::steady_clock::now();
    m_recordSeconds += std::chrono::duration<double>(submitStart - recordStart).count();
    const auto s = recorder->submitAndWait();
    m_waitSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - submitStart).count();
    if (!s) {
        // What the device holds is unknown now: the host copy stays the last good one.
        m_residence->detach();
        return s;
    }
    m_residence->hostStale = true;  // read back only when the host asks (state.h)
    state.setPosition(firstPos + static_cast<int64_t>(T));
    if (greedy != nullptr) {
        const auto* result = reinterpret_cast<const uint32_t*>(m_scratch.argmaxResult.mapped);
        greedy->id = static_cast<int32_t>(result[0]);
        std::memcpy(&greedy->probability, &result[1], 4);
    }
    if (logits != nullptr) {
        for (size_t r = 0; r < needLogits; ++r) {
            std::memcpy(logits + r * static_cast<size_t>(vocab), m_scratch.logits[r].mapped,
                        static_cast<size_t>(vocab) * 4);
        }
    }
    if (observe) {
        std::vector<float> rows(T * static_cast<size_t>(D));
        for (int64_t layer = -1; layer <= c.numLayers; ++layer) {
            for (size_t t = 0; t < T; ++t) {
                std::memcpy(rows.data() + t * static_cast<size_t>(D),
                            m_scratch.hidden[t].mapped + (layer + 1) * D * 4,
                            static_cast<size_t>(D) * 4);
            }
            Backend::observe(layer, rows.data(), static_cast<int64_t>(T), D);
        }
    }
    return {};
}

Result<GreedyToken> VulkanBackend::forwardGreedy(State& state, int32_t token, int64_t logitsSize,
                                                 int32_t vocabLimit) {
    if (observing() || vocabLimit < 1 || vocabLimit > logitsSize)
        return Backend::forwardGreedy(state, token, logitsSize, vocabLimit);
    GreedyToken out;
    if (auto s = runBatch(state, std::span<const int32_t>(&token, 1), false, false, nullptr,
                          vocabLimit, &out);
        !s) {
        return s.error();
    }
    return out;
}

Status VulkanBackend::forward(State& state, std::span<const int32_t> tokens, bool allLogits,
                              float* logits) {
    const size_t vocab = static_cast<size_t>(m_embedding.rows);
    for (size_t done = 0; done < tokens.size(); done += kMaxBatch) {
        const size_t n = std::min<size_t>(kMaxBatch, tokens.size() - done);
        const bool last = done + n == tokens.size();
        float* out = nullptr;
        if (logits != nullptr && allLogits)
            out = logits + done * vocab;
        else if (logits != nullptr && last)
            out = logits;
        if (auto s = runBatch(state, tokens.subspan(done, n), allLogits && logits != nullptr,
                              logits != nullptr && last, out);
            !s) {
            return s;
        }
    }
    return {};
}

}  // namespace griffin::vulkan
