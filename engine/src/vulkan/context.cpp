// SPDX-License-Identifier: Apache-2.0
#include "vulkan/context.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "log.h"
#include "vulkan/pipeline_registry.h"

namespace griffin::vulkan {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool envFlag(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, "0") != 0 && *v != '\0';
}

std::string versionString(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) +
           "." + std::to_string(VK_API_VERSION_PATCH(v));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool layerAvailable(const char* name) {
    uint32_t count = 0;
    vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    vkEnumerateInstanceLayerProperties(&count, layers.data());
    return std::any_of(layers.begin(), layers.end(), [&](const VkLayerProperties& l) {
        return std::strcmp(l.layerName, name) == 0;
    });
}

DeviceCaps probe(VkPhysicalDevice physical, uint32_t index) {
    DeviceCaps caps;
    caps.index = index;
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    driver.pNext = &subgroup;
    VkPhysicalDeviceMaintenance3Properties maintenance3{};
    maintenance3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    maintenance3.pNext = &driver;
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &maintenance3;
    vkGetPhysicalDeviceProperties2(physical, &props);
    const VkPhysicalDeviceLimits& limits = props.properties.limits;
    caps.name = props.properties.deviceName;
    caps.driver = std::string(driver.driverName) + ": " + driver.driverInfo;
    caps.type = props.properties.deviceType;
    caps.apiVersion = props.properties.apiVersion;
    caps.subgroupSize = subgroup.subgroupSize;
    caps.subgroupArithmetic =
        (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0 &&
        (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    caps.maxStorageBufferRange = limits.maxStorageBufferRange;
    caps.minStorageBufferOffsetAlignment = limits.minStorageBufferOffsetAlignment;
    caps.maxMemoryAllocationSize = maintenance3.maxMemoryAllocationSize;
    caps.maxComputeSharedMemorySize = limits.maxComputeSharedMemorySize;
    caps.maxComputeWorkGroupInvocations = limits.maxComputeWorkGroupInvocations;
    caps.maxPerStageStorageBuffers = limits.maxPerStageDescriptorStorageBuffers;
    std::copy_n(limits.maxComputeWorkGroupCount, 3, caps.maxComputeWorkGroupCount);
    caps.maxPushConstantsSize = limits.maxPushConstantsSize;

    if (caps.apiVersion >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceVulkan12Features f12{};
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
        VkPhysicalDeviceVulkan11Features f11{};
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
        f11.pNext = &f12;
        VkPhysicalDeviceFeatures2 features{};
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
        features.pNext = &f11;
        vkGetPhysicalDeviceFeatures2(physical, &features);
        caps.storageBuffer16BitAccess = f11.storageBuffer16BitAccess == VK_TRUE;
        caps.shaderFloat16 = f12.shaderFloat16 == VK_TRUE;
    }

    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &familyCount, families.data());
    for (const VkQueueFamilyProperties& f : families) {
        if ((f.queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
            caps.hasComputeQueue = true;
            caps.timestampValidBits = f.timestampValidBits;
            break;
        }
    }
    caps.timestampPeriod = limits.timestampPeriod;
    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(physical, &memory);
    const VkMemoryPropertyFlags wanted =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
        if ((memory.memoryTypes[i].propertyFlags & wanted) == wanted)
            caps.hasHostVisibleMemory = true;
    }
    return caps;
}

int typeRank(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return 4;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
            return 3;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
            return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU:
            return 1;
        default:
            return 0;
    }
}

Result<UniqueInstance> createInstance(bool validation,
                                      const VkDebugUtilsMessengerCreateInfoEXT* messengerInfo) {
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "griffin";
    app.pEngineName = "griffin";
    app.apiVersion = VK_API_VERSION_1_2;
    std::vector<const char*> layers, extensions;
    // With validation, synchronization validation too: it reports a missing barrier (the
    // recorder drops the ones it finds unneeded) as a hazard message.
    // GRIFFIN_VULKAN_SYNC_VALIDATION=0 leaves it out: the sanitizer build does, because the
    // layer's synchronization state outlives the instance and LeakSanitizer cannot name the
    // unloaded layer to suppress it (.ci/run; the regular build runs it).
    const char* sync = std::getenv("GRIFFIN_VULKAN_SYNC_VALIDATION");
    const bool syncValidation = sync == nullptr || std::strcmp(sync, "0") != 0;
    const VkValidationFeatureEnableEXT enabled[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{};
    features.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT;
    features.pNext = messengerInfo;
    features.enabledValidationFeatureCount = syncValidation ? 1 : 0;
    features.pEnabledValidationFeatures = enabled;
    if (validation) {
        layers.push_back(kValidationLayer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
    }
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pNext = validation ? static_cast<const void*>(&features) : nullptr;
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<uint32_t>(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    VkInstance instance = VK_NULL_HANDLE;
    if (VkResult r = vkCreateInstance(&info, nullptr, &instance); r != VK_SUCCESS) {
        Error e = vkError(r, "vkCreateInstance");
        e.code = ErrorCode::Unsupported;
        e.message += " (no Vulkan driver installed?)";
        return e;
    }
    return UniqueInstance(instance);
}

Result<std::vector<DeviceCaps>> probeAll(VkInstance instance,
                                         std::vector<VkPhysicalDevice>* physicals) {
    uint32_t count = 0;
    if (VkResult r = vkEnumeratePhysicalDevices(instance, &count, nullptr); r != VK_SUCCESS)
        return vkError(r, "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    if (VkResult r = vkEnumeratePhysicalDevices(instance, &count, devices.data()); r != VK_SUCCESS)
        return vkError(r, "vkEnumeratePhysicalDevices");
    std::vector<DeviceCaps> out;
    for (uint32_t i = 0; i < count; ++i) out.push_back(probe(devices[i], i));
    if (physicals != nullptr)
        *physicals = std::move(devices);
    return out;
}

}  // namespace

const char* deviceTypeName(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return "discrete GPU";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
            return "integrated GPU";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
            return "virtual GPU";
        case VK_PHYSICAL_DEVICE_TYPE_CPU:
            return "CPU";
        default:
            return "other";
    }
}

std::string describeDevice(const DeviceCaps& c) {
    return c.name + " (" + deviceTypeName(c.type) + ", Vulkan " + versionString(c.apiVersion) +
           ", driver " + c.driver + "); subgroup " + std::to_string(c.subgroupSize) +
           ", max storage range " + std::to_string(c.maxStorageBufferRange >> 20) +
           " MiB, storage alignment " + std::to_string(c.minStorageBufferOffsetAlignment) +
           " B, shared memory " + std::to_string(c.maxComputeSharedMemorySize >> 10) +
           " KiB, 16-bit storage " + (c.storageBuffer16BitAccess ? "yes" : "no") + ", float16 " +
           (c.shaderFloat16 ? "yes" : "no");
}

std::string unsuitableReason(const DeviceCaps& c) {
    if (c.apiVersion < VK_API_VERSION_1_2)
        return "Vulkan " + versionString(c.apiVersion) + " < 1.2";
    if (!c.hasComputeQueue)
        return "no compute queue";
    if (!c.hasHostVisibleMemory)
        return "no host-visible coherent memory";
    if (c.maxComputeWorkGroupInvocations < 64 || c.maxPushConstantsSize < 128)
        return "compute limits below the Vulkan minimum";
    if (c.maxPerStageStorageBuffers < kMaxBindings) {
        return "only " + std::to_string(c.maxPerStageStorageBuffers) +
               " storage buffers per shader (needs " + std::to_string(kMaxBindings) + ")";
    }
    return {};
}

Result<size_t> chooseDevice(const std::vector<DeviceCaps>& devices, std::string_view request) {
    std::string list;
    for (const DeviceCaps& d : devices) {
        list += (list.empty() ? "" : ", ") + std::to_string(d.index) + ": " + d.name;
    }
    if (devices.empty())
        return makeError(ErrorCode::Unsupported, "Vulkan: no device found");
    std::optional<size_t> picked;
    if (!request.empty()) {
        const bool isIndex = std::all_of(request.begin(), request.end(), [](char ch) {
            return std::isdigit(static_cast<unsigned char>(ch));
        });
        for (size_t i = 0; i < devices.size() && !picked; ++i) {
            const bool match =
                isIndex ? std::to_string(devices[i].index) == request
                        : lower(devices[i].name).find(lower(request)) != std::string::npos;
            if (match)
                picked = i;
        }
        if (!picked) {
            return makeError(
                ErrorCode::NotFound,
                "Vulkan: no device matches '" + std::string(request) + "' (devices: " + list + ")");
        }
        if (std::string why = unsuitableReason(devices[*picked]); !why.empty()) {
            return makeError(ErrorCode::Unsupported,
                             "Vulkan: device " + devices[*picked].name + " is unsuitable: " + why);
        }
        return *picked;
    }
    for (size_t i = 0; i < devices.size(); ++i) {
        if (!unsuitableReason(devices[i]).empty())
            continue;
        if (!picked || typeRank(devices[i].type) > typeRank(devices[*picked].type))
            picked = i;
    }
    if (!picked) {
        return makeError(ErrorCode::Unsupported,
                         "Vulkan: no suitable device (devices: " + list +
                             "; first problem: " + unsuitableReason(devices.front()) + ")");
    }
    return *picked;
}

Result<std::vector<DeviceCaps>> Context::listDevices() {
    auto instance = createInstance(false, nullptr);
    if (!instance)
        return instance.error();
    return probeAll(instance->get(), nullptr);
}

VKAPI_ATTR VkBool32 VKAPI_CALL Context::onDebugMessage(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
    auto* self = static_cast<Context*>(user);
    const std::string text = data != nullptr && data->pMessage != nullptr ? data->pMessage : "?";
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        logger(Component::Vulkan)->warn("validation: {}", text);
        std::lock_guard lock(self->m_mutex);
        self->m_messages.push_back(text);
    }
    return VK_FALSE;
}

std::vector<std::string> Context::validationMessages() const {
    std::lock_guard lock(m_mutex);
    return m_messages;
}

void Context::clearValidationMessages() {
    std::lock_guard lock(m_mutex);
    m_messages.clear();
}

Context::~Context() {
    if (m_device.get() != VK_NULL_HANDLE)
        vkDeviceWaitIdle(m_device.get());
}

Result<uint32_t> Context::hostVisibleMemoryType(uint32_t typeBits) const {
    const VkMemoryPropertyFlags wanted =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    std::optional<uint32_t> best;
    for (uint32_t i = 0; i < m_memory.memoryTypeCount; ++i) {
        const VkMemoryPropertyFlags flags = m_memory.memoryTypes[i].propertyFlags;
        if ((typeBits & (1u << i)) == 0 || (flags & wanted) != wanted)
            continue;
        if (!best || (flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0)
            best = i;
        if ((flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0)
            break;
    }
    if (!best)
        return makeError(ErrorCode::Unsupported, "Vulkan: no host-visible coherent memory type");
    return *best;
}

Result<Context::MemoryChoice> Context::deviceLocalMemoryType(uint32_t typeBits) const {
    const VkMemoryPropertyFlags host =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    // Rank: device-local and mappable > device-local > any other allowed type.
    std::optional<MemoryChoice> best;
    int bestRank = -1;
    for (uint32_t i = 0; i < m_memory.memoryTypeCount; ++i) {
        if ((typeBits & (1u << i)) == 0)
            continue;
        const VkMemoryPropertyFlags flags = m_memory.memoryTypes[i].propertyFlags;
        const bool local = (flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0;
        const bool mappable = (flags & host) == host;
        // A small device-local heap that is also host-visible (the 256 MiB BAR window of a
        // discrete GPU without resizable BAR) must not take the weights: prefer it only when
        // its heap is at least half of the largest device-local heap.
        bool bigHeap = true;
        if (local && mappable) {
            const VkDeviceSize heap = m_memory.memoryHeaps[m_memory.memoryTypes[i].heapIndex].size;
            VkDeviceSize largest = 0;
            for (uint32_t h = 0; h < m_memory.memoryHeapCount; ++h) {
                if ((m_memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0)
                    largest = std::max(largest, m_memory.memoryHeaps[h].size);
            }
            bigHeap = heap * 2 >= largest;
        }
        const int rank = local ? (mappable && bigHeap ? 2 : 1) : 0;
        if (rank > bestRank) {
            bestRank = rank;
            best = MemoryChoice{i, mappable};
        }
    }
    if (!best)
        return makeError(ErrorCode::Unsupported, "Vulkan: no memory type for a storage buffer");
    return *best;
}

Result<std::unique_ptr<Context>> Context::create(const ContextOptions& options) {
    std::unique_ptr<Context> ctx(new Context());
    ctx->m_validation = options.validation || envFlag("GRIFFIN_VULKAN_VALIDATION");
    if (ctx->m_validation && !layerAvailable(kValidationLayer)) {
        return makeError(ErrorCode::Unsupported,
                         std::string("Vulkan: validation requested but ") + kValidationLayer +
                             " is not installed (Debian: vulkan-validationlayers)");
    }
    VkDebugUtilsMessengerCreateInfoEXT messengerInfo{};
    messengerInfo.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    messengerInfo.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                    VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messengerInfo.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messengerInfo.pfnUserCallback = &Context::onDebugMessage;
    messengerInfo.pUserData = ctx.get();

    auto instance = createInstance(ctx->m_validation, &messengerInfo);
    if (!instance)
        return instance.error();
    ctx->m_instance = std::move(*instance);
    VkInstance inst = ctx->m_instance.get();
    if (ctx->m_validation) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(inst, "vkCreateDebugUtilsMessengerEXT"));
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(inst, "vkDestroyDebugUtilsMessengerEXT"));
        VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
        if (create == nullptr || destroy == nullptr)
            return makeError(ErrorCode::Unsupported, "Vulkan: VK_EXT_debug_utils is missing");
        if (VkResult r = create(inst, &messengerInfo, nullptr, &messenger); r != VK_SUCCESS)
            return vkError(r, "vkCreateDebugUtilsMessengerEXT");
        ctx->m_messenger = std::make_unique<UniqueMessenger>(inst, messenger, destroy);
    }

    std::vector<VkPhysicalDevice> physicals;
    auto devices = probeAll(inst, &physicals);
    if (!devices)
        return devices.error();
    std::string request = options.device;
    if (request.empty()) {
        if (const char* env = std::getenv("GRIFFIN_VULKAN_DEVICE"))
            request = env;
    }
    auto picked = chooseDevice(*devices, request);
    if (!picked)
        return picked.error();
    ctx->m_physical = physicals[*picked];
    ctx->m_caps = (*devices)[*picked];
    vkGetPhysicalDeviceMemoryProperties(ctx->m_physical, &ctx->m_memory);

    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->m_physical, &familyCount, families.data());
    for (uint32_t i = 0; i < familyCount; ++i) {
        if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
            ctx->m_queueFamily = i;
            break;
        }
    }
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queueInfo{};
    queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    queueInfo.queueFamilyIndex = ctx->m_queueFamily;
    queueInfo.queueCount = 1;
    queueInfo.pQueuePriorities = &priority;
    VkDeviceCreateInfo deviceInfo{};
    deviceInfo.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    deviceInfo.queueCreateInfoCount = 1;
    deviceInfo.pQueueCreateInfos = &queueInfo;
    VkDevice device = VK_NULL_HANDLE;
    if (VkResult r = vkCreateDevice(ctx->m_physical, &deviceInfo, nullptr, &device);
        r != VK_SUCCESS)
        return vkError(r, "vkCreateDevice");
    ctx->m_device = UniqueDevice(device);
    vkGetDeviceQueue(device, ctx->m_queueFamily, 0, &ctx->m_queue);
    logger(Component::Vulkan)->info("device: {}", describeDevice(ctx->m_caps));
    return ctx;
}

}  // namespace griffin::vulkan
