// SPDX-License-Identifier: Apache-2.0
#include "vulkan/command_recorder.h"

#include <cstring>

namespace griffin::vulkan {
namespace {

constexpr uint32_t kSetsPerPool = 512;
// Timestamps per command buffer when profiling; commands past it go unmeasured (a 64-token
// prefill of the 9B model records about 20,000 dispatches).
constexpr uint32_t kMaxStamps = 65536;
const std::string kCopyName = "copy";

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
    m_barriers = 0;
    m_ready = false;
    m_stampNames.clear();
    if (VkResult r = vkResetCommandBuffer(m_commandBuffer, 0); r != VK_SUCCESS)
        return vkError(r, "vkResetCommandBuffer");
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    if (VkResult r = vkBeginCommandBuffer(m_commandBuffer, &info); r != VK_SUCCESS)
        return vkError(r, "vkBeginCommandBuffer");
    m_recording = true;
    ++m_recordings;
    // Orders this buffer after everything submitted before it (a barrier's first scope covers
    // earlier submissions): a replayed decode step reads what the previous one wrote.
    barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
    m_pending.clear();
    if (profiling()) {
        vkCmdResetQueryPool(m_commandBuffer, m_queryPool.get(), 0, kMaxStamps + 1);
        vkCmdWriteTimestamp(m_commandBuffer, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            m_queryPool.get(), 0);
    }
    return {};
}

bool CommandRecorder::setProfiling(bool on) {
    m_profile.clear();
    m_ready = false;
    m_queryPool = UniqueQueryPool();
    if (!on)
        return true;
    if (m_context.caps().timestampValidBits == 0 || m_context.caps().timestampPeriod <= 0.0f)
        return false;
    VkQueryPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = kMaxStamps + 1;
    VkQueryPool pool = VK_NULL_HANDLE;
    if (vkCreateQueryPool(m_context.device(), &info, nullptr, &pool) != VK_SUCCESS)
        return false;
    m_queryPool = UniqueQueryPool(m_context.device(), pool);
    return true;
}

void CommandRecorder::orderAfterEarlierCommands(std::span<const BufferSlice> ranges,
                                                uint32_t writes) {
    bool hazard = false;
    for (size_t i = 0; i < ranges.size() && !hazard; ++i) {
        const BufferSlice& r = ranges[i];
        const bool write = ((writes >> i) & 1u) != 0;
        for (const Access& a : m_pending) {
            if (a.buffer == r.buffer && a.begin < r.offset + r.size && r.offset < a.end &&
                (write || a.write)) {
                hazard = true;
                break;
            }
        }
    }
    if (hazard) {
        barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                    VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
        ++m_barriers;
        m_pending.clear();
    }
    for (size_t i = 0; i < ranges.size(); ++i) {
        const BufferSlice& r = ranges[i];
        m_pending.push_back(
            Access{r.buffer, r.offset, r.offset + r.size, ((writes >> i) & 1u) != 0});
    }
}

void CommandRecorder::stamp(const std::string& op) {
    if (!profiling() || m_stampNames.size() >= kMaxStamps)
        return;
    // Profiled commands run one at a time, so that the time between two stamps is one command's.
    barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
    m_pending.clear();
    m_stampNames.push_back(&op);
    vkCmdWriteTimestamp(m_commandBuffer, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, m_queryPool.get(),
                        static_cast<uint32_t>(m_stampNames.size()));
}

Status CommandRecorder::collectTimestamps() {
    if (!profiling() || m_stampNames.empty())
        return {};
    std::vector<uint64_t> ticks(m_stampNames.size() + 1);
    if (VkResult r = vkGetQueryPoolResults(
            m_context.device(), m_queryPool.get(), 0, static_cast<uint32_t>(ticks.size()),
            ticks.size() * sizeof(uint64_t), ticks.data(), sizeof(uint64_t),
            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        r != VK_SUCCESS) {
        return vkError(r, "vkGetQueryPoolResults");
    }
    const uint32_t bits = m_context.caps().timestampValidBits;
    const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    const double secondsPerTick = static_cast<double>(m_context.caps().timestampPeriod) * 1e-9;
    for (size_t i = 0; i < m_stampNames.size(); ++i) {
        const uint64_t delta = (ticks[i + 1] - ticks[i]) & mask;
        OpProfile& p = m_profile[*m_stampNames[i]];
        p.op = *m_stampNames[i];
        ++p.dispatches;
        p.seconds += static_cast<double>(delta) * secondsPerTick;
    }
    return {};
}

Status CommandRecorder::end() {
    if (!m_recording)
        return makeError(ErrorCode::Internal, "Vulkan: end without begin");
    m_recording = false;
    barrier(VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    if (VkResult r = vkEndCommandBuffer(m_commandBuffer); r != VK_SUCCESS)
        return vkError(r, "vkEndCommandBuffer");
    m_ready = true;
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
    orderAfterEarlierCommands(bindings, pipeline.writtenBindings);
    vkCmdBindPipeline(m_commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline.get());
    vkCmdBindDescriptorSets(m_commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, m_registry.layout(), 0,
                            1, &*set, 0, nullptr);
    // The range is 128 bytes; shaders read only their own prefix, the rest is zero.
    std::byte bytes[kPushConstantBytes] = {};
    std::memcpy(bytes, push.data(), push.size());
    vkCmdPushConstants(m_commandBuffer, m_registry.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       kPushConstantBytes, bytes);
    vkCmdDispatch(m_commandBuffer, groupsX, groupsY, groupsZ);
    stamp(pipeline.shader);
    ++m_dispatches;
    return {};
}

void CommandRecorder::copy(const BufferSlice& src, const BufferSlice& dst) {
    const VkDeviceSize bytes = std::min(src.size, dst.size);
    const BufferSlice ranges[] = {BufferSlice{src.buffer, src.offset, bytes, nullptr},
                                  BufferSlice{dst.buffer, dst.offset, bytes, nullptr}};
    orderAfterEarlierCommands(ranges, 2u);
    VkBufferCopy region{src.offset, dst.offset, bytes};
    vkCmdCopyBuffer(m_commandBuffer, src.buffer, dst.buffer, 1, &region);
    stamp(kCopyName);
}

Status CommandRecorder::submitAndWait() {
    if (m_recording) {
        if (auto s = end(); !s)
            return s;
    }
    if (!m_ready)
        return makeError(ErrorCode::Internal, "Vulkan: submit without a recorded buffer");
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
    return collectTimestamps();
}

}  // namespace griffin::vulkan
