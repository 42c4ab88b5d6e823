// SPDX-License-Identifier: Apache-2.0
// Writing NumPy .npy files (format version 1.0), atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "griffin/result.h"

namespace griffin::cli {

// Writes little-endian float32 `data` of `shape` (C order) to `path`: first to a temporary file
// beside it, then renamed over `path`, so a failure never leaves a partial file at `path`.
Status writeNpyFloat32(const std::filesystem::path& path, std::span<const int64_t> shape,
                       std::span<const float> data);

// Writes `bytes` to `path` through a temporary file and a rename (same guarantee as above).
Status writeFileAtomically(const std::filesystem::path& path, std::span<const char> bytes);

}  // namespace griffin::cli
