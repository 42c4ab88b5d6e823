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
    // Matrix products use matvec_subgroup.comp (a row per subgroup) where the device has
    // subgroup arithmetic, else matvec.comp.
    OpRecorder(PipelineRegistry& registry, CommandRecorder& recorder);
    // Tests force the workgroup-reduction variant with false.
    void setSubgroupMatvec(bool on) { m_subgroupMatvec = on && subgroupMatvecSupported(); }
    bool subgroupMatvecSupported() const;

    // Ops with `tokens` run a batch in one dispatch: token t's rows start at t * stride floats
    // of each batch buffer (`stride` is ignored for one token).

    // out[0..cols) = table[token, :] * scale, the token read from params[paramIndex + t] on the
    // device (one dispatch per row chunk; the chunk holding the row writes).
    Status embedGather(const DeviceMatrix& table, float scale, const BufferSlice& out,
                       const BufferSlice& params, uint32_t paramIndex, uint32_t tokens = 1,
                       uint32_t stride = 0);
    // out = x / sqrt(mean(x^2) + eps) * gain over n values, for each of `rows` rows.
    Status rmsNorm(const BufferSlice& x, const BufferSlice& gain, uint32_t n, float eps,
                   const BufferSlice& out, uint32_t rows = 1, uint32_t stride = 0);
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
                     const BufferSlice& out, uint32_t tokens = 1, uint32_t stride = 0);
    Status geglu(const BufferSlice& gate, const BufferSlice& up, const BufferSlice& out,
                 uint32_t n);
    // The batch's tokens in order (a scan over time), carrying the tail.
    Status conv1dStep(const BufferSlice& x, const BufferSlice& weight, const BufferSlice& bias,
                      const BufferSlice& tail, const BufferSlice& out, uint32_t channels,
                      uint32_t convWidth, uint32_t tokens = 1, uint32_t stride = 0);
    // The batch's tokens in order, carrying h; token t resets h when params[paramIndex + t]'s
    // position is 0.
    Status rgLruStep(const BufferSlice& x, const BufferSlice& gateXPre, const BufferSlice& gateAPre,
                     const BufferSlice& logA, const BufferSlice& h, const BufferSlice& y,
                     const BufferSlice& out, uint32_t channels, const BufferSlice& params,
                     uint32_t paramIndex, uint32_t tokens = 1, uint32_t stride = 0);
    // Rotates `v` ([numHeads, headDim] per token, rows push.vStride apart) in place with cos/sin
    // pairs from table row tableOffset + t * ropeDims.
    Status rope(const BufferSlice& v, const BufferSlice& table, const RopePush& push,
                uint32_t tokens = 1);
    // Attention of `tokens` tokens (a batch, none of them stored in the ring yet), split over
    // the window (attention_decode) then merged (attention_combine). bindings: q, k, v,
    // ringKeys, ringValues, slotPositions, scores (scratch, tokens * H * (W + 1) floats),
    // partials (scratch, attentionPartialFloats * tokens), params, out (rows outStride apart).
    Status attentionDecode(std::span<const BufferSlice, 10> bindings, const AttentionPush& push,
                           uint32_t tokens = 1, uint32_t outStride = 0);
    // Keys per split when push.splitKeys is 0: enough workgroups to fill a GPU with few heads.
    static constexpr uint32_t kAttentionSplitKeys = 128;
    static uint32_t attentionSplits(uint32_t window, uint32_t splitKeys = 0);
    static uint64_t attentionPartialFloats(uint32_t numHeads, uint32_t headDim, uint32_t window,
                                           uint32_t splitKeys = 0);
    // bindings: k, v, ringKeys, ringValues, slotPositions, params. A batch (push.tokens) stores
    // what storing its tokens one by one would leave.
    Status kvWrite(std::span<const BufferSlice, 6> bindings, const KvWritePush& push);
    // result[0] = the first index of the largest of logits[0, n), result[1] = the float bits of
    // its softmax probability. `partials` holds argmaxPartialBytes(n) of scratch.
    Status argmax(const BufferSlice& logits, uint32_t n, const BufferSlice& partials,
                  const BufferSlice& result);
    static VkDeviceSize argmaxPartialBytes(uint32_t n);

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
    bool m_subgroupMatvec = false;
};

}  // namespace griffin::vulkan
