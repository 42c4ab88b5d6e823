// SPDX-License-Identifier: Apache-2.0
#include "vulkan/command_recorder.h"

#include <cstring>

namespace griffin::vulkan {
namespace {

constexpr uint32_t kSetsPerPool = 512;

}  // namespace

Result<std::unique_ptr<CommandRecorder>> CommandRecorder::create(const Context& context,
                                                                 const PipelineRegistry& registry) {
    std::unique_ptr<CommandRecorder> rec(new CommandRecorder(context, registry));
    VkDevice device = context.device();
    VkCommandPoolCreateInfo poolInfo{};
    poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    poolInfo.queueFamilyIndex = context.queueFamily();
    VkCommandPool pool = VK_NULL_HANDLE;
    if (VkResult r = vkCreateCommandPool(device, &poolInfo, nullptr, &pool); r != VK_SUCCESS)
        return vkError(r, "vkCreateCommandPool");
    rec->m_commandPool = UniqueCommandPool(device, pool);
    VkCommandBufferAllocateInfo allocInfo{};
    allocInfo.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    allocInfo.commandPool = pool;
    allocInfo.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    allocInfo.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device, &allocInfo, &rec->m_commandBuffer);
        r != VK_SUCCESS) {
        return vkError(r, "vkAllocateCommandBuffers");
    }
    VkFenceCreateInfo fenceInfo{};
    fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    VkFence fence = VK_NULL_HANDLE;
    if (VkResult r = vkCreateFence(device, &fenceInfo, nullptr, &fence); r != VK_SUCCESS)
        return vkError(r, "vkCreateFence");
    rec->m_fence = UniqueFence(device, fence);
    return rec;
}

CommandRecorder::~CommandRecorder() {
    // A recorder is only destroyed after submitAndWait() returned, or after a failure that left
    // nothing in flight; wait anyway so no pool dies under a running command buffer.
    if (m_context.device() != VK_NULL_HANDLE)
        vkQueueWaitIdle(m_context.queue());
}

Status CommandRecorder::begin() {
    VkDevice device = m_context.device();
    for (UniqueDescriptorPool& p : m_descriptorPools) vkResetDescriptorPool(device, p.get(), 0);
    m_currentPool = 0;
    m_dispatches = 0;
    if (VkResult r = vkResetCommandBuffer(m_commandBuffer, 0); r != VK_SUCCESS)
        return vkError(r, "vkResetCommandBuffer");
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    if (VkResult r = vkBeginCommandBuffer(m_commandBuffer, &info); r != VK_SUCCESS)
        return vkError(r, "vkBeginCommandBuffer");
    m_recording = true;
    return {};
}

Result<VkDescriptorSet> CommandRecorder::allocateSet() {
    VkDevice device = m_context.device();
    const VkDescriptorSetLayout layout = m_registry.setLayout();
    while (true) {
        if (m_currentPool == m_descriptorPools.size()) {
            VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      kSetsPerPool * kMaxBindings};
            VkDescriptorPoolCreateInfo info{};
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
            info.maxSets = kSetsPerPool;
            info.poolSizeCount = 1;
            info.pPoolSizes = &size;
            VkDescriptorPool pool = VK_NULL_HANDLE;
            if (VkResult r = vkCreateDescriptorPool(device, &info, nullptr, &pool); r != VK_SUCCESS)
                return vkError(r, "vkCreateDescriptorPool");
            m_descriptorPools.emplace_back(device, pool);
        }
        VkDescriptorSetAllocateInfo info{};
        info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
        info.descriptorPool = m_descriptorPools[m_currentPool].get();
        info.descriptorSetCount = 1;
        info.pSetLayouts = &layout;
        VkDescriptorSet set = VK_NULL_HANDLE;
        const VkResult r = vkAllocateDescriptorSets(device, &info, &set);
        if (r == VK_SUCCESS)
            return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return vkError(r, "vkAllocateDescriptorSets");
        ++m_currentPool;  // this pool is full: move on to the next (or a new) one
    }
}

void CommandRecorder::barrier(VkPipelineStageFlags dstStage, VkAccessFlags dstAccess) {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = dstAccess;
    vkCmdPipelineBarrier(m_commandBuffer,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         dstStage, 0, 1, &b, 0, nullptr, 0, nullptr);
}

Status CommandRecorder::dispatch(const Pipeline& pipeline, std::span<const BufferSlice> bindings,
                                 std::span<const std::byte> push, uint32_t groupsX,
                                 uint32_t groupsY, uint32_t groupsZ) {
    if (!m_recording || bindings.size() > kMaxBindings || push.size() > kPushConstantBytes)
        return makeError(ErrorCode::Internal, "Vulkan: bad dispatch of " + pipeline.name);
    auto set = allocateSet();
    if (!set)
        return set.error();
    VkDescriptorBufferInfo infos[kMaxBindings] = {};
    VkWriteDescriptorSet writes[kMaxBindings] = {};
    for (uint32_t i = 0; i < bindings.size(); ++i) {
        infos[i] = {bindings[i].buffer, bindings[i].offset, bindings[i].size};
        writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[i].dstSet = *set;
        writes[i].dstBinding = i;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    vkUpdateDescriptorSets(m_context.device(), static_cast<uint32_t>(bindings.size()), writes, 0,
                           nullptr);
    vkCmdBindPipeline(m_commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline.get());
    vkCmdBindDescriptorSets(m_commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, m_registry.layout(), 0,
                            1, &*set, 0, nullptr);
    // The range is 128 bytes; shaders read only their own prefix, the rest is zero.
    std::byte bytes[kPushConstantBytes] = {};
    std::memcpy(bytes, push.data(), push.size());
    vkCmdPushConstants(m_commandBuffer, m_registry.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       kPushConstantBytes, bytes);
    vkCmdDispatch(m_commandBuffer, groupsX, groupsY, groupsZ);
    barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
    ++m_dispatches;
    return {};
}

void CommandRecorder::copy(const BufferSlice& src, const BufferSlice& dst) {
    VkBufferCopy region{src.offset, dst.offset, std::min(src.size, dst.size)};
    vkCmdCopyBuffer(m_commandBuffer, src.buffer, dst.buffer, 1, &region);
    barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
}

Status CommandRecorder::submitAndWait() {
    if (!m_recording)
        return makeError(ErrorCode::Internal, "Vulkan: submit without begin");
    m_recording = false;
    barrier(VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
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
    return {};
}

}  // namespace griffin::vulkan
