// SPDX-License-Identifier: Apache-2.0
// Reader for Hugging Face safetensors checkpoints: one file, or shards listed in
// model.safetensors.index.json (griffin-spec.md §4.1). Every header field is checked against
// the file before any tensor byte is touched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "griffin/model.h"
#include "griffin/result.h"
#include "io/mapped_file.h"
#include "io/tensor_archive.h"

namespace griffin::io {

// Bytes per element of the types a safetensors file can hold (f32, bf16, f16).
size_t weightTypeSize(WeightType type);

// Not thread-safe to open; safe to read concurrently once open.
class SafetensorsArchive : public TensorArchive {
public:
    // `path`: a .safetensors file, a model.safetensors.index.json, or a directory holding either.
    static Result<std::unique_ptr<SafetensorsArchive>> open(const std::filesystem::path& path);

private:
    Status addFile(const std::filesystem::path& file, const std::vector<std::string>* expected);
    std::vector<std::unique_ptr<MappedFile>> m_files;
    std::vector<std::unique_ptr<std::byte[]>> m_copies;  // realigned tensors
};

}  // namespace griffin::io
