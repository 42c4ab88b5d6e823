// SPDX-License-Identifier: Apache-2.0
#include "vulkan/buffer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace griffin::vulkan {

Arena::Arena(const Context& context, VkDeviceSize blockBytes, MemoryKind kind, bool allowMapping,
             ZeroFill zeroFill)
    : m_context(context),
      m_blockBytes(blockBytes),
      m_kind(kind),
      m_allowMapping(allowMapping),
      m_zeroFill(std::move(zeroFill)) {}

Arena::~Arena() {
    for (Block& b : m_blocks) {
        if (b.mapped != nullptr)
            vkUnmapMemory(m_context.device(), b.memory.get());
    }
}

Result<Arena::Block> Arena::newBlock(VkDeviceSize bytes) {
    VkDevice device = m_context.device();
    Block block;
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = bytes;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkBuffer buffer = VK_NULL_HANDLE;
    if (VkResult r = vkCreateBuffer(device, &info, nullptr, &buffer); r != VK_SUCCESS)
        return vkError(r, "vkCreateBuffer");
    block.buffer = UniqueBuffer(device, buffer);
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device, buffer, &req);
    uint32_t typeIndex = 0;
    bool map = true;
    if (m_kind == MemoryKind::Host) {
        auto type = m_context.hostVisibleMemoryType(req.memoryTypeBits);
        if (!type)
            return type.error();
        typeIndex = *type;
    } else {
        auto choice = m_context.deviceLocalMemoryType(req.memoryTypeBits);
        if (!choice)
            return choice.error();
        typeIndex = choice->type;
        map = choice->mappable && m_allowMapping;
    }
    VkMemoryAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = typeIndex;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    if (VkResult r = vkAllocateMemory(device, &alloc, nullptr, &memory); r != VK_SUCCESS)
        return vkError(r, "vkAllocateMemory (" + std::to_string(req.size >> 20) + " MiB)");
    block.memory = UniqueMemory(device, memory);
    if (VkResult r = vkBindBufferMemory(device, buffer, memory, 0); r != VK_SUCCESS)
        return vkError(r, "vkBindBufferMemory");
    block.size = bytes;
    if (!map) {
        if (!m_zeroFill)
            return makeError(ErrorCode::Internal, "Vulkan: unmapped arena without a zero fill");
        if (auto s = m_zeroFill(buffer, bytes); !s)
            return s.error();
        return block;
    }
    void* mapped = nullptr;
    if (VkResult r = vkMapMemory(device, memory, 0, VK_WHOLE_SIZE, 0, &mapped); r != VK_SUCCESS)
        return vkError(r, "vkMapMemory");
    block.mapped = static_cast<std::byte*>(mapped);
    std::memset(block.mapped, 0, static_cast<size_t>(bytes));
    return block;
}

Result<BufferSlice> Arena::allocate(VkDeviceSize bytes) {
    const DeviceCaps& caps = m_context.caps();
    if (bytes == 0 || bytes > caps.maxStorageBufferRange) {
        return makeError(ErrorCode::InvalidArgument,
                         "Vulkan: buffer of " + std::to_string(bytes) +
                             " bytes is empty or exceeds maxStorageBufferRange (" +
                             std::to_string(caps.maxStorageBufferRange) + ")");
    }
    const VkDeviceSize align = std::max<VkDeviceSize>(caps.minStorageBufferOffsetAlignment, 16);
    const VkDeviceSize rounded = (bytes + align - 1) / align * align;
    Block* target = nullptr;
    for (Block& b : m_blocks) {
        const VkDeviceSize start = (b.used + align - 1) / align * align;
        if (start + rounded <= b.size) {
            target = &b;
            break;
        }
    }
    if (target == nullptr) {
        auto block = newBlock(std::max(m_blockBytes, rounded));
        if (!block)
            return block.error();
        m_blocks.push_back(std::move(*block));
        target = &m_blocks.back();
    }
    const VkDeviceSize start = (target->used + align - 1) / align * align;
    target->used = start + rounded;
    m_allocated += rounded;
    return BufferSlice{target->buffer.get(), start, bytes,
                       target->mapped != nullptr ? target->mapped + start : nullptr};
}

std::vector<RowRange> planRowChunks(int64_t rows, VkDeviceSize rowBytes, VkDeviceSize maxBytes) {
    const int64_t perChunk = std::max<int64_t>(1, static_cast<int64_t>(maxBytes / rowBytes));
    std::vector<RowRange> out;
    for (int64_t first = 0; first < rows; first += perChunk) {
        out.push_back(RowRange{first, std::min(perChunk, rows - first)});
    }
    return out;
}

}  // namespace griffin::vulkan
