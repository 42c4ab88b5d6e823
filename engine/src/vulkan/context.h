// SPDX-License-Identifier: Apache-2.0
// Context: the Vulkan instance (with the validation layer and a debug messenger when asked),
// the chosen physical device, its limits, the logical device and its compute queue.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <vulkan/vulkan.h>

#include "griffin/result.h"
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

// What we probe of a physical device (vulkan-backend.md §8.2). Never assume a limit.
struct DeviceCaps {
    uint32_t index = 0;  // in vkEnumeratePhysicalDevices order
    std::string name;
    std::string driver;  // driver name and info, e.g. "llvmpipe: Mesa 22.3.6 (LLVM 15.0.6)"
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    uint32_t apiVersion = 0;
    uint32_t subgroupSize = 0;
    bool subgroupArithmetic = false;
    VkDeviceSize maxStorageBufferRange = 0;
    VkDeviceSize minStorageBufferOffsetAlignment = 0;
    VkDeviceSize maxMemoryAllocationSize = 0;
    uint32_t maxComputeSharedMemorySize = 0;
    uint32_t maxComputeWorkGroupInvocations = 0;
    uint32_t maxPerStageStorageBuffers = 0;  // maxPerStageDescriptorStorageBuffers
    uint32_t maxComputeWorkGroupCount[3] = {};
    uint32_t maxPushConstantsSize = 0;
    bool storageBuffer16BitAccess = false;
    bool shaderFloat16 = false;
    bool hasComputeQueue = false;
    // Timestamps on the compute queue (the first compute family, the one Context uses): valid
    // bits (0 = none) and nanoseconds per tick.
    uint32_t timestampValidBits = 0;
    float timestampPeriod = 0.0f;
    bool hasHostVisibleMemory = false;  // HOST_VISIBLE | HOST_COHERENT, what this phase maps
};

const char* deviceTypeName(VkPhysicalDeviceType type);
// "llvmpipe (LLVM 15.0.6, 256 bits), cpu, Vulkan 1.3.230, subgroup 8, ..." for `griffin info`.
std::string describeDevice(const DeviceCaps& caps);
// Why `caps` cannot run the backend, or an empty string when it can.
std::string unsuitableReason(const DeviceCaps& caps);

// Picks a device: `request` is an index ("0"), a case-insensitive part of the name ("llvmpipe"),
// or empty for the best suitable device (discrete > integrated > virtual > CPU). Errors name
// the request and list the devices.
Result<size_t> chooseDevice(const std::vector<DeviceCaps>& devices, std::string_view request);

struct ContextOptions {
    // Device request as for chooseDevice; empty = $GRIFFIN_VULKAN_DEVICE, else automatic.
    std::string device;
    // Enable VK_LAYER_KHRONOS_validation and collect its messages; also on when
    // GRIFFIN_VULKAN_VALIDATION=1. An error if the layer is not installed.
    bool validation = false;
};

// Not thread-safe except validationMessages(). Owns every handle it creates; the device is
// destroyed last (after vkDeviceWaitIdle), then the instance.
class Context {
public:
    static Result<std::unique_ptr<Context>> create(const ContextOptions& options = {});
    // Every physical device of a fresh instance, probed (for `griffin info` and device choice).
    static Result<std::vector<DeviceCaps>> listDevices();
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    VkDevice device() const { return m_device.get(); }
    VkQueue queue() const { return m_queue; }
    uint32_t queueFamily() const { return m_queueFamily; }
    const DeviceCaps& caps() const { return m_caps; }
    // A HOST_VISIBLE | HOST_COHERENT memory type allowed by `typeBits` (DEVICE_LOCAL preferred).
    Result<uint32_t> hostVisibleMemoryType(uint32_t typeBits) const;
    // A DEVICE_LOCAL memory type allowed by `typeBits` (any allowed type when none is), and
    // whether it is also HOST_VISIBLE | HOST_COHERENT, so that it can be mapped (integrated
    // GPUs, lavapipe, resizable BAR).
    struct MemoryChoice {
        uint32_t type = 0;
        bool mappable = false;
    };
    Result<MemoryChoice> deviceLocalMemoryType(uint32_t typeBits) const;
    bool validationEnabled() const { return m_validation; }

    // Warnings and errors reported by the validation layer so far. Thread-safe.
    std::vector<std::string> validationMessages() const;
    void clearValidationMessages();

private:
    Context() = default;
    static VKAPI_ATTR VkBool32 VKAPI_CALL onDebugMessage(
        VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
        const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);

    mutable std::mutex m_mutex;
    std::vector<std::string> m_messages;  // guarded by m_mutex
    bool m_validation = false;
    // Members in creation order: they die in reverse.
    UniqueInstance m_instance;
    std::unique_ptr<UniqueMessenger> m_messenger;
    VkPhysicalDevice m_physical = VK_NULL_HANDLE;
    DeviceCaps m_caps;
    VkPhysicalDeviceMemoryProperties m_memory{};
    UniqueDevice m_device;
    VkQueue m_queue = VK_NULL_HANDLE;
    uint32_t m_queueFamily = 0;
};

}  // namespace griffin::vulkan
