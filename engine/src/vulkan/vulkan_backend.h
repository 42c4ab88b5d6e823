// SPDX-License-Identifier: Apache-2.0
// VulkanBackend: the Griffin forward pass as Vulkan compute dispatches, one command buffer per
// batch of tokens. The decode step's command buffer is recorded once and replayed for every token
// (the token and position are read from a step-parameters buffer). Exact against the CPU
// reference up to float rounding.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "vulkan/buffer.h"
#include "vulkan/command_recorder.h"
#include "vulkan/context.h"
#include "vulkan/ops.h"
#include "vulkan/pipeline_registry.h"
#include "vulkan/transfer.h"
#include "weights.h"

namespace griffin::vulkan {

struct VulkanOptions {
    ContextOptions context;
    // Largest buffer slice a tensor may occupy; 0 = maxStorageBufferRange. Tests lower it to
    // exercise the row chunking of the embedding.
    VkDeviceSize maxChunkBytes = 0;
    // Map device-local memory when the device allows it. False (or GRIFFIN_VULKAN_STAGING=1)
    // moves everything through the staging buffer, as on a discrete GPU without resizable BAR.
    bool allowMapping = true;
};

// Not thread-safe. Keeps references to `config` and `weights`, which must outlive it; copies the
// weights to the device at creation.
class VulkanBackend final : public Backend {
public:
    // Unsupported when no suitable device exists, OutOfMemory when the weights do not fit.
    static Result<std::unique_ptr<VulkanBackend>> create(const ModelConfig& config,
                                                         const ModelWeights& weights,
                                                         const VulkanOptions& options);
    ~VulkanBackend() override;

    BackendKind kind() const override { return BackendKind::Vulkan; }
    Status forward(State& state, std::span<const int32_t> tokens, bool allLogits,
                   float* logits) override;
    // The argmax runs on the device (argmax.comp); only the token and its probability come back.
    Result<GreedyToken> forwardGreedy(State& state, int32_t token, int64_t logitsSize,
                                      int32_t vocabLimit) override;

    BackendCounters counters() const override;
    bool setProfiling(bool on) override;

    const Context& context() const { return *m_context; }
    // Dispatches recorded by the last forward().
    uint32_t lastDispatchCount() const { return m_lastDispatches; }
    // State uploads and downloads so far (each moves the whole state): with the state kept on
    // the device these happen only when another State is run or the host reads or writes one.
    uint64_t stateUploads() const { return m_stateUploads; }
    uint64_t stateDownloads() const { return m_stateDownloads; }
    // Whether device memory is mapped (else every copy goes through the staging buffer).
    bool deviceMemoryMapped() const { return m_arena->mapped(); }

private:
    struct RecurrentDevice {
        DeviceMatrix linearX, linearY, linearOut, inputGate, recurrentGate;
        BufferSlice linearXBias, linearYBias, linearOutBias, convWeight, convBias;
        BufferSlice inputGateBias, recurrentGateBias, logA;
        BufferSlice h, convTail;  // state (the resident State's)
    };
    struct AttentionDevice {
        DeviceMatrix q, k, v, o;
        BufferSlice oBias;
        BufferSlice keys, values, slotPositions;  // state; slotPositions as int32
    };
    struct LayerDevice {
        BufferSlice temporalGain, channelGain;
        DeviceMatrix mlpGate, mlpUp, mlpDown;
        BufferSlice mlpGateBias, mlpUpBias, mlpDownBias;
        size_t slot = 0;  // index among layers of its type
    };
    struct Scratch {
        BufferSlice x, xn, y, xb, xc, gateX, gateA, gated;
        BufferSlice q, k, v, scores, attentionPartials, attended, gate, up, act, ropeTable;
        BufferSlice stepParams;  // host-visible StepParams per token of a batch
        // Greedy decode: logits kept on the device, argmax partials, and the 8-byte result.
        BufferSlice deviceLogits, argmaxPartials, argmaxResult;
        std::vector<BufferSlice> logits;  // one per token of a batch
        std::vector<BufferSlice> hidden;  // one per token of a batch: [numLayers + 2, D]
        // Floats per token row of the batch buffers (padded to the storage offset alignment).
        uint32_t strideD = 0, strideL = 0, strideQ = 0, strideKv = 0, strideM = 0;
    };

    VulkanBackend(const ModelConfig& config, const ModelWeights& weights)
        : m_config(config), m_weights(weights) {}
    Status upload(const VulkanOptions& options);
    // Compiles every pipeline while the model loads (not at the first token) by recording the
    // decode steps, which are kept, and a full prefill batch.
    Status warmPipelines();
    class Residence;
    // Makes the device buffers hold `state` (uploading it unless they already do).
    Status makeResident(State& state);
    Status uploadState(State& state);
    Status downloadState(State& state);
    // Records the forward pass of a batch of T tokens. `logitsRow(t)` is the logits slice of
    // token t or -1; with greedyLimit > 0 (and T == 1) the logits stay on the device and the
    // argmax over [0, greedyLimit) is recorded instead.
    Status recordBatch(OpRecorder& ops, size_t T, const std::function<int(size_t)>& logitsRow,
                       int32_t greedyLimit);
    // The per-token inputs the recorded buffers read: step parameters and RoPE table rows.
    void writeStepInputs(std::span<const int32_t> tokens, int64_t firstPos);
    Status runBatch(State& state, std::span<const int32_t> tokens, bool allLogits, bool lastLogits,
                    float* logits, int32_t greedyLimit = 0, GreedyToken* greedy = nullptr);

    const ModelConfig& m_config;
    const ModelWeights& m_weights;
    std::vector<float> m_invFreq;
    // Members in creation order: they are destroyed in reverse, the context last.
    std::unique_ptr<Context> m_context;
    std::unique_ptr<PipelineRegistry> m_registry;
    std::unique_ptr<Transfer> m_transfer;
    std::unique_ptr<Arena> m_arena;               // device-local: weights, state, scratch
    std::unique_ptr<Arena> m_hostArena;           // host-visible: rope table, logits, hidden states
    std::unique_ptr<CommandRecorder> m_recorder;  // recorded anew for each prefill batch
    // Recorded once and replayed: a decode step returning logits, and a greedy decode step (for
    // vocabulary limit m_greedyLimit).
    std::unique_ptr<CommandRecorder> m_decodeLogits;
    std::unique_ptr<CommandRecorder> m_decodeGreedy;
    int32_t m_greedyLimit = 0;
    std::shared_ptr<Residence> m_residence;
    DeviceMatrix m_embedding;
    BufferSlice m_finalGain;
    std::vector<LayerDevice> m_layers;
    std::vector<RecurrentDevice> m_recurrent;
    std::vector<AttentionDevice> m_attention;
    Scratch m_scratch;
    uint32_t m_lastDispatches = 0;
    uint32_t m_lastBarriers = 0;
    uint64_t m_stateUploads = 0;
    uint64_t m_stateDownloads = 0;
    double m_recordSeconds = 0;  // host time recording command buffers, all calls
    double m_waitSeconds = 0;    // submit until the fence signals, all calls
};

}  // namespace griffin::vulkan
