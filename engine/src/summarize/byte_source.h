// SPDX-License-Identifier: Apache-2.0
// ByteSource: a document's bytes in blocks, from memory or re-read from its file (large files),
// checking on the way that the file has not changed since Document::open hashed it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "griffin/result.h"
#include "summarize/sha256.h"

namespace griffin::detail {

// Not thread-safe.
class ByteSource {
public:
    // The bytes of `bytes` from `offset` on (shared, not copied).
    ByteSource(std::shared_ptr<const std::string> bytes, int64_t offset);
    // The file from `offset` on; at its end the file's size and SHA-256 must equal these.
    static Result<std::unique_ptr<ByteSource>> openFile(const std::filesystem::path& file,
                                                        int64_t offset, int64_t expectedBytes,
                                                        std::string expectedSha256);

    // Appends up to `maxBytes` bytes to `out`; 0 at the end. Errors: Io, Corrupt (changed file).
    Result<size_t> read(std::string& out, size_t maxBytes);

private:
    ByteSource() = default;
    std::shared_ptr<const std::string> m_bytes;
    size_t m_pos = 0;
    // File mode:
    std::filesystem::path m_path;
    std::ifstream m_file;
    Sha256 m_sha;
    int64_t m_read = 0;
    int64_t m_expectedBytes = 0;
    std::string m_expectedSha;
};

}  // namespace griffin::detail
