// SPDX-License-Identifier: Apache-2.0
// Device memory: a few large host-visible blocks with bump sub-allocation (vulkan-backend.md
// §8.4), slices bound as storage buffers, and the row chunking of tensors larger than
// maxStorageBufferRange.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <vulkan/vulkan.h>

#include "griffin/result.h"
#include "vulkan/context.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

// A range of a buffer, mapped on the host. Non-owning: valid while its Arena lives.
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

// Sub-allocates host-visible, coherent memory in blocks. Every slice is aligned to
// minStorageBufferOffsetAlignment and is at most maxStorageBufferRange bytes, so it can be bound
// whole. Not thread-safe. TODO(#6): device-local memory with a staging ring for GPUs whose VRAM
// is not host-visible.
class Arena {
public:
    // `blockBytes`: the usual block size (larger requests get a block of their own).
    Arena(const Context& context, VkDeviceSize blockBytes);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // A zero-filled slice of `bytes` (> 0). OutOfMemory when the device refuses, InvalidArgument
    // when `bytes` exceeds maxStorageBufferRange (split the tensor first).
    Result<BufferSlice> allocate(VkDeviceSize bytes);
    VkDeviceSize allocatedBytes() const { return m_allocated; }

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
