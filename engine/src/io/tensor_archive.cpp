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

std::byte* TensorArchive::writable(const std::byte*, size_t) const {
    return nullptr;
}

void TensorArchive::release(const std::byte*, size_t) const {}

std::byte* MemoryArchive::writable(const std::byte* p, size_t n) const {
    auto it = m_owned.upper_bound(p);
    if (it == m_owned.begin())
        return nullptr;
    --it;
    const auto offset = static_cast<size_t>(p - it->first);
    if (offset > it->second || n > it->second - offset)
        return nullptr;
    // The archive allocated these bytes writable; only the pointers it hands out are const.
    return const_cast<std::byte*>(p);
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
    m_owned[p] = bytes;
    return p;
}

}  // namespace griffin::io
