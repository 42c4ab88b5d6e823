// SPDX-License-Identifier: Apache-2.0
// Transfer: moves bytes between the host and device memory the host cannot map, through a
// host-visible staging buffer and vkCmdCopyBuffer (vulkan-backend.md §8.4). Slices that are mapped
// are read and written directly, so the same calls serve every kind of device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <vulkan/vulkan.h>

#include "griffin/result.h"
#include "vulkan/buffer.h"
#include "vulkan/context.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

// Not thread-safe. Keeps a reference to `context`, which must outlive it. Copies are batched: they
// run at flush(), or earlier when the staging buffer is full. Every flush() ends with a barrier
// that makes the copies visible to later compute work and to the host.
class Transfer {
public:
    static Result<std::unique_ptr<Transfer>> create(const Context& context,
                                                    VkDeviceSize stagingBytes);
    ~Transfer();
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    // The most bytes one write() or read() may move.
    VkDeviceSize capacity() const { return m_capacity; }

    // Host memory for `bytes` (1..capacity()) bytes that land in `dst` at `offset` by the next
    // flush(): `dst`'s own mapping when it has one, else staging memory. Fill it before the next
    // call on this Transfer (which may flush).
    Result<std::byte*> write(const BufferSlice& dst, VkDeviceSize offset, VkDeviceSize bytes);
    // Copies `bytes` (1..capacity()) bytes of `src` from `offset` into `out`: at once when `src`
    // is mapped, else by the next flush(). `out` must stay valid until then.
    Status read(const BufferSlice& src, VkDeviceSize offset, VkDeviceSize bytes, void* out);
    // write() and read() for any size: split into pieces of at most capacity(). `src` is copied
    // at once; `out` must stay valid until the next flush().
    Status upload(const BufferSlice& dst, VkDeviceSize offset, const void* src, VkDeviceSize bytes);
    Status download(const BufferSlice& src, VkDeviceSize offset, void* out, VkDeviceSize bytes);
    // Sets `bytes` bytes of `buffer` from `offset` to zero on the device, by the next flush().
    Status zero(VkBuffer buffer, VkDeviceSize offset, VkDeviceSize bytes);
    // Runs the batched copies and waits for them; completes the pending reads.
    Status flush();

    // Copies run through staging so far (for tests and the bench).
    uint64_t stagedBytes() const { return m_stagedBytes; }

private:
    explicit Transfer(const Context& context) : m_context(context) {}
    Status beginIfIdle();
    // Room for `bytes` in staging, flushing first when there is none; the staging offset.
    Result<VkDeviceSize> reserve(VkDeviceSize bytes);

    struct PendingRead {
        VkDeviceSize stagingOffset = 0;
        VkDeviceSize bytes = 0;
        void* out = nullptr;
    };

    const Context& m_context;
    std::unique_ptr<Arena> m_stagingArena;
    BufferSlice m_staging;
    VkDeviceSize m_capacity = 0;
    VkDeviceSize m_used = 0;
    UniqueCommandPool m_commandPool;
    VkCommandBuffer m_commandBuffer = VK_NULL_HANDLE;  // freed with m_commandPool
    UniqueFence m_fence;
    bool m_recording = false;
    bool m_batchWrites = false;  // copies into device memory since the last barrier
    std::vector<PendingRead> m_reads;
    uint64_t m_stagedBytes = 0;
};

}  // namespace griffin::vulkan
