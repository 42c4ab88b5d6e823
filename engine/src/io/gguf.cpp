// SPDX-License-Identifier: Apache-2.0
#include "io/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "quant.h"

namespace griffin::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader maps little-endian numbers directly");

constexpr uint64_t kMaxStringBytes = uint64_t{1} << 20;  // keys, string values, names
constexpr uint64_t kMaxNumel = uint64_t{1} << 62;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;
// The smallest possible metadata entry (empty key, u8 value) and tensor info (empty name, one
// dimension): bounds on the counts a file of a given size can hold.
constexpr uint64_t kMinEntryBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;

Error corrupt(const std::filesystem::path& file, const std::string& what) {
    return makeError(ErrorCode::Corrupt, file.string() + ": " + what);
}

std::string inQuotes(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// Reads the header fields in order; every read is checked against the end of the file.
class Cursor {
public:
    Cursor(std::span<const std::byte> bytes, const std::filesystem::path& file)
        : m_bytes(bytes), m_file(file) {}

    size_t pos() const { return m_pos; }
    size_t remaining() const { return m_bytes.size() - m_pos; }

    Error truncated(std::string_view what) const {
        return corrupt(m_file, "truncated: the file ends inside " + std::string(what) + " (" +
                                   std::to_string(m_bytes.size()) + " bytes)");
    }

    Result<const std::byte*> take(uint64_t n, std::string_view what) {
        if (n > remaining())
            return truncated(what);
        const std::byte* p = m_bytes.data() + m_pos;
        m_pos += static_cast<size_t>(n);
        return p;
    }

    template <class T>
    Result<T> number(std::string_view what) {
        auto p = take(sizeof(T), what);
        if (!p)
            return p.error();
        T v;
        std::memcpy(&v, *p, sizeof(T));
        return v;
    }

    Result<std::string_view> string(std::string_view what) {
        auto len = number<uint64_t>(what);
        if (!len)
            return len.error();
        if (*len > kMaxStringBytes) {
            return corrupt(m_file, std::string(what) + " is " + std::to_string(*len) +
                                       " bytes long; strings are limited to 1 MiB");
        }
        auto p = take(*len, what);
        if (!p)
            return p.error();
        return std::string_view(reinterpret_cast<const char*>(*p), static_cast<size_t>(*len));
    }

private:
    std::span<const std::byte> m_bytes;
    const std::filesystem::path& m_file;
    size_t m_pos = 0;
};

Result<GgufValue> parseValue(Cursor& c, const std::filesystem::path& file, const std::string& key,
                             uint32_t rawType) {
    const std::string what = "the value of key " + inQuotes(key);
    if (rawType >= gguf::kValueTypeCount)
        return corrupt(
            file, "key " + inQuotes(key) + " has unknown value type " + std::to_string(rawType));
    GgufValue v;
    v.type = static_cast<gguf::ValueType>(rawType);
    if (v.type == gguf::ValueType::String) {
        auto s = c.string(what);
        if (!s)
            return s.error();
        v.text = *s;
        return v;
    }
    if (v.type != gguf::ValueType::Array) {
        auto p = c.take(gguf::valueTypeSize(v.type), what);
        if (!p)
            return p.error();
        std::memcpy(&v.bits, *p, gguf::valueTypeSize(v.type));
        return v;
    }
    auto elementType = c.number<uint32_t>(what);
    auto count = elementType ? c.number<uint64_t>(what) : Result<uint64_t>(elementType.error());
    if (!count)
        return count.error();
    if (*elementType >= gguf::kValueTypeCount) {
        return corrupt(file, "key " + inQuotes(key) + " is an array of unknown value type " +
                                 std::to_string(*elementType));
    }
    v.elementType = static_cast<gguf::ValueType>(*elementType);
    v.count = *count;
    if (v.elementType == gguf::ValueType::Array)
        return corrupt(file, "key " + inQuotes(key) + " is an array of arrays (not supported)");
    // Each element takes at least its size (a string at least its 8-byte length).
    const size_t elementSize = v.elementType == gguf::ValueType::String
                                   ? sizeof(uint64_t)
                                   : gguf::valueTypeSize(v.elementType);
    if (v.count > c.remaining() / elementSize) {
        return corrupt(file, "key " + inQuotes(key) + ": an array of " + std::to_string(v.count) +
                                 " " + gguf::valueTypeName(v.elementType) +
                                 " runs past the end of the file (truncated?)");
    }
    if (v.elementType != gguf::ValueType::String) {
        auto p = c.take(v.count * elementSize, what);
        if (!p)
            return p.error();
        v.elements = *p;
        return v;
    }
    v.strings.reserve(static_cast<size_t>(v.count));
    for (uint64_t i = 0; i < v.count; ++i) {
        auto s = c.string(what);
        if (!s)
            return s.error();
        v.strings.push_back(*s);
    }
    return v;
}

struct Entry {
    TensorInfo info;
    uint64_t offset = 0;
};

std::string shapeText(const std::vector<uint64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

Result<Entry> parseTensorInfo(Cursor& c, const std::filesystem::path& file, uint64_t index) {
    const std::string what = "tensor info #" + std::to_string(index);
    auto name = c.string(what);
    if (!name)
        return name.error();
    const std::string tensor = "tensor " + inQuotes(*name);
    auto nDims = c.number<uint32_t>(what);
    if (!nDims)
        return nDims.error();
    if (*nDims == 0 || *nDims > static_cast<uint32_t>(gguf::kMaxDims)) {
        return corrupt(file,
                       tensor + " has " + std::to_string(*nDims) + " dimensions; expected 1 to 4");
    }
    std::vector<uint64_t> dims;
    for (uint32_t i = 0; i < *nDims; ++i) {
        auto d = c.number<uint64_t>(what);
        if (!d)
            return d.error();
        dims.push_back(*d);
    }
    auto ggmlType = c.number<uint32_t>(what);
    auto offset = ggmlType ? c.number<uint64_t>(what) : Result<uint64_t>(ggmlType.error());
    if (!offset)
        return offset.error();
    uint64_t numel = 1;
    for (uint64_t d : dims) {
        if (d == 0)
            return corrupt(file, tensor + " has an empty dimension: " + shapeText(dims));
        if (d > kMaxNumel / numel) {
            return corrupt(file,
                           tensor + " has shape " + shapeText(dims) + ", more than 2^62 elements");
        }
        numel *= d;
    }
    auto type = gguf::weightTypeFromGgml(*ggmlType);
    if (!type) {
        const char* known = gguf::ggmlTypeName(*ggmlType);
        return makeError(ErrorCode::Unsupported,
                         file.string() + ": " + tensor + " has ggml type " +
                             std::to_string(*ggmlType) +
                             (known ? " (" + std::string(known) + ")" : " (unknown)") +
                             "; supported are f32, f16, bf16, q8_0 and q4_0");
    }
    const uint64_t cols = dims[0];
    const uint64_t rows = numel / cols;
    const size_t rowSize = rowBytes(*type, static_cast<int64_t>(cols));
    if (rowSize == 0) {
        return corrupt(file, tensor + " is " + weightTypeName(*type) + " with rows of " +
                                 std::to_string(cols) + " values; the type needs a multiple of 32");
    }
    if (rows > std::numeric_limits<uint64_t>::max() / rowSize)
        return corrupt(file, tensor + " has shape " + shapeText(dims) + ", too many bytes");
    Entry e;
    e.info.name = std::string(*name);
    e.info.type = *type;
    e.info.shape.assign(dims.rbegin(), dims.rend());  // HF order: outermost first
    e.info.bytes = static_cast<size_t>(rows * rowSize);
    e.info.file = file;
    e.offset = *offset;
    return e;
}

}  // namespace

Result<std::unique_ptr<GgufArchive>> GgufArchive::open(const std::filesystem::path& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.error();
    std::unique_ptr<GgufArchive> archive(new GgufArchive());
    archive->m_file = std::move(*mapped);
    if (auto s = archive->parse(); !s)
        return s.error();
    return archive;
}

Status GgufArchive::parse() {
    const std::filesystem::path& file = m_file->path();
    const std::span<const std::byte> bytes = m_file->bytes();
    Cursor c(bytes, file);
    auto magic = c.number<uint32_t>("the magic number");
    if (!magic)
        return corrupt(
            file, "truncated or not a GGUF file: only " + std::to_string(bytes.size()) + " bytes");
    if (*magic != gguf::kMagic) {
        std::string seen;
        for (int i = 0; i < 4; ++i) {
            const char ch =
                static_cast<char>(std::to_integer<unsigned char>(bytes[static_cast<size_t>(i)]));
            seen += (ch >= 0x20 && ch < 0x7F) ? ch : '?';
        }
        return corrupt(file, "not a GGUF file (starts with '" + seen + "', expected 'GGUF')");
    }
    auto version = c.number<uint32_t>("the header");
    if (!version)
        return version.error();
    if (*version != 2 && *version != 3) {
        return makeError(ErrorCode::Unsupported, file.string() + ": GGUF version " +
                                                     std::to_string(*version) +
                                                     " is not supported (expected 3 or 2)");
    }
    m_version = *version;
    auto tensorCount = c.number<uint64_t>("the header");
    auto kvCount =
        tensorCount ? c.number<uint64_t>("the header") : Result<uint64_t>(tensorCount.error());
    if (!kvCount)
        return kvCount.error();
    if (*kvCount > c.remaining() / kMinEntryBytes) {
        return corrupt(file, "the header announces " + std::to_string(*kvCount) +
                                 " metadata entries, more than the file can hold (" +
                                 std::to_string(bytes.size()) + " bytes; truncated?)");
    }
    if (*tensorCount > c.remaining() / kMinTensorInfoBytes) {
        return corrupt(file, "the header announces " + std::to_string(*tensorCount) +
                                 " tensors, more than the file can hold (" +
                                 std::to_string(bytes.size()) + " bytes; truncated?)");
    }

    for (uint64_t i = 0; i < *kvCount; ++i) {
        auto key = c.string("metadata entry #" + std::to_string(i));
        if (!key)
            return key.error();
        auto type = c.number<uint32_t>("the value of key " + inQuotes(*key));
        if (!type)
            return type.error();
        if (m_values.find(*key) != m_values.end())
            return corrupt(file, "key " + inQuotes(*key) + " appears twice");
        auto value = parseValue(c, file, std::string(*key), *type);
        if (!value)
            return value.error();
        m_values.emplace(std::string(*key), std::move(*value));
    }

    std::vector<Entry> entries;
    entries.reserve(static_cast<size_t>(*tensorCount));
    std::set<std::string, std::less<>> names;
    for (uint64_t i = 0; i < *tensorCount; ++i) {
        auto e = parseTensorInfo(c, file, i);
        if (!e)
            return e.error();
        if (!names.insert(e->info.name).second)
            return corrupt(file, "tensor " + inQuotes(e->info.name) + " appears twice");
        entries.push_back(std::move(*e));
    }

    if (const GgufValue* a = metadata(gguf::kAlignmentKey)) {
        auto value = integer(gguf::kAlignmentKey);
        if (!value || *value <= 0 || static_cast<uint64_t>(*value) > kMaxAlignment ||
            !std::has_single_bit(static_cast<uint64_t>(*value))) {
            return corrupt(file, std::string(gguf::kAlignmentKey) + " (" +
                                     gguf::valueTypeName(a->type) +
                                     ") must be a power of two up to 2^30");
        }
        m_alignment = static_cast<uint64_t>(*value);
    }
    const uint64_t dataStart = (c.pos() + m_alignment - 1) / m_alignment * m_alignment;
    if (dataStart > bytes.size() && !entries.empty()) {
        return corrupt(file, "truncated: the data section would start at byte " +
                                 std::to_string(dataStart) + " of a " +
                                 std::to_string(bytes.size()) + "-byte file");
    }
    const uint64_t dataSize = dataStart < bytes.size() ? bytes.size() - dataStart : 0;
    for (const Entry& e : entries) {
        const std::string tensor = "tensor " + inQuotes(e.info.name);
        if (e.offset % m_alignment != 0) {
            return corrupt(file, tensor + ": offset " + std::to_string(e.offset) +
                                     " is not a multiple of the alignment (" +
                                     std::to_string(m_alignment) + ")");
        }
        if (e.offset > dataSize || e.info.bytes > dataSize - e.offset) {
            return corrupt(file, tensor + ": " + std::to_string(e.info.bytes) +
                                     " bytes at offset " + std::to_string(e.offset) +
                                     " lie outside the data section of " +
                                     std::to_string(dataSize) + " bytes (truncated?)");
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
    for (size_t i = 1; i < entries.size(); ++i) {
        if (entries[i].offset < entries[i - 1].offset + entries[i - 1].info.bytes) {
            return corrupt(file, "tensors " + inQuotes(entries[i - 1].info.name) + " and " +
                                     inQuotes(entries[i].info.name) +
                                     " overlap in the data section");
        }
    }
    for (Entry& e : entries) {
        const std::byte* p = bytes.data() + dataStart + e.offset;
        if (reinterpret_cast<uintptr_t>(p) % elementAlignment(e.info.type) != 0) {
            auto copy = std::make_unique<std::byte[]>(e.info.bytes);
            std::memcpy(copy.get(), p, e.info.bytes);
            p = copy.get();
            m_copies.push_back(std::move(copy));
        }
        e.info.data = p;
        std::string name = e.info.name;
        m_tensors.emplace(std::move(name), std::move(e.info));
    }
    return {};
}

void GgufArchive::release(const std::byte* p, size_t n) const {
    m_file->release(p, n);  // ignores a realigned copy (not in the mapping)
}

}  // namespace griffin::io
