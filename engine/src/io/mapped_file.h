// SPDX-License-Identifier: Apache-2.0
// MappedFile: a read-only memory mapping of a whole file (RAII).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

#include "griffin/result.h"

namespace griffin::io {

// Move-only; unmaps on destruction. Thread-safe for concurrent reads.
class MappedFile {
public:
    static Result<std::unique_ptr<MappedFile>> open(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::byte> bytes() const { return {m_data, m_size}; }
    const std::filesystem::path& path() const { return m_path; }
    // Drops the whole pages inside [p, p + n) (a part of this mapping) from the process: they
    // stop counting in its resident memory and are read again from the file if touched.
    void release(const std::byte* p, size_t n) const;

private:
    MappedFile() = default;
    std::filesystem::path m_path;
    const std::byte* m_data = nullptr;
    size_t m_size = 0;
};

}  // namespace griffin::io
