// SPDX-License-Identifier: Apache-2.0
#include "vulkan/transfer.h"

#include <algorithm>
#include <cstring>

namespace griffin::vulkan {
namespace {

// Compute and transfer writes of earlier submissions, before copies read or overwrite them.
void barrierBefore(VkCommandBuffer cb) {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &b, 0, nullptr, 0, nullptr);
}

// The copies' writes, before later compute work, later copies and host reads.
void barrierAfter(VkCommandBuffer cb) {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                      VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                             VK_PIPELINE_STAGE_HOST_BIT,
                         0, 1, &b, 0, nullptr, 0, nullptr);
}

}  // namespace

Result<std::unique_ptr<Transfer>> Transfer::create(const Context& context,
                                                   VkDeviceSize stagingBytes) {
    std::unique_ptr<Transfer> t(new Transfer(context));
    VkDevice device = context.device();
    const VkDeviceSize bytes =
        std::max<VkDeviceSize>(4096, std::min(stagingBytes, context.caps().maxStorageBufferRange));
    t->m_stagingArena = std::make_unique<Arena>(context, bytes, MemoryKind::Host);
    auto staging = t->m_stagingArena->allocate(bytes);
    if (!staging)
        return staging.error();
    t->m_staging = *staging;
    t->m_capacity = bytes;
    VkCommandPoolCreateInfo poolInfo{};
    poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    poolInfo.queueFamilyIndex = context.queueFamily();
    VkCommandPool pool = VK_NULL_HANDLE;
    if (VkResult r = vkCreateCommandPool(device, &poolInfo, nullptr, &pool); r != VK_SUCCESS)
        return vkError(r, "vkCreateCommandPool");
    t->m_commandPool = UniqueCommandPool(device, pool);
    VkCommandBufferAllocateInfo allocInfo{};
    allocInfo.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    allocInfo.commandPool = pool;
    allocInfo.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    allocInfo.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device, &allocInfo, &t->m_commandBuffer);
        r != VK_SUCCESS) {
        return vkError(r, "vkAllocateCommandBuffers");
    }
    VkFenceCreateInfo fenceInfo{};
    fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    VkFence fence = VK_NULL_HANDLE;
    if (VkResult r = vkCreateFence(device, &fenceInfo, nullptr, &fence); r != VK_SUCCESS)
        return vkError(r, "vkCreateFence");
    t->m_fence = UniqueFence(device, fence);
    return t;
}

Transfer::~Transfer() {
    // Nothing is in flight after flush(); an unflushed batch is dropped, never submitted.
    if (m_recording)
        vkEndCommandBuffer(m_commandBuffer);
}

Status Transfer::beginIfIdle() {
    if (m_recording)
        return {};
    if (VkResult r = vkResetCommandBuffer(m_commandBuffer, 0); r != VK_SUCCESS)
        return vkError(r, "vkResetCommandBuffer");
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    if (VkResult r = vkBeginCommandBuffer(m_commandBuffer, &info); r != VK_SUCCESS)
        return vkError(r, "vkBeginCommandBuffer");
    barrierBefore(m_commandBuffer);
    m_recording = true;
    return {};
}

Result<VkDeviceSize> Transfer::reserve(VkDeviceSize bytes) {
    if (bytes == 0 || bytes > m_capacity) {
        return makeError(ErrorCode::Internal, "Vulkan: a transfer of " + std::to_string(bytes) +
                                                  " bytes (staging holds " +
                                                  std::to_string(m_capacity) + ")");
    }
    // 16-byte aligned starts keep every copy region aligned for any element type.
    VkDeviceSize start = (m_used + 15) / 16 * 16;
    if (start + bytes > m_capacity) {
        if (auto s = flush(); !s)
            return s.error();
        start = 0;
    }
    if (auto s = beginIfIdle(); !s)
        return s.error();
    m_used = start + bytes;
    m_stagedBytes += bytes;
    return start;
}

Result<std::byte*> Transfer::write(const BufferSlice& dst, VkDeviceSize offset,
                                   VkDeviceSize bytes) {
    if (offset + bytes > dst.size)
        return makeError(ErrorCode::Internal, "Vulkan: a write past the end of a buffer slice");
    if (dst.mapped != nullptr)
        return dst.mapped + offset;
    auto start = reserve(bytes);
    if (!start)
        return start.error();
    const VkBufferCopy region{m_staging.offset + *start, dst.offset + offset, bytes};
    vkCmdCopyBuffer(m_commandBuffer, m_staging.buffer, dst.buffer, 1, &region);
    m_batchWrites = true;
    return m_staging.mapped + *start;
}

Status Transfer::upload(const BufferSlice& dst, VkDeviceSize offset, const void* src,
                        VkDeviceSize bytes) {
    const auto* p = static_cast<const std::byte*>(src);
    for (VkDeviceSize done = 0; done < bytes;) {
        const VkDeviceSize n = std::min(bytes - done, m_capacity);
        auto region = write(dst, offset + done, n);
        if (!region)
            return region.error();
        std::memcpy(*region, p + done, static_cast<size_t>(n));
        done += n;
    }
    return {};
}

Status Transfer::download(const BufferSlice& src, VkDeviceSize offset, void* out,
                          VkDeviceSize bytes) {
    auto* p = static_cast<std::byte*>(out);
    for (VkDeviceSize done = 0; done < bytes;) {
        const VkDeviceSize n = std::min(bytes - done, m_capacity);
        if (auto s = read(src, offset + done, n, p + done); !s)
            return s;
        done += n;
    }
    return {};
}

Status Transfer::read(const BufferSlice& src, VkDeviceSize offset, VkDeviceSize bytes, void* out) {
    if (offset + bytes > src.size)
        return makeError(ErrorCode::Internal, "Vulkan: a read past the end of a buffer slice");
    if (src.mapped != nullptr) {
        std::memcpy(out, src.mapped + offset, static_cast<size_t>(bytes));
        return {};
    }
    auto start = reserve(bytes);
    if (!start)
        return start.error();
    if (m_batchWrites) {
        barrierBefore(m_commandBuffer);  // a read after writes of the same batch
        m_batchWrites = false;
    }
    const VkBufferCopy region{src.offset + offset, m_staging.offset + *start, bytes};
    vkCmdCopyBuffer(m_commandBuffer, src.buffer, m_staging.buffer, 1, &region);
    m_reads.push_back(PendingRead{*start, bytes, out});
    return {};
}

Status Transfer::zero(VkBuffer buffer, VkDeviceSize offset, VkDeviceSize bytes) {
    if (auto s = beginIfIdle(); !s)
        return s;
    // vkCmdFillBuffer wants a multiple of 4 bytes (or VK_WHOLE_SIZE).
    vkCmdFillBuffer(m_commandBuffer, buffer, offset, bytes % 4 == 0 ? bytes : VK_WHOLE_SIZE, 0);
    // Copies recorded after this may write the same bytes.
    barrierBefore(m_commandBuffer);
    m_batchWrites = false;
    return {};
}

Status Transfer::flush() {
    if (!m_recording)
        return {};
    m_recording = false;
    barrierAfter(m_commandBuffer);
    if (VkResult r = vkEndCommandBuffer(m_commandBuffer); r != VK_SUCCESS)
        return vkError(r, "vkEndCommandBuffer");
    VkDevice device = m_context.device();
    VkFence fence = m_fence.get();
    if (VkResult r = vkResetFences(device, 1, &fence); r != VK_SUCCESS)
        return vkError(r, "vkResetFences");
    VkSubmitInfo submit{};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &m_commandBuffer;
    if (VkResult r = vkQueueSubmit(m_context.queue(), 1, &submit, fence); r != VK_SUCCESS)
        return vkError(r, "vkQueueSubmit");
    if (VkResult r = vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX); r != VK_SUCCESS)
        return vkError(r, "vkWaitForFences");
    for (const PendingRead& r : m_reads) {
        std::memcpy(r.out, m_staging.mapped + r.stagingOffset, static_cast<size_t>(r.bytes));
    }
    m_reads.clear();
    m_used = 0;
    m_batchWrites = false;
    return {};
}

}  // namespace griffin::vulkan
