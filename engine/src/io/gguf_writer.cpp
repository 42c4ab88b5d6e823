// SPDX-License-Identifier: Apache-2.0
#include "io/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "quant.h"

namespace griffin::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the GGUF writer stores numbers in host order");

constexpr size_t kChunkBytes = size_t{16} << 20;

Error ioError(const std::filesystem::path& file, const std::string& what) {
    return makeError(ErrorCode::Io,
                     file.string() + ": " + what + " (" + std::strerror(errno) + ")");
}

// `out`.partial, removed unless commit() renamed it over `out`.
class PartialFile {
public:
    explicit PartialFile(const std::filesystem::path& out)
        : m_out(out), m_partial(out.string() + ".partial") {}
    ~PartialFile() {
        if (m_fd >= 0)
            ::close(m_fd);
        if (!m_committed) {
            std::error_code ec;
            std::filesystem::remove(m_partial, ec);
        }
    }
    PartialFile(const PartialFile&) = delete;
    PartialFile& operator=(const PartialFile&) = delete;

    Status open() {
        m_fd = ::open(m_partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m_fd < 0)
            return ioError(m_partial, "cannot create");
        return {};
    }

    Status write(const void* data, size_t size) {
        const char* p = static_cast<const char*>(data);
        while (size > 0) {
            const ssize_t n = ::write(m_fd, p, size);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return ioError(m_partial, "cannot write");
            p += n;
            size -= static_cast<size_t>(n);
        }
        return {};
    }

    Status commit() {
        if (::fsync(m_fd) != 0)
            return ioError(m_partial, "cannot flush to disk");
        const int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0)
            return ioError(m_partial, "cannot close");
        if (::rename(m_partial.c_str(), m_out.c_str()) != 0)
            return ioError(m_out, "cannot rename " + m_partial.string() + " to it");
        m_committed = true;
        // Make the rename itself durable.
        const std::filesystem::path dir =
            m_out.parent_path().empty() ? std::filesystem::path(".") : m_out.parent_path();
        const int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirFd >= 0) {
            (void)::fsync(dirFd);
            ::close(dirFd);
        }
        return {};
    }

private:
    std::filesystem::path m_out, m_partial;
    int m_fd = -1;
    bool m_committed = false;
};

uint64_t alignUp(uint64_t n, uint64_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
}

}  // namespace

template <class T>
void GgufMetadata::raw(const T& value) {
    m_bytes.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void GgufMetadata::string(std::string_view s) {
    raw(static_cast<uint64_t>(s.size()));
    m_bytes.append(s);
}

void GgufMetadata::key(std::string_view key, gguf::ValueType type) {
    string(key);
    raw(static_cast<uint32_t>(type));
    ++m_count;
}

void GgufMetadata::arrayHeader(gguf::ValueType type, uint64_t count) {
    raw(static_cast<uint32_t>(type));
    raw(count);
}

void GgufMetadata::addU32(std::string_view k, uint32_t value) {
    key(k, gguf::ValueType::U32);
    raw(value);
}

void GgufMetadata::addI32(std::string_view k, int32_t value) {
    key(k, gguf::ValueType::I32);
    raw(value);
}

void GgufMetadata::addU64(std::string_view k, uint64_t value) {
    key(k, gguf::ValueType::U64);
    raw(value);
}

void GgufMetadata::addF32(std::string_view k, float value) {
    key(k, gguf::ValueType::F32);
    raw(value);
}

void GgufMetadata::addF64(std::string_view k, double value) {
    key(k, gguf::ValueType::F64);
    raw(value);
}

void GgufMetadata::addBool(std::string_view k, bool value) {
    key(k, gguf::ValueType::Bool);
    raw(static_cast<uint8_t>(value ? 1 : 0));
}

void GgufMetadata::addString(std::string_view k, std::string_view value) {
    key(k, gguf::ValueType::String);
    string(value);
}

void GgufMetadata::addStringArray(std::string_view k, const std::vector<std::string>& values) {
    key(k, gguf::ValueType::Array);
    arrayHeader(gguf::ValueType::String, values.size());
    for (const std::string& s : values) string(s);
}

void GgufMetadata::addF32Array(std::string_view k, std::span<const float> values) {
    key(k, gguf::ValueType::Array);
    arrayHeader(gguf::ValueType::F32, values.size());
    m_bytes.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

void GgufMetadata::addI32Array(std::string_view k, std::span<const int32_t> values) {
    key(k, gguf::ValueType::Array);
    arrayHeader(gguf::ValueType::I32, values.size());
    m_bytes.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

void GgufMetadata::addBytes(std::string_view k, std::string_view bytes) {
    key(k, gguf::ValueType::Array);
    arrayHeader(gguf::ValueType::U8, bytes.size());
    m_bytes.append(bytes);
}

Status writeGgufFile(const std::filesystem::path& out, const GgufMetadata& metadata,
                     const std::vector<const TensorInfo*>& tensors,
                     const std::function<void(double)>& progress, std::stop_token stop) {
    constexpr uint64_t kAlignment = gguf::kDefaultAlignment;
    GgufMetadata general;
    general.addU32(gguf::kAlignmentKey, static_cast<uint32_t>(kAlignment));

    // Header, metadata and tensor infos; data offsets are relative to the data section.
    std::string header;
    auto put = [&header](const auto& v) {
        header.append(reinterpret_cast<const char*>(&v), sizeof(v));
    };
    put(gguf::kMagic);
    put(gguf::kVersion);
    put(static_cast<uint64_t>(tensors.size()));
    put(metadata.count() + general.count());
    header += general.encoded();
    header += metadata.encoded();
    std::vector<uint64_t> offsets;
    uint64_t dataBytes = 0;
    for (const TensorInfo* t : tensors) {
        const int64_t cols = t->shape.empty() ? 0 : t->shape.back();
        const size_t rowSize = rowBytes(t->type, cols);
        if (t->shape.empty() || t->shape.size() > static_cast<size_t>(gguf::kMaxDims) ||
            rowSize == 0 || t->bytes != rowSize * static_cast<size_t>(t->numel() / cols)) {
            return makeError(ErrorCode::InvalidArgument,
                             out.string() + ": tensor '" + t->name + "' (" +
                                 weightTypeName(t->type) + ", " + std::to_string(t->shape.size()) +
                                 " dimensions) cannot be stored in a GGUF file");
        }
        put(static_cast<uint64_t>(t->name.size()));
        header += t->name;
        put(static_cast<uint32_t>(t->shape.size()));
        for (auto d = t->shape.rbegin(); d != t->shape.rend(); ++d)
            put(static_cast<uint64_t>(*d));  // innermost first
        put(gguf::ggmlTypeOf(t->type));
        dataBytes = alignUp(dataBytes, kAlignment);
        put(dataBytes);
        offsets.push_back(dataBytes);
        dataBytes += t->bytes;
    }
    header.resize(static_cast<size_t>(alignUp(header.size(), kAlignment)), '\0');

    std::error_code ec;
    if (!out.parent_path().empty() && !std::filesystem::is_directory(out.parent_path(), ec)) {
        return makeError(ErrorCode::NotFound, out.string() + ": the folder " +
                                                  out.parent_path().string() + " does not exist");
    }
    PartialFile file(out);
    if (auto s = file.open(); !s)
        return s;
    if (auto s = file.write(header.data(), header.size()); !s)
        return s;
    const std::string zeros(kAlignment, '\0');
    uint64_t written = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (written < offsets[i]) {
            if (auto s = file.write(zeros.data(), static_cast<size_t>(offsets[i] - written)); !s)
                return s;
            written = offsets[i];
        }
        const TensorInfo& t = *tensors[i];
        for (size_t done = 0; done < t.bytes;) {
            if (stop.stop_requested()) {
                return makeError(ErrorCode::Cancelled,
                                 out.string() + ": writing was cancelled; nothing was written");
            }
            const size_t n = std::min(kChunkBytes, t.bytes - done);
            if (auto s = file.write(t.data + done, n); !s)
                return s;
            done += n;
            written += n;
            if (progress && dataBytes > 0)
                progress(static_cast<double>(written) / static_cast<double>(dataBytes));
        }
    }
    if (stop.stop_requested())
        return makeError(ErrorCode::Cancelled,
                         out.string() + ": writing was cancelled; nothing was written");
    return file.commit();
}

}  // namespace griffin::io
