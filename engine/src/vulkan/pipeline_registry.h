// SPDX-License-Identifier: Apache-2.0
// PipelineRegistry: compute pipelines made from the embedded shaders (griffin/shader_registry.h),
// one per (shader, specialization constants), created on first use and kept for the registry's
// lifetime. Every pipeline shares one descriptor-set layout of kMaxBindings storage buffers and
// one 128-byte push-constant range (vulkan-backend.md §8.3).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"
#include "vulkan/context.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

constexpr uint32_t kMaxBindings = 10;
constexpr uint32_t kPushConstantBytes = 128;

struct Pipeline {
    std::string name;    // shader and specialization constants, e.g. "matvec/32/1/0"
    std::string shader;  // e.g. "matvec"
    // Bit i set: the shader may write binding i (any buffer not declared readonly). The
    // recorder places barriers by it.
    uint32_t writtenBindings = ~0u;
    UniqueShaderModule module;
    UniquePipeline pipeline;
};

// The storage-buffer bindings (set 0) a SPIR-V module may write: those whose variable or every
// member of whose block is not decorated NonWritable (GLSL `readonly`). All bits set when the
// module cannot be read, so that an unreadable module costs barriers, never correctness.
uint32_t writtenBindings(std::span<const uint32_t> words);

// Not thread-safe. Pointers returned by get() stay valid for the registry's lifetime.
class PipelineRegistry {
public:
    static Result<std::unique_ptr<PipelineRegistry>> create(const Context& context);

    // The pipeline of shader `name` with specialization constants id i = spec[i]
    // (0 = workgroup size, 1 = weight format where the shader has one). NotFound for an unknown
    // shader, Internal when the driver refuses it.
    Result<const Pipeline*> get(std::string_view name, std::span<const uint32_t> spec);

    const Context& context() const { return m_context; }
    VkPipelineLayout layout() const { return m_layout.get(); }
    VkDescriptorSetLayout setLayout() const { return m_setLayout.get(); }
    size_t size() const { return m_pipelines.size(); }

private:
    explicit PipelineRegistry(const Context& context) : m_context(context) {}

    const Context& m_context;
    UniqueSetLayout m_setLayout;
    UniquePipelineLayout m_layout;
    std::map<std::string, std::unique_ptr<Pipeline>, std::less<>> m_pipelines;
};

}  // namespace griffin::vulkan
