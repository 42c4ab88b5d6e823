// SPDX-License-Identifier: Apache-2.0
#include "vulkan/ops.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "quant.h"

namespace griffin::vulkan {
namespace {

// Workgroup sizes (specialization constant 0). Powers of two: the reductions halve them.
// TODO(#6): pick per device (= subgroup size with subgroupAdd on lavapipe, vulkan-backend.md §0).
constexpr uint32_t kElementwiseGroup = 64;
constexpr uint32_t kReduceGroup = 64;
constexpr uint32_t kMatvecGroup = 32;
constexpr uint32_t kMatvecSubgroupGroup = 64;

uint32_t groupsFor(uint64_t n, uint32_t group) {
    return static_cast<uint32_t>((n + group - 1) / group);
}

}  // namespace

uint32_t formatCode(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return 0;
        case WeightType::BF16:
            return 1;
        case WeightType::F16:
            return 2;
        case WeightType::Q8_0:
            return 3;
        case WeightType::Q4_0:
            return 4;
    }
    return 0;
}

Result<DeviceMatrix> uploadMatrix(Arena& arena, Transfer& transfer, const Matrix& m,
                                  VkDeviceSize maxChunkBytes, bool allowBlocks) {
    DeviceMatrix out;
    // Block types are repacked per row (scales, then quants: weights.glsl) for the shaders that
    // read them; for the others (the RG-LRU gates) they are widened to f32.
    const bool blocks = isBlockQuantized(m.type);
    out.type = blocks && !allowBlocks ? WeightType::F32 : m.type;
    out.rows = m.rows;
    out.cols = m.cols;
    const int64_t nb = m.cols / kQuantBlock;
    switch (out.type) {
        case WeightType::F32:
            out.strideWords = static_cast<uint32_t>(m.cols);
            break;
        case WeightType::Q8_0:
            out.strideWords = static_cast<uint32_t>(nb * 9);
            break;
        case WeightType::Q4_0:
            out.strideWords = static_cast<uint32_t>(nb * 5);
            break;
        default:
            out.strideWords = static_cast<uint32_t>((m.cols + 1) / 2);
            break;
    }
    const VkDeviceSize rowBytes = VkDeviceSize{out.strideWords} * 4;
    if (rowBytes > maxChunkBytes || rowBytes > transfer.capacity()) {
        return makeError(ErrorCode::Unsupported, "Vulkan: a weight row of " +
                                                     std::to_string(rowBytes) +
                                                     " bytes exceeds the storage buffer range");
    }
    out.ranges = planRowChunks(m.rows, rowBytes, maxChunkBytes);
    for (const RowRange& range : out.ranges) {
        auto slice = arena.allocate(rowBytes * static_cast<VkDeviceSize>(range.rows));
        if (!slice)
            return slice.error();
        // Rows in batches that fit the transfer's staging buffer.
        const int64_t batchRows =
            std::max<int64_t>(1, static_cast<int64_t>(transfer.capacity() / rowBytes));
        std::byte* batch = nullptr;
        std::vector<std::byte> gguf;  // an interleaved row back in GGUF blocks
        for (int64_t r = 0; r < range.rows; ++r) {
            if (r % batchRows == 0) {
                const int64_t n = std::min(batchRows, range.rows - r);
                auto region = transfer.write(*slice, static_cast<VkDeviceSize>(r) * rowBytes,
                                             static_cast<VkDeviceSize>(n) * rowBytes);
                if (!region)
                    return region.error();
                batch = *region;
            }
            const int64_t srcRow = range.firstRow + r;
            std::byte* dst = batch + static_cast<size_t>(r % batchRows) * rowBytes;
            if (out.type != m.type) {
                loadRow(m, srcRow, reinterpret_cast<float*>(dst));
            } else if (m.type == WeightType::Q8_0 || m.type == WeightType::Q4_0) {
                const bool q8 = m.type == WeightType::Q8_0;
                const size_t blockBytes = q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
                const size_t quantBytes = q8 ? 32 : 16;
                const std::byte* src = m.row(srcRow);
                if (m.interleaved) {  // the CPU layout (a model laid out for the CPU backend)
                    gguf.resize(griffin::rowBytes(m.type, m.cols));
                    deinterleaveRow(m.type, src, m.cols, gguf.data());
                    src = gguf.data();
                }
                for (int64_t b = 0; b < nb; ++b) {
                    const std::byte* blk = src + static_cast<size_t>(b) * blockBytes;
                    uint16_t d;
                    std::memcpy(&d, blk, 2);
                    const float scale = f16ToFloatValue(d);
                    std::memcpy(dst + b * 4, &scale, 4);
                    std::memcpy(
                        dst + static_cast<size_t>(nb) * 4 + static_cast<size_t>(b) * quantBytes,
                        blk + 2, quantBytes);
                }
            } else {
                std::memcpy(dst, m.row(srcRow), griffin::rowBytes(m.type, m.cols));
            }
        }
        out.chunks.push_back(*slice);
    }
    return out;
}

Result<BufferSlice> uploadFloats(Arena& arena, Transfer& transfer, std::span<const float> values) {
    auto slice = arena.allocate(std::max<VkDeviceSize>(values.size_bytes(), 4));
    if (!slice)
        return slice.error();
    if (auto s = transfer.upload(*slice, 0, values.data(), values.size_bytes()); !s)
        return s.error();
    return *slice;
}

template <class Push>
Status OpRecorder::run(const char* shader, std::span<const uint32_t> spec,
                       std::span<const BufferSlice> bindings, const Push& push, uint32_t groupsX,
                       uint32_t groupsY) {
    auto pipeline = m_registry.get(shader, spec);
    if (!pipeline)
        return pipeline.error();
    return m_recorder.dispatch(**pipeline, bindings, push, groupsX, groupsY);
}

Status OpRecorder::embedGather(const DeviceMatrix& table, float scale, const BufferSlice& out,
                               const BufferSlice& params, uint32_t paramIndex, uint32_t tokens,
                               uint32_t stride) {
    const uint32_t spec[] = {kElementwiseGroup, formatCode(table.type)};
    for (size_t i = 0; i < table.ranges.size(); ++i) {
        const RowRange& r = table.ranges[i];
        const BufferSlice bindings[] = {table.chunks[i], out, params};
        const EmbedGatherPush push{static_cast<uint32_t>(r.firstRow),
                                   static_cast<uint32_t>(table.cols),
                                   table.strideWords,
                                   scale,
                                   static_cast<uint32_t>(r.rows),
                                   paramIndex,
                                   stride};
        if (auto s = run("embed_gather", spec, bindings, push,
                         groupsFor(static_cast<uint64_t>(table.cols), kElementwiseGroup), tokens);
            !s) {
            return s;
        }
    }
    return {};
}

Status OpRecorder::rmsNorm(const BufferSlice& x, const BufferSlice& gain, uint32_t n, float eps,
                           const BufferSlice& out, uint32_t rows, uint32_t stride) {
    const uint32_t spec[] = {kReduceGroup};
    const BufferSlice bindings[] = {x, gain, out};
    return run("rms_norm", spec, bindings, RmsNormPush{n, eps, stride}, rows);
}

OpRecorder::OpRecorder(PipelineRegistry& registry, CommandRecorder& recorder)
    : m_registry(registry), m_recorder(recorder) {
    m_subgroupMatvec = subgroupMatvecSupported();
}

bool OpRecorder::subgroupMatvecSupported() const {
    const DeviceCaps& caps = m_registry.context().caps();
    return caps.subgroupArithmetic && caps.subgroupSize > 0;
}

Status OpRecorder::matvec(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice* bias,
                          const BufferSlice& out, uint32_t flags, float softCap) {
    return matvecImpl(w, x, bias, out, flags, softCap, 1, 0, 0);
}

Status OpRecorder::matvecColumns(const DeviceMatrix& w, const BufferSlice& x,
                                 const BufferSlice* bias, const BufferSlice& out, uint32_t flags,
                                 uint32_t columns, uint32_t xStride, uint32_t outStride) {
    if (columns == 0 || (columns > 1 && (xStride < w.cols || outStride < w.rows)))
        return makeError(ErrorCode::Internal, "Vulkan: bad multi-column matvec");
    return matvecImpl(w, x, bias, out, flags, 0.0f, columns, xStride, outStride);
}

Status OpRecorder::matvecImpl(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice* bias,
                              const BufferSlice& out, uint32_t flags, float softCap,
                              uint32_t columns, uint32_t xStride, uint32_t outStride) {
    const uint32_t multi = columns > 1 ? 1u : 0u;
    // Rows per workgroup of the subgroup variant: one per subgroup of the workgroup.
    const uint32_t rowsPerGroup =
        m_subgroupMatvec
            ? std::max(1u, kMatvecSubgroupGroup / m_registry.context().caps().subgroupSize)
            : 1u;
    const uint32_t wgSpec[] = {kMatvecGroup, formatCode(w.type), multi};
    const uint32_t sgSpec[] = {kMatvecSubgroupGroup, formatCode(w.type), multi, rowsPerGroup};
    const std::span<const uint32_t> spec =
        m_subgroupMatvec ? std::span<const uint32_t>(sgSpec) : std::span<const uint32_t>(wgSpec);
    const char* shader = m_subgroupMatvec ? "matvec_subgroup" : "matvec";
    if (bias != nullptr)
        flags |= kMatvecBias;
    for (size_t i = 0; i < w.ranges.size(); ++i) {
        const RowRange& r = w.ranges[i];
        const BufferSlice bindings[] = {w.chunks[i], x, bias != nullptr ? *bias : x, out};
        const MatvecPush push{static_cast<uint32_t>(r.rows),
                              static_cast<uint32_t>(w.cols),
                              w.strideWords,
                              flags,
                              softCap,
                              static_cast<uint32_t>(r.firstRow),
                              columns,
                              xStride,
                              outStride};
        const uint32_t groups = groupsFor(static_cast<uint64_t>(r.rows), rowsPerGroup);
        const uint32_t gx = std::min<uint32_t>(groups, 65535);
        if (auto s = run(shader, spec, bindings, push, gx, groupsFor(groups, gx)); !s)
            return s;
    }
    return {};
}

Status OpRecorder::blockDiag(const DeviceMatrix& w, const BufferSlice& x, const BufferSlice& bias,
                             const BufferSlice& out, uint32_t tokens, uint32_t stride) {
    const uint32_t spec[] = {kElementwiseGroup, formatCode(w.type)};
    if (w.chunks.size() != 1)
        return makeError(ErrorCode::Unsupported, "Vulkan: block-diagonal gate split in chunks");
    const BufferSlice bindings[] = {w.chunks[0], x, bias, out};
    const BlockDiagPush push{static_cast<uint32_t>(w.cols), static_cast<uint32_t>(w.rows),
                             w.strideWords, stride};
    return run("block_diag_matvec", spec, bindings, push,
               groupsFor(static_cast<uint64_t>(w.rows), kElementwiseGroup), tokens);
}

Status OpRecorder::geglu(const BufferSlice& gate, const BufferSlice& up, const BufferSlice& out,
                         uint32_t n) {
    const uint32_t spec[] = {kElementwiseGroup};
    const BufferSlice bindings[] = {gate, up, out};
    return run("geglu", spec, bindings, GegluPush{n}, groupsFor(n, kElementwiseGroup));
}

Status OpRecorder::conv1dStep(const BufferSlice& x, const BufferSlice& weight,
                              const BufferSlice& bias, const BufferSlice& tail,
                              const BufferSlice& out, uint32_t channels, uint32_t convWidth,
                              uint32_t tokens, uint32_t stride) {
    const uint32_t spec[] = {kElementwiseGroup};
    const BufferSlice bindings[] = {x, weight, bias, tail, out};
    return run("conv1d_step", spec, bindings, Conv1dPush{channels, convWidth, tokens, stride},
               groupsFor(channels, kElementwiseGroup));
}

Status OpRecorder::rgLruStep(const BufferSlice& x, const BufferSlice& gateXPre,
                             const BufferSlice& gateAPre, const BufferSlice& logA,
                             const BufferSlice& h, const BufferSlice& y, const BufferSlice& out,
                             uint32_t channels, const BufferSlice& params, uint32_t paramIndex,
                             uint32_t tokens, uint32_t stride) {
    const uint32_t spec[] = {kElementwiseGroup};
    const BufferSlice bindings[] = {x, gateXPre, gateAPre, logA, h, y, out, params};
    return run("rg_lru_step", spec, bindings, RgLruPush{channels, paramIndex, tokens, stride},
               groupsFor(channels, kElementwiseGroup));
}

Status OpRecorder::rope(const BufferSlice& v, const BufferSlice& table, const RopePush& push,
                        uint32_t tokens) {
    const uint32_t spec[] = {kElementwiseGroup};
    const BufferSlice bindings[] = {v, table};
    return run("rope", spec, bindings, push,
               groupsFor(uint64_t{push.numHeads} * (push.ropeDims / 2), kElementwiseGroup), tokens);
}

uint32_t OpRecorder::attentionSplits(uint32_t window, uint32_t splitKeys) {
    const uint32_t perSplit = splitKeys > 0 ? splitKeys : kAttentionSplitKeys;
    return (window + 1 + perSplit - 1) / perSplit;
}

uint64_t OpRecorder::attentionPartialFloats(uint32_t numHeads, uint32_t headDim, uint32_t window,
                                            uint32_t splitKeys) {
    return uint64_t{numHeads} * attentionSplits(window, splitKeys) * (uint64_t{headDim} + 2);
}

Status OpRecorder::attentionDecode(std::span<const BufferSlice, 10> bindings,
                                   const AttentionPush& push, uint32_t tokens, uint32_t outStride) {
    AttentionPush p = push;
    if (p.splitKeys == 0)
        p.splitKeys = kAttentionSplitKeys;
    const uint32_t splits = attentionSplits(p.window, p.splitKeys);
    if (tokens == 0 ||
        bindings[7].size <
            attentionPartialFloats(p.numHeads, p.headDim, p.window, p.splitKeys) * tokens * 4 ||
        bindings[6].size < uint64_t{tokens} * p.numHeads * (p.window + 1) * 4) {
        return makeError(ErrorCode::Internal, "Vulkan: attention scratch too small");
    }
    const uint32_t spec[] = {kReduceGroup};
    const Pipeline* pipeline = nullptr;
    if (auto got = m_registry.get("attention_decode", spec); got)
        pipeline = *got;
    else
        return got.error();
    if (auto s = m_recorder.dispatch(*pipeline, bindings.first<9>(),
                                     std::as_bytes(std::span(&p, 1)), p.numHeads, splits, tokens);
        !s) {
        return s;
    }
    const BufferSlice combine[] = {bindings[7], bindings[9]};
    return run("attention_combine", spec, combine,
               AttentionCombinePush{p.headDim, splits, p.numHeads, outStride}, p.numHeads, tokens);
}

Status OpRecorder::kvWrite(std::span<const BufferSlice, 6> bindings, const KvWritePush& push) {
    const uint32_t spec[] = {kElementwiseGroup};
    KvWritePush p = push;
    p.tokens = std::max(p.tokens, 1u);
    return run("kv_write", spec, bindings, p, groupsFor(p.kvDim, kElementwiseGroup), p.tokens);
}

namespace {

// argmax.comp stage 0: at most this many workgroups, each over a span of at least one group's
// worth of logits.
constexpr uint32_t kArgmaxMaxGroups = 128;
constexpr VkDeviceSize kArgmaxPartialBytes = 16;

uint32_t argmaxGroups(uint32_t n) {
    return std::clamp<uint32_t>(groupsFor(n, kReduceGroup), 1, kArgmaxMaxGroups);
}

}  // namespace

VkDeviceSize OpRecorder::argmaxPartialBytes(uint32_t n) {
    return VkDeviceSize{argmaxGroups(n)} * kArgmaxPartialBytes;
}

Status OpRecorder::argmax(const BufferSlice& logits, uint32_t n, const BufferSlice& partials,
                          const BufferSlice& result) {
    if (n == 0 || partials.size < argmaxPartialBytes(n) || result.size < 8)
        return makeError(ErrorCode::Internal, "Vulkan: bad argmax");
    const uint32_t groups = argmaxGroups(n);
    const uint32_t span = (n + groups - 1) / groups;
    const uint32_t spec[] = {kReduceGroup};
    const BufferSlice bindings[] = {logits, partials, result};
    if (auto s = run("argmax", spec, bindings, ArgmaxPush{n, span, groups, 0}, groups); !s)
        return s;
    return run("argmax", spec, bindings, ArgmaxPush{n, span, groups, 1}, 1);
}

}  // namespace griffin::vulkan
