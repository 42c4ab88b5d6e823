// SPDX-License-Identifier: Apache-2.0
// Move-only RAII owners for Vulkan handles, and the helper that turns a failed VkResult into an
// engine Error naming the call.
#pragma once

#include <string>
#include <utility>

#include <vulkan/vulkan.h>

#include "griffin/result.h"

namespace griffin::vulkan {

// "vkCreateBuffer failed: VK_ERROR_OUT_OF_DEVICE_MEMORY"; device loss maps to DeviceLost,
// allocation failures to OutOfMemory, the rest to Internal.
Error vkError(VkResult result, const std::string& call);
const char* vkResultName(VkResult result);

// Owns a handle created from `Parent` (a VkDevice or VkInstance); destroyed with `Destroy`.
// Built only from a successful vkCreate*/vkAllocate*.
template <class Handle, class Parent, auto Destroy>
class VkUnique {
public:
    VkUnique() = default;
    VkUnique(Parent parent, Handle handle) : m_parent(parent), m_handle(handle) {}
    ~VkUnique() { reset(); }
    VkUnique(VkUnique&& other) noexcept
        : m_parent(other.m_parent), m_handle(std::exchange(other.m_handle, Handle{})) {}
    VkUnique& operator=(VkUnique&& other) noexcept {
        if (this != &other) {
            reset();
            m_parent = other.m_parent;
            m_handle = std::exchange(other.m_handle, Handle{});
        }
        return *this;
    }
    VkUnique(const VkUnique&) = delete;
    VkUnique& operator=(const VkUnique&) = delete;

    Handle get() const { return m_handle; }
    explicit operator bool() const { return m_handle != Handle{}; }
    void reset() {
        if (m_handle != Handle{})
            Destroy(m_parent, std::exchange(m_handle, Handle{}), nullptr);
    }

private:
    Parent m_parent{};
    Handle m_handle{};
};

using UniqueBuffer = VkUnique<VkBuffer, VkDevice, vkDestroyBuffer>;
using UniqueMemory = VkUnique<VkDeviceMemory, VkDevice, vkFreeMemory>;
using UniqueShaderModule = VkUnique<VkShaderModule, VkDevice, vkDestroyShaderModule>;
using UniquePipeline = VkUnique<VkPipeline, VkDevice, vkDestroyPipeline>;
using UniquePipelineLayout = VkUnique<VkPipelineLayout, VkDevice, vkDestroyPipelineLayout>;
using UniqueSetLayout = VkUnique<VkDescriptorSetLayout, VkDevice, vkDestroyDescriptorSetLayout>;
using UniqueDescriptorPool = VkUnique<VkDescriptorPool, VkDevice, vkDestroyDescriptorPool>;
using UniqueCommandPool = VkUnique<VkCommandPool, VkDevice, vkDestroyCommandPool>;
using UniqueFence = VkUnique<VkFence, VkDevice, vkDestroyFence>;
using UniqueQueryPool = VkUnique<VkQueryPool, VkDevice, vkDestroyQueryPool>;

// Instance and device have no parent.
template <class Handle, auto Destroy>
class VkUniqueRoot {
public:
    VkUniqueRoot() = default;
    explicit VkUniqueRoot(Handle handle) : m_handle(handle) {}
    ~VkUniqueRoot() { reset(); }
    VkUniqueRoot(VkUniqueRoot&& other) noexcept
        : m_handle(std::exchange(other.m_handle, Handle{})) {}
    VkUniqueRoot& operator=(VkUniqueRoot&& other) noexcept {
        if (this != &other) {
            reset();
            m_handle = std::exchange(other.m_handle, Handle{});
        }
        return *this;
    }
    VkUniqueRoot(const VkUniqueRoot&) = delete;
    VkUniqueRoot& operator=(const VkUniqueRoot&) = delete;

    Handle get() const { return m_handle; }
    void reset() {
        if (m_handle != Handle{})
            Destroy(std::exchange(m_handle, Handle{}), nullptr);
    }

private:
    Handle m_handle{};
};

using UniqueInstance = VkUniqueRoot<VkInstance, vkDestroyInstance>;
using UniqueDevice = VkUniqueRoot<VkDevice, vkDestroyDevice>;

// The validation layer's debug messenger; its destroy function comes from the instance.
class UniqueMessenger {
public:
    UniqueMessenger() = default;
    UniqueMessenger(VkInstance instance, VkDebugUtilsMessengerEXT messenger,
                    PFN_vkDestroyDebugUtilsMessengerEXT destroy)
        : m_instance(instance), m_messenger(messenger), m_destroy(destroy) {}
    ~UniqueMessenger() {
        if (m_messenger != VK_NULL_HANDLE)
            m_destroy(m_instance, m_messenger, nullptr);
    }
    UniqueMessenger(const UniqueMessenger&) = delete;
    UniqueMessenger& operator=(const UniqueMessenger&) = delete;

private:
    VkInstance m_instance = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT m_messenger = VK_NULL_HANDLE;
    PFN_vkDestroyDebugUtilsMessengerEXT m_destroy = nullptr;
};

}  // namespace griffin::vulkan
