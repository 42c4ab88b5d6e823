// SPDX-License-Identifier: Apache-2.0
// The compute shaders of shaders/*.comp, compiled to SPIR-V at build time and embedded here.
// Internal to the engine's Vulkan backend (not an engine public header).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace griffin::shaders {

// The SPIR-V words of shader `name` (the .comp file name without extension), or an empty span
// if there is none. The words live for the whole program. Thread-safe.
std::span<const uint32_t> find(std::string_view name);

// Every embedded shader's name, in build order.
std::vector<std::string_view> names();

}  // namespace griffin::shaders
