// SPDX-License-Identifier: Apache-2.0
#include "cpu/weight_layout.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/kernels.h"
#include "quant.h"

namespace griffin::cpu {

bool interleaveAtLoad() {
    const char* env = std::getenv("GRIFFIN_BLOCK_LAYOUT");
    if (env != nullptr && std::string_view(env) == "gguf")
        return false;
    return activeIsa() != Isa::Scalar;
}

namespace {

// The matrices interleaveMatrices rearranges: block types the active kernels read interleaved.
bool rearranged(const Matrix& m) {
    return isBlockQuantized(m.type) && readsInterleaved(activeIsa(), m.type) && !m.interleaved &&
           m.data != nullptr;
}

}  // namespace

int64_t layoutCopyBytes(ModelWeights& weights, const io::TensorArchive& archive) {
    std::set<const void*> seen;
    int64_t bytes = 0;
    forEachMatrix(weights, [&](Matrix& m) {
        if (!rearranged(m) || !seen.insert(m.data).second)
            return;
        const size_t n = rowBytes(m.type, m.cols) * static_cast<size_t>(m.rows);
        if (archive.writable(static_cast<const std::byte*>(m.data), n) == nullptr)
            bytes += static_cast<int64_t>(n);
    });
    return bytes;
}

bool layoutCopyFits(int64_t copyBytes, std::optional<int64_t> available) {
    if (copyBytes <= 0 || !available)
        return true;
    const int64_t headroom = std::max<int64_t>(int64_t{512} << 20, copyBytes / 8);
    return copyBytes <= *available - headroom;
}

Result<LayoutChange> interleaveMatrices(ModelWeights& weights, const io::TensorArchive& archive,
                                        io::PageArena& arena, ThreadPool* pool,
                                        const std::function<void(double)>& progress,
                                        std::stop_token stop) {
    LayoutChange change;
    std::map<const void*, const void*> done;  // original data -> interleaved data
    int64_t totalBytes = 0;
    forEachMatrix(weights, [&](Matrix& m) {
        if (rearranged(m))
            totalBytes += m.rows * static_cast<int64_t>(rowBytes(m.type, m.cols));
    });
    int64_t doneBytes = 0;
    Status status;
    forEachMatrix(weights, [&](Matrix& m) {
        if (!status || !rearranged(m))
            return;
        if (stop.stop_requested()) {
            status = makeError(ErrorCode::Cancelled, "loading cancelled");
            return;
        }
        if (auto it = done.find(m.data); it != done.end()) {
            m.data = it->second;
            m.interleaved = true;
            return;
        }
        const size_t perRow = rowBytes(m.type, m.cols);
        const size_t bytes = perRow * static_cast<size_t>(m.rows);
        const auto* source = static_cast<const std::byte*>(m.data);
        std::byte* target = archive.writable(source, bytes);
        const bool inPlace = target != nullptr;
        if (!inPlace) {
            target = arena.allocate(bytes);
            if (target == nullptr) {
                status =
                    makeError(ErrorCode::OutOfMemory,
                              "no memory for a " + std::to_string(bytes >> 20) + " MiB copy of a " +
                                  weightTypeName(m.type) + " matrix in the CPU layout");
                return;
            }
        }
        const auto rearrange = [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) {
                const size_t at = static_cast<size_t>(r) * perRow;
                interleaveRow(m.type, source + at, m.cols, target + at);
            }
        };
        if (pool != nullptr)
            pool->parallelFor(m.rows, 64, rearrange);
        else
            rearrange(0, m.rows);
        if (!inPlace)
            archive.release(source, bytes);
        done[m.data] = target;
        m.data = target;
        m.interleaved = true;
        ++change.matrices;
        (inPlace ? change.inPlaceBytes : change.copiedBytes) += static_cast<int64_t>(bytes);
        doneBytes += static_cast<int64_t>(bytes);
        if (progress && totalBytes > 0)
            progress(static_cast<double>(doneBytes) / static_cast<double>(totalBytes));
    });
    if (!status)
        return status.error();
    return change;
}

int64_t columnBlockMaxAtLoad() {
    const char* env = std::getenv("GRIFFIN_COLUMN_BLOCKS");
    if (env == nullptr || *env == '\0')
        return kColumnBlockMax;
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    return *end == '\0' && v >= 0 && v <= (int64_t{1} << 20) ? v : kColumnBlockMax;
}

int64_t columnBlockWidth(WeightType type, int64_t cols, int64_t maxColumns) {
    if (type != WeightType::BF16 || cols <= maxColumns || maxColumns < 32)
        return 0;
    for (int64_t blocks = 2; cols / blocks >= 32; ++blocks) {
        const int64_t width = cols / blocks;
        if (cols % blocks == 0 && width % 32 == 0 && width <= maxColumns)
            return width;
    }
    return 0;
}

namespace {

// The matrices blockLongRows may store in column blocks: every layer's projections (products
// only; not the RG-LRU gates, read row by row).
template <typename Fn>
void forEachProjection(ModelWeights& weights, Fn&& fn) {
    for (LayerWeights& l : weights.layers) {
        for (Matrix* m : {&l.mlpGate, &l.mlpUp, &l.mlpDown}) fn(*m);
        if (l.type == BlockType::Recurrent) {
            for (Matrix* m : {&l.recurrent.linearX, &l.recurrent.linearY, &l.recurrent.linearOut})
                fn(*m);
        } else {
            for (Matrix* m : {&l.attention.q, &l.attention.k, &l.attention.v, &l.attention.o})
                fn(*m);
        }
    }
}

bool toBlock(const Matrix& m, int64_t maxColumns) {
    return m.blockCols == 0 && !m.interleaved && m.data != nullptr &&
           columnBlockWidth(m.type, m.cols, maxColumns) > 0;
}

// Columns [b * width, (b + 1) * width) of every row of `source` ([rows, cols] of `type`) into
// `target`, block after block.
void copyInBlocks(WeightType type, const std::byte* source, int64_t rows, int64_t cols,
                  int64_t width, std::byte* target) {
    const size_t perRow = rowBytes(type, cols), perBlockRow = rowBytes(type, width);
    for (int64_t b = 0; b < cols / width; ++b) {
        for (int64_t r = 0; r < rows; ++r) {
            std::memcpy(
                target + (static_cast<size_t>(b * rows + r)) * perBlockRow,
                source + static_cast<size_t>(r) * perRow + static_cast<size_t>(b) * perBlockRow,
                perBlockRow);
        }
    }
}

}  // namespace

int64_t columnBlockCopyBytes(ModelWeights& weights, const io::TensorArchive& archive,
                             int64_t maxColumns) {
    std::set<const void*> seen;
    int64_t bytes = 0;
    forEachProjection(weights, [&](Matrix& m) {
        if (!toBlock(m, maxColumns) || !seen.insert(m.data).second)
            return;
        const size_t n = rowBytes(m.type, m.cols) * static_cast<size_t>(m.rows);
        if (archive.writable(static_cast<const std::byte*>(m.data), n) == nullptr)
            bytes += static_cast<int64_t>(n);
    });
    return bytes;
}

Result<LayoutChange> blockLongRows(ModelWeights& weights, const io::TensorArchive& archive,
                                   io::PageArena& arena, std::stop_token stop, int64_t maxColumns) {
    LayoutChange change;
    std::map<const void*, std::pair<const void*, int64_t>> done;  // original -> blocks, width
    std::vector<std::byte> scratch;
    Status status;
    forEachProjection(weights, [&](Matrix& m) {
        if (!status || !toBlock(m, maxColumns))
            return;
        if (stop.stop_requested()) {
            status = makeError(ErrorCode::Cancelled, "loading cancelled");
            return;
        }
        if (auto it = done.find(m.data); it != done.end()) {
            m.data = it->second.first;
            m.blockCols = it->second.second;
            return;
        }
        const int64_t width = columnBlockWidth(m.type, m.cols, maxColumns);
        const size_t bytes = rowBytes(m.type, m.cols) * static_cast<size_t>(m.rows);
        const auto* source = static_cast<const std::byte*>(m.data);
        std::byte* target = archive.writable(source, bytes);
        const bool inPlace = target != nullptr;
        if (inPlace) {
            scratch.assign(source, source + bytes);
            copyInBlocks(m.type, scratch.data(), m.rows, m.cols, width, target);
        } else {
            target = arena.allocate(bytes);
            if (target == nullptr) {
                status = makeError(ErrorCode::OutOfMemory,
                                   "no memory for a " + std::to_string(bytes >> 20) +
                                       " MiB copy of a bf16 matrix in column blocks");
                return;
            }
            copyInBlocks(m.type, source, m.rows, m.cols, width, target);
            archive.release(source, bytes);
        }
        done[m.data] = {target, width};
        m.data = target;
        m.blockCols = width;
        ++change.matrices;
        (inPlace ? change.inPlaceBytes : change.copiedBytes) += static_cast<int64_t>(bytes);
    });
    if (!status)
        return status.error();
    return change;
}

}  // namespace griffin::cpu
