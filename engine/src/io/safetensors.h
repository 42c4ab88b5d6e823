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

namespace griffin::io {

size_t weightTypeSize(WeightType type);

// A tensor inside a mapped file. `data` points at `bytes` bytes, valid while the archive lives,
// aligned to the element size (unaligned tensors are copied into an owned buffer).
struct TensorInfo {
    std::string name;
    WeightType type = WeightType::F32;
    std::vector<int64_t> shape;
    const std::byte* data = nullptr;
    size_t bytes = 0;
    std::filesystem::path file;

    int64_t numel() const;
};

// Not thread-safe to open; safe to read concurrently once open.
class SafetensorsArchive {
public:
    // `path`: a .safetensors file, a model.safetensors.index.json, or a directory holding either.
    static Result<std::unique_ptr<SafetensorsArchive>> open(const std::filesystem::path& path);

    // nullptr when absent.
    const TensorInfo* find(const std::string& name) const;
    const std::map<std::string, TensorInfo>& tensors() const { return m_tensors; }

private:
    Status addFile(const std::filesystem::path& file, const std::vector<std::string>* expected);
    std::vector<std::unique_ptr<MappedFile>> m_files;
    std::vector<std::unique_ptr<std::byte[]>> m_copies;  // realigned tensors
    std::map<std::string, TensorInfo> m_tensors;
};

}  // namespace griffin::io
