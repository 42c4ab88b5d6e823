// SPDX-License-Identifier: Apache-2.0
#include "io/tensor_archive.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace griffin::io {

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

const TensorInfo* TensorArchive::find(const std::string& name) const {
    auto it = m_tensors.find(name);
    return it == m_tensors.end() ? nullptr : &it->second;
}

void MemoryArchive::Deleter::operator()(std::byte* p) const {
    std::free(p);
}

std::byte* MemoryArchive::add(const std::string& name, WeightType type, std::vector<int64_t> shape,
                              size_t bytes, const std::filesystem::path& file) {
    std::byte* p = m_arena.allocate(bytes);  // zeroed
    if (p == nullptr) {
        const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
        p = static_cast<std::byte*>(std::aligned_alloc(64, rounded));
        if (p == nullptr)
            throw std::bad_alloc();
        std::memset(p, 0, rounded);
        m_buffers.emplace_back(p);
    }
    TensorInfo info;
    info.name = name;
    info.type = type;
    info.shape = std::move(shape);
    info.data = p;
    info.bytes = bytes;
    info.file = file;
    m_tensors[name] = std::move(info);
    return p;
}

}  // namespace griffin::io
