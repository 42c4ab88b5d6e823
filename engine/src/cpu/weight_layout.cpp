// SPDX-License-Identifier: Apache-2.0
#include "cpu/weight_layout.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

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

}  // namespace griffin::cpu
