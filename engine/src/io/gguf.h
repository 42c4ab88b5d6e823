// SPDX-License-Identifier: Apache-2.0
// Reader for GGUF v3 (and v2) files (layout in io/gguf_format.h): the typed metadata and the
// tensors, memory-mapped. Every count, length, dimension and offset is checked against the file
// before anything is allocated or read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"
#include "io/gguf_format.h"
#include "io/mapped_file.h"
#include "io/tensor_archive.h"

namespace griffin::io {

// One metadata value. Strings and arrays point into the mapped file (valid while the archive
// lives).
struct GgufValue {
    gguf::ValueType type = gguf::ValueType::U8;
    uint64_t bits = 0;      // fixed-size scalars: the value's bytes, zero-extended
    std::string_view text;  // String
    // Array: element type and count; numeric elements at `elements` (count * size bytes),
    // string elements in `strings`.
    gguf::ValueType elementType = gguf::ValueType::U8;
    uint64_t count = 0;
    const std::byte* elements = nullptr;
    std::vector<std::string_view> strings;
};

// Tensors keep their stored names (we write Hugging Face names) and get their shape in HF
// order (outermost first; GGUF lists dimensions innermost first). Not thread-safe to open; safe
// to read concurrently once open.
class GgufArchive : public TensorArchive {
public:
    // Errors name the file and, where it applies, the key or tensor: NotFound / Io when the file
    // cannot be opened, Unsupported for another GGUF version or a tensor type we cannot run,
    // Corrupt for anything malformed or inconsistent.
    static Result<std::unique_ptr<GgufArchive>> open(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return m_file->path(); }
    uint32_t version() const { return m_version; }
    uint64_t alignment() const { return m_alignment; }
    // Every metadata key, sorted.
    std::vector<std::string> keys() const;
    // nullptr when absent.
    const GgufValue* metadata(std::string_view key) const;

    // Typed getters: nullopt when the key is absent or holds another type.
    std::optional<uint32_t> u32(std::string_view key) const;
    std::optional<uint64_t> u64(std::string_view key) const;
    std::optional<int32_t> i32(std::string_view key) const;
    std::optional<float> f32(std::string_view key) const;
    std::optional<double> f64(std::string_view key) const;
    std::optional<bool> boolean(std::string_view key) const;
    std::optional<std::string_view> string(std::string_view key) const;
    // Any integer type whose value fits in int64 (not bool).
    std::optional<int64_t> integer(std::string_view key) const;
    // f32 or f64.
    std::optional<double> real(std::string_view key) const;
    std::optional<std::vector<std::string_view>> stringArray(std::string_view key) const;
    std::optional<std::vector<float>> f32Array(std::string_view key) const;
    std::optional<std::vector<int32_t>> i32Array(std::string_view key) const;
    // An array of u8 or i8.
    std::optional<std::span<const std::byte>> byteArray(std::string_view key) const;

    // The embedded SentencePiece model (tokenizer.ggml.sentencepiece_model). NotFound naming the
    // file when the GGUF has none.
    Result<std::string_view> tokenizerBytes() const;

    void release(const std::byte* p, size_t n) const override;

private:
    GgufArchive() = default;
    Status parse();
    std::unique_ptr<MappedFile> m_file;
    uint32_t m_version = 0;
    uint64_t m_alignment = gguf::kDefaultAlignment;
    std::map<std::string, GgufValue, std::less<>> m_values;
    std::vector<std::unique_ptr<std::byte[]>> m_copies;  // realigned tensors
};

}  // namespace griffin::io
