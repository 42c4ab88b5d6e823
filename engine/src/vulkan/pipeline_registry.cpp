// SPDX-License-Identifier: Apache-2.0
#include "vulkan/pipeline_registry.h"

#include <map>

#include "griffin/shader_registry.h"
#include "log.h"

namespace griffin::vulkan {

uint32_t writtenBindings(std::span<const uint32_t> words) {
    constexpr uint32_t kMagic = 0x07230203;
    constexpr uint32_t kOpTypeStruct = 30, kOpTypePointer = 32, kOpVariable = 59;
    constexpr uint32_t kOpDecorate = 71, kOpMemberDecorate = 72;
    constexpr uint32_t kNonWritable = 24, kBinding = 33, kDescriptorSet = 34;
    if (words.size() < 5 || words[0] != kMagic)
        return ~0u;
    std::map<uint32_t, uint32_t> binding, set, pointee, variableType, memberCount;
    std::map<uint32_t, uint32_t> readonlyMembers;  // struct id -> members marked NonWritable
    std::map<uint32_t, bool> readonlyVariable;
    for (size_t i = 5; i < words.size();) {
        const uint32_t count = words[i] >> 16, op = words[i] & 0xffff;
        if (count == 0 || i + count > words.size())
            return ~0u;
        const uint32_t* w = &words[i];
        if (op == kOpDecorate && count >= 3) {
            if (w[2] == kBinding && count >= 4)
                binding[w[1]] = w[3];
            else if (w[2] == kDescriptorSet && count >= 4)
                set[w[1]] = w[3];
            else if (w[2] == kNonWritable)
                readonlyVariable[w[1]] = true;
        } else if (op == kOpMemberDecorate && count >= 4 && w[3] == kNonWritable) {
            ++readonlyMembers[w[1]];
        } else if (op == kOpTypeStruct && count >= 2) {
            memberCount[w[1]] = count - 2;
        } else if (op == kOpTypePointer && count >= 4) {
            pointee[w[1]] = w[3];
        } else if (op == kOpVariable && count >= 4) {
            variableType[w[2]] = w[1];
        }
        i += count;
    }
    uint32_t mask = 0;
    for (const auto& [id, b] : binding) {
        if (b >= 32 || (set.count(id) != 0 && set.at(id) != 0))
            continue;
        bool readonly = readonlyVariable.count(id) != 0;
        if (!readonly && variableType.count(id) != 0 && pointee.count(variableType.at(id)) != 0) {
            const uint32_t block = pointee.at(variableType.at(id));
            readonly = memberCount.count(block) != 0 && memberCount.at(block) > 0 &&
                       readonlyMembers[block] >= memberCount.at(block);
        }
        if (!readonly)
            mask |= 1u << b;
    }
    return mask;
}

Result<std::unique_ptr<PipelineRegistry>> PipelineRegistry::create(const Context& context) {
    std::unique_ptr<PipelineRegistry> reg(new PipelineRegistry(context));
    VkDevice device = context.device();
    std::vector<VkDescriptorSetLayoutBinding> bindings(kMaxBindings);
    for (uint32_t i = 0; i < kMaxBindings; ++i) {
        bindings[i].binding = i;
        bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        bindings[i].descriptorCount = 1;
        bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo setInfo{};
    setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    setInfo.bindingCount = kMaxBindings;
    setInfo.pBindings = bindings.data();
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    if (VkResult r = vkCreateDescriptorSetLayout(device, &setInfo, nullptr, &setLayout);
        r != VK_SUCCESS) {
        return vkError(r, "vkCreateDescriptorSetLayout");
    }
    reg->m_setLayout = UniqueSetLayout(device, setLayout);

    VkPushConstantRange range{};
    range.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    range.size = kPushConstantBytes;
    VkPipelineLayoutCreateInfo layoutInfo{};
    layoutInfo.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    layoutInfo.setLayoutCount = 1;
    layoutInfo.pSetLayouts = &setLayout;
    layoutInfo.pushConstantRangeCount = 1;
    layoutInfo.pPushConstantRanges = &range;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    if (VkResult r = vkCreatePipelineLayout(device, &layoutInfo, nullptr, &layout);
        r != VK_SUCCESS) {
        return vkError(r, "vkCreatePipelineLayout");
    }
    reg->m_layout = UniquePipelineLayout(device, layout);
    return reg;
}

Result<const Pipeline*> PipelineRegistry::get(std::string_view name,
                                              std::span<const uint32_t> spec) {
    std::string key(name);
    for (uint32_t v : spec) key += "/" + std::to_string(v);
    if (auto it = m_pipelines.find(key); it != m_pipelines.end())
        return it->second.get();

    const std::span<const uint32_t> words = shaders::find(name);
    if (words.empty())
        return makeError(ErrorCode::NotFound, "Vulkan: no embedded shader '" + key + "'");
    VkDevice device = m_context.device();
    auto pipeline = std::make_unique<Pipeline>();
    pipeline->name = key;
    pipeline->shader = std::string(name);
    pipeline->writtenBindings = writtenBindings(words);
    VkShaderModuleCreateInfo moduleInfo{};
    moduleInfo.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    moduleInfo.codeSize = words.size_bytes();
    moduleInfo.pCode = words.data();
    VkShaderModule module = VK_NULL_HANDLE;
    if (VkResult r = vkCreateShaderModule(device, &moduleInfo, nullptr, &module); r != VK_SUCCESS)
        return vkError(r, "vkCreateShaderModule(" + key + ")");
    pipeline->module = UniqueShaderModule(device, module);

    std::vector<VkSpecializationMapEntry> entries(spec.size());
    for (uint32_t i = 0; i < spec.size(); ++i) {
        entries[i].constantID = i;
        entries[i].offset = i * static_cast<uint32_t>(sizeof(uint32_t));
        entries[i].size = sizeof(uint32_t);
    }
    VkSpecializationInfo specInfo{};
    specInfo.mapEntryCount = static_cast<uint32_t>(entries.size());
    specInfo.pMapEntries = entries.data();
    specInfo.dataSize = spec.size_bytes();
    specInfo.pData = spec.data();
    VkComputePipelineCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module;
    info.stage.pName = "main";
    info.stage.pSpecializationInfo = spec.empty() ? nullptr : &specInfo;
    info.layout = m_layout.get();
    VkPipeline handle = VK_NULL_HANDLE;
    if (VkResult r = vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &info, nullptr, &handle);
        r != VK_SUCCESS) {
        return vkError(r, "vkCreateComputePipelines(" + key + ")");
    }
    pipeline->pipeline = UniquePipeline(device, handle);
    logger(Component::Vulkan)->debug("pipeline created: {}", key);
    const Pipeline* out = pipeline.get();
    m_pipelines.emplace(std::move(key), std::move(pipeline));
    return out;
}

}  // namespace griffin::vulkan
