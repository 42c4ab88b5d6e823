// SPDX-License-Identifier: Apache-2.0
#include "summarize/byte_source.h"

#include <algorithm>

namespace griffin::detail {

ByteSource::ByteSource(std::shared_ptr<const std::string> bytes, int64_t offset)
    : m_bytes(std::move(bytes)), m_pos(static_cast<size_t>(offset)) {}

Result<std::unique_ptr<ByteSource>> ByteSource::openFile(const std::filesystem::path& file,
                                                         int64_t offset, int64_t expectedBytes,
                                                         std::string expectedSha256) {
    std::unique_ptr<ByteSource> source(new ByteSource());
    source->m_path = file;
    source->m_file.open(file, std::ios::binary);
    if (!source->m_file)
        return makeError(ErrorCode::Io, file.string() + ": cannot open for reading");
    // The byte-order mark is hashed but not returned.
    std::string skipped(static_cast<size_t>(offset), '\0');
    source->m_file.read(skipped.data(), offset);
    if (source->m_file.gcount() != offset)
        return makeError(ErrorCode::Corrupt, file.string() + ": changed since it was opened");
    source->m_sha.update(skipped);
    source->m_read = offset;
    source->m_expectedBytes = expectedBytes;
    source->m_expectedSha = std::move(expectedSha256);
    return source;
}

Result<size_t> ByteSource::read(std::string& out, size_t maxBytes) {
    if (m_bytes) {
        const size_t n = std::min(maxBytes, m_bytes->size() - std::min(m_pos, m_bytes->size()));
        out.append(*m_bytes, m_pos, n);
        m_pos += n;
        return n;
    }
    if (!m_file.is_open())
        return size_t{0};
    const size_t old = out.size();
    out.resize(old + maxBytes);
    m_file.read(out.data() + old, static_cast<std::streamsize>(maxBytes));
    const auto n = static_cast<size_t>(m_file.gcount());
    out.resize(old + n);
    if (m_file.bad())
        return makeError(ErrorCode::Io, m_path.string() + ": read failed");
    m_sha.update(std::string_view(out).substr(old));
    m_read += static_cast<int64_t>(n);
    if (n == 0 || m_file.eof()) {
        m_file.close();
        if (m_read != m_expectedBytes || m_sha.hexDigest() != m_expectedSha) {
            return makeError(ErrorCode::Corrupt,
                             m_path.string() + ": the file changed while it was being read");
        }
    }
    return n;
}

}  // namespace griffin::detail
