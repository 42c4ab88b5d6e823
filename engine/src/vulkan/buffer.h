// SPDX-License-Identifier: Apache-2.0
// Device memory: a few large host-visible blocks with bump sub-allocation (vulkan-backend.md
// §8.4), slices bound as storage buffers, and the row chunking of tensors larger than
// maxStorageBufferRange.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <vulkan/vulkan.h>

#include "griffin/result.h"
#include "vulkan/context.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

// A range of a buffer, mapped on the host when `mapped` is not null (else reached only through
// a Transfer). Non-owning: valid while its Arena lives.
struct BufferSlice {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
    std::byte* mapped = nullptr;

    template <class T>
    T* as() const {
        return reinterpret_cast<T*>(mapped);
    }
};

// Where an Arena's memory lives.
enum class MemoryKind {
    Host,    // host-visible and coherent, always mapped: staging, logits, per-token tables
    Device,  // device-local (vulkan-backend.md §8.4); mapped only when that memory is also
             // host-visible (integrated GPUs, lavapipe, resizable BAR) and mapping is allowed
};

// Sub-allocates memory in blocks. Every slice is aligned to minStorageBufferOffsetAlignment and
// is at most maxStorageBufferRange bytes, so it can be bound whole. Slices start zero-filled
// (unmapped blocks are cleared on the device at creation, through `zeroFill`). Not thread-safe.
class Arena {
public:
    // Clears `bytes` of `buffer` on the device; used for blocks the host cannot map.
    using ZeroFill = std::function<Status(VkBuffer buffer, VkDeviceSize bytes)>;
    // `blockBytes`: the usual block size (larger requests get a block of their own).
    // `allowMapping` = false keeps Device memory unmapped even where it could be mapped, so that
    // tests on lavapipe take the staging path of discrete GPUs.
    Arena(const Context& context, VkDeviceSize blockBytes, MemoryKind kind = MemoryKind::Host,
          bool allowMapping = true, ZeroFill zeroFill = {});
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // A zero-filled slice of `bytes` (> 0). OutOfMemory when the device refuses, InvalidArgument
    // when `bytes` exceeds maxStorageBufferRange (split the tensor first).
    Result<BufferSlice> allocate(VkDeviceSize bytes);
    VkDeviceSize allocatedBytes() const { return m_allocated; }
    // Whether this arena's slices are mapped (known once the first block exists).
    bool mapped() const { return !m_blocks.empty() && m_blocks.front().mapped != nullptr; }

private:
    struct Block {
        UniqueBuffer buffer;
        UniqueMemory memory;
        std::byte* mapped = nullptr;
        VkDeviceSize size = 0;
        VkDeviceSize used = 0;
    };
    Result<Block> newBlock(VkDeviceSize bytes);

    const Context& m_context;
    VkDeviceSize m_blockBytes;
    MemoryKind m_kind;
    bool m_allowMapping;
    ZeroFill m_zeroFill;
    std::vector<Block> m_blocks;
    VkDeviceSize m_allocated = 0;
};

// Rows [firstRow, firstRow + rows) of a matrix stored as one slice.
struct RowRange {
    int64_t firstRow = 0;
    int64_t rows = 0;
};

// Splits `rows` rows of `rowBytes` each into consecutive ranges of at most `maxBytes` bytes
// (vulkan-backend.md §1: the 256000 x 2560 embedding exceeds lavapipe's 128 MiB range).
// Requires rowBytes <= maxBytes.
std::vector<RowRange> planRowChunks(int64_t rows, VkDeviceSize rowBytes, VkDeviceSize maxBytes);

}  // namespace griffin::vulkan
