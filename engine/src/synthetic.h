// SPDX-License-Identifier: Apache-2.0
// Random weights at a configuration's real shapes, for `griffin bench --synthetic` (no file).
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>

#include "griffin/model.h"
#include "io/tensor_archive.h"

namespace griffin {

// Every tensor Model binds for `config`, named and shaped as in a Hugging Face checkpoint:
// matrices of `type` (f16 where a block type does not fit the row length), vectors f32.
// Deterministic in `seed`; filled on `threads` threads.
Result<std::unique_ptr<io::MemoryArchive>> makeSyntheticArchive(const ModelConfig& config,
                                                                WeightType type, uint64_t seed,
                                                                int threads, std::stop_token stop);

}  // namespace griffin
