// SPDX-License-Identifier: Apache-2.0
// The Griffin forward-pass ops on Vulkan: device copies of weights (packed in 32-bit words,
// row-chunked under maxStorageBufferRange) and one recording function per shader. Each function
// records its dispatches into the CommandRecorder; nothing runs until submitAndWait().
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "griffin/result.h"
#include "vulkan/buffer.h"
#include "vulkan/command_recorder.h"
#include "vulkan/pipeline_registry.h"
#include "vulkan/push_constants.h"
#include "vulkan/transfer.h"
#include "weights.h"

namespace griffin::vulkan {

// A weight matrix on the device: row-major, each row padded to `strideWords` 32-bit words
// (shaders/common/weights.glsl), split into row chunks of at most the chunk limit.
struct DeviceMatrix {
    WeightType type = WeightType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    uint32_t strideWords = 0;
    std::vector<RowRange> ranges;     // ranges[i] is held by chunks[i]
    std::vector<BufferSlice> chunks;  // valid while the Arena lives
};

// The weights.glsl format code of `type`.
uint32_t formatCode(WeightType type);
// Copies `m` to the device in row chunks of at most `maxChunkBytes` (<= maxStorageBufferRange)
// through `transfer` (whose copies complete at its next flush()). Block-quantized matrices keep
// their type (repacked, weights.glsl) when `allowBlocks`, else they are widened to f32.
Result<DeviceMatrix> uploadMatrix(Arena& arena, Transfer& transfer, const Matrix& m,
                                  VkDeviceSize maxChunkBytes, bool allowBlocks = true);
// A slice holding `values` (at the next flush() of `transfer`).
Result<BufferSlice> uploadFloats(Arena& arena, Transfer& transfer, std::span<const float> values);

// Records ops. Not thread-safe; keeps references to `registry` and `recorder`.
class OpRecorder {
public:
    OpRecorder(PipelineRegistry& registry, CommandRecorder& recorder)
        : m_registry(registry), m_recorder(recorder) {}

    // out[0..cols) = table[row, :] * scale.
    Status embedGather(const DeviceMatrix& table, int64_t row, float scale, const BufferSlice& out);
    // out = x / sqrt(mean(x^2) + eps) * gain over n values.
    Status rmsNorm(const BufferSlice& x, const BufferSlice& gain, uint32_t n, float eps,
                   const BufferSlice& out);
    // out[r] (=|+=) epilogue(dot(w[r], x) + bias[r]) for every row of every chunk; `bias` may be
    // null; flags are MatvecFlags (kMatvecBias is set from `bias`).
    Status matvec(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice* bias,
                  const BufferSlice& out, uint32_t flags, float softCap = 0.0f);
    // The same for `columns` vectors at once (prefill): x vector t starts at float
    // t * xStride of `x`, its output at t * outStride of `out`. Each column's result equals
    // matvec()'s bit for bit.
    Status matvecColumns(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice* bias,
                         const BufferSlice& out, uint32_t flags, uint32_t columns, uint32_t xStride,
                         uint32_t outStride);
    // The RG-LRU gates' block-diagonal linear ([in, out] per block of w.cols channels).
    Status blockDiag(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice& bias,
                     const BufferSlice& out);
    Status geglu(const BufferSlice& gate, const BufferSlice& up, const BufferSlice& out,
                 uint32_t n);
    Status conv1dStep(const BufferSlice& x, const BufferSlice& weight, const BufferSlice& bias,
                      const BufferSlice& tail, const BufferSlice& out, uint32_t channels,
                      uint32_t convWidth);
    Status rgLruStep(const BufferSlice& x, const BufferSlice& gateXPre, const BufferSlice& gateAPre,
                     const BufferSlice& logA, const BufferSlice& h, const BufferSlice& y,
                     const BufferSlice& out, uint32_t channels, bool reset);
    // Rotates `v` ([numHeads, headDim]) in place with cos/sin pairs table[tableOffset...].
    Status rope(const BufferSlice& v, const BufferSlice& table, const RopePush& push);
    // bindings: q, k, v, ringKeys, ringValues, slotPositions, scores (scratch), out.
    Status attentionDecode(std::span<const BufferSlice, 8> bindings, const AttentionPush& push);
    // bindings: k, v, ringKeys, ringValues, slotPositions.
    Status kvWrite(std::span<const BufferSlice, 5> bindings, const KvWritePush& push);

private:
    template <class Push>
    Status run(const char* shader, std::span<const uint32_t> spec,
               std::span<const BufferSlice> bindings, const Push& push, uint32_t groupsX,
               uint32_t groupsY = 1);
    Status matvecImpl(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice* bias,
                      const BufferSlice& out, uint32_t flags, float softCap, uint32_t columns,
                      uint32_t xStride, uint32_t outStride);

    PipelineRegistry& m_registry;
    CommandRecorder& m_recorder;
};

}  // namespace griffin::vulkan
