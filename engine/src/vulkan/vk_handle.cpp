// SPDX-License-Identifier: Apache-2.0
#include "vulkan/vk_handle.h"

namespace griffin::vulkan {

const char* vkResultName(VkResult result) {
    switch (result) {
        case VK_SUCCESS:
            return "VK_SUCCESS";
        case VK_NOT_READY:
            return "VK_NOT_READY";
        case VK_TIMEOUT:
            return "VK_TIMEOUT";
        case VK_ERROR_OUT_OF_HOST_MEMORY:
            return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY:
            return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED:
            return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST:
            return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_LAYER_NOT_PRESENT:
            return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT:
            return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT:
            return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_INCOMPATIBLE_DRIVER:
            return "VK_ERROR_INCOMPATIBLE_DRIVER";
        case VK_ERROR_OUT_OF_POOL_MEMORY:
            return "VK_ERROR_OUT_OF_POOL_MEMORY";
        case VK_ERROR_FRAGMENTED_POOL:
            return "VK_ERROR_FRAGMENTED_POOL";
        default:
            return "VkResult";
    }
}

Error vkError(VkResult result, const std::string& call) {
    ErrorCode code = ErrorCode::Internal;
    if (result == VK_ERROR_DEVICE_LOST)
        code = ErrorCode::DeviceLost;
    else if (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        code = ErrorCode::OutOfMemory;
    else if (result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_FEATURE_NOT_PRESENT ||
             result == VK_ERROR_EXTENSION_NOT_PRESENT || result == VK_ERROR_LAYER_NOT_PRESENT)
        code = ErrorCode::Unsupported;
    return makeError(code, "Vulkan: " + call + " failed: " + vkResultName(result) + " (" +
                               std::to_string(static_cast<int>(result)) + ")");
}

}  // namespace griffin::vulkan
