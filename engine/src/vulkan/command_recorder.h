// SPDX-License-Identifier: Apache-2.0
// CommandRecorder: records one command buffer of compute dispatches (bind pipeline, a fresh
// descriptor set, push constants, dispatch), then submits it and waits on a fence. A barrier goes
// in only before a dispatch that touches a range an earlier dispatch since the last barrier
// wrote, or writes a range one read (Pipeline::writtenBindings says which bindings a shader
// writes); independent dispatches (q, k and v of one token) run without one between them. One
// forward pass = one begin() ... submitAndWait(). A recorded buffer can be submitted again as it is
// (the decode step: what changes per token is read from buffers the host writes before the submit).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "griffin/model.h"
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
    // Ends recording (with a barrier that makes device writes visible to the host). After it,
    // submitAndWait() may be called any number of times.
    Status end();
    // Whether a buffer was recorded and ended (and not begun again since).
    bool ready() const { return m_ready; }
    // Records `pipeline` over `bindings` (binding i = bindings[i]) with `push` as push constants
    // (at most kPushConstantBytes) and groups (x, y, z), after a barrier if it depends on what
    // came before.
    Status dispatch(const Pipeline& pipeline, std::span<const BufferSlice> bindings,
                    std::span<const std::byte> push, uint32_t groupsX, uint32_t groupsY = 1,
                    uint32_t groupsZ = 1);
    template <class Push>
    Status dispatch(const Pipeline& pipeline, std::span<const BufferSlice> bindings,
                    const Push& push, uint32_t groupsX, uint32_t groupsY = 1) {
        return dispatch(pipeline, bindings, std::as_bytes(std::span(&push, 1)), groupsX, groupsY);
    }
    // Copies `src` into `dst` (same size), after a barrier if it depends on what came before.
    void copy(const BufferSlice& src, const BufferSlice& dst);
    // Ends the command buffer if it is still recording, submits it and waits. DeviceLost if the
    // device is lost.
    Status submitAndWait();

    // Dispatches in the recorded (or recording) buffer.
    uint32_t dispatchCount() const { return m_dispatches; }
    // Barriers between commands in the recorded (or recording) buffer.
    uint32_t barrierCount() const { return m_barriers; }
    // Command buffers begun so far.
    uint64_t recordings() const { return m_recordings; }

    // Profiling: buffers recorded from now on write a timestamp after each dispatch (after its
    // barrier), and every submit adds each dispatch's device time to its shader's entry.
    // Turning it on or off clears the totals and drops the recorded buffer (ready() turns
    // false). False when the queue has no timestamps.
    bool setProfiling(bool on);
    bool profiling() const { return m_queryPool.get() != VK_NULL_HANDLE; }
    // Totals per shader since profiling was turned on.
    const std::map<std::string, OpProfile>& opProfile() const { return m_profile; }

private:
    CommandRecorder(const Context& context, const PipelineRegistry& registry)
        : m_context(context), m_registry(registry) {}
    Result<VkDescriptorSet> allocateSet();
    void barrier(VkPipelineStageFlags dstStage, VkAccessFlags dstAccess);
    // Puts a barrier before a command with these accesses if one conflicts with an access since
    // the last barrier, then notes them. write = bit i of `writes` for range i.
    void orderAfterEarlierCommands(std::span<const BufferSlice> ranges, uint32_t writes);
    // Writes the timestamp that ends the command just recorded, named `op`.
    void stamp(const std::string& op);
    Status collectTimestamps();

    const Context& m_context;
    const PipelineRegistry& m_registry;
    UniqueCommandPool m_commandPool;
    VkCommandBuffer m_commandBuffer = VK_NULL_HANDLE;  // freed with m_commandPool
    UniqueFence m_fence;
    std::vector<UniqueDescriptorPool> m_descriptorPools;
    size_t m_currentPool = 0;
    uint32_t m_dispatches = 0;
    uint32_t m_barriers = 0;
    uint64_t m_recordings = 0;
    // Buffer ranges touched since the last barrier.
    struct Access {
        VkBuffer buffer;
        VkDeviceSize begin, end;
        bool write;
    };
    std::vector<Access> m_pending;
    bool m_recording = false;
    bool m_ready = false;
    // Profiling: query i + 1 ends command i (m_stampNames[i]); query 0 is the start.
    UniqueQueryPool m_queryPool;
    std::vector<const std::string*> m_stampNames;
    std::map<std::string, OpProfile> m_profile;
};

}  // namespace griffin::vulkan
