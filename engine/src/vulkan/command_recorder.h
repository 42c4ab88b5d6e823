// SPDX-License-Identifier: Apache-2.0
// CommandRecorder: records one command buffer of compute dispatches (bind pipeline, a fresh
// descriptor set, push constants, dispatch) with a full compute barrier after each, then submits
// it and waits on a fence. One forward pass = one begin() ... submitAndWait().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "griffin/result.h"
#include "vulkan/buffer.h"
#include "vulkan/context.h"
#include "vulkan/pipeline_registry.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

// Not thread-safe. Keeps references to `context` and `registry`, which must outlive it.
class CommandRecorder {
public:
    static Result<std::unique_ptr<CommandRecorder>> create(const Context& context,
                                                           const PipelineRegistry& registry);
    ~CommandRecorder();
    CommandRecorder(const CommandRecorder&) = delete;
    CommandRecorder& operator=(const CommandRecorder&) = delete;

    // Starts a new command buffer; descriptor sets of the previous one are recycled.
    // Requires: the previous one was submitted (or never begun).
    Status begin();
    // Records `pipeline` over `bindings` (binding i = bindings[i]) with `push` as push constants
    // (at most kPushConstantBytes) and groups (x, y, z), followed by a compute->compute barrier
    // (TODO(#6): per-range hazard tracking to drop the barriers that are not needed).
    Status dispatch(const Pipeline& pipeline, std::span<const BufferSlice> bindings,
                    std::span<const std::byte> push, uint32_t groupsX, uint32_t groupsY = 1,
                    uint32_t groupsZ = 1);
    template <class Push>
    Status dispatch(const Pipeline& pipeline, std::span<const BufferSlice> bindings,
                    const Push& push, uint32_t groupsX, uint32_t groupsY = 1) {
        return dispatch(pipeline, bindings, std::as_bytes(std::span(&push, 1)), groupsX, groupsY);
    }
    // Copies `src` into `dst` (same size), with a barrier after.
    void copy(const BufferSlice& src, const BufferSlice& dst);
    // Ends the command buffer with a barrier that makes device writes visible to the host,
    // submits it and waits. DeviceLost if the device is lost.
    Status submitAndWait();

    uint32_t dispatchCount() const { return m_dispatches; }

private:
    CommandRecorder(const Context& context, const PipelineRegistry& registry)
        : m_context(context), m_registry(registry) {}
    Result<VkDescriptorSet> allocateSet();
    void barrier(VkPipelineStageFlags dstStage, VkAccessFlags dstAccess);

    const Context& m_context;
    const PipelineRegistry& m_registry;
    UniqueCommandPool m_commandPool;
    VkCommandBuffer m_commandBuffer = VK_NULL_HANDLE;  // freed with m_commandPool
    UniqueFence m_fence;
    std::vector<UniqueDescriptorPool> m_descriptorPools;
    size_t m_currentPool = 0;
    uint32_t m_dispatches = 0;
    bool m_recording = false;
};

}  // namespace griffin::vulkan
