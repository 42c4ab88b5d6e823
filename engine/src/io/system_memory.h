// SPDX-License-Identifier: Apache-2.0
// How much more memory this process can take before the system has to take it from someone:
// the kernel's MemAvailable estimate (free memory plus the page cache and slabs it can drop),
// capped by the memory limit of the process's cgroup (v2, or v1's memory controller) where one
// is set (containers, systemd slices). Used to decide whether a copy of a model's weights fits
// (cpu/weight_layout.h): with no swap, anonymous memory past these figures gets the process killed,
// where pages of a mapped file would only be read again.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace griffin::io {

// Bytes; nullopt where neither /proc/meminfo nor a cgroup limit can be read.
std::optional<int64_t> availableMemoryBytes();

// The parsers behind it, for tests. MemAvailable of a /proc/meminfo text, in bytes.
std::optional<int64_t> parseMemAvailable(std::string_view meminfo);
// What a cgroup can still take: its limit less its usage, plus the page cache it holds (which
// it can drop): v2 memory.max ("max": no limit, nullopt), memory.current and memory.stat's
// `file`; v1 memory.limit_in_bytes (2^60 or more: no limit), memory.usage_in_bytes and
// memory.stat's `total_cache`, named by `cacheKey`.
std::optional<int64_t> cgroupHeadroom(std::string_view limit, std::string_view usage,
                                      std::string_view stat, std::string_view cacheKey);

}  // namespace griffin::io
