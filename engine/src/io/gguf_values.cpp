// SPDX-License-Identifier: Apache-2.0
// GgufArchive's typed metadata getters.
#include <bit>
#include <cstring>
#include <limits>

#include "io/gguf.h"

namespace griffin::io {
namespace {

Error corrupt(const std::filesystem::path& file, const std::string& what) {
    return makeError(ErrorCode::Corrupt, file.string() + ": " + what);
}

}  // namespace

std::vector<std::string> GgufArchive::keys() const {
    std::vector<std::string> out;
    for (const auto& [key, value] : m_values) out.push_back(key);
    return out;
}

const GgufValue* GgufArchive::metadata(std::string_view key) const {
    auto it = m_values.find(key);
    return it == m_values.end() ? nullptr : &it->second;
}

namespace {

const GgufValue* ofType(const GgufValue* v, gguf::ValueType type) {
    return v != nullptr && v->type == type ? v : nullptr;
}

const GgufValue* arrayOf(const GgufValue* v, gguf::ValueType type) {
    return v != nullptr && v->type == gguf::ValueType::Array && v->elementType == type ? v
                                                                                       : nullptr;
}

}  // namespace

std::optional<uint32_t> GgufArchive::u32(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::U32);
    return v ? std::optional<uint32_t>(static_cast<uint32_t>(v->bits)) : std::nullopt;
}

std::optional<uint64_t> GgufArchive::u64(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::U64);
    return v ? std::optional<uint64_t>(v->bits) : std::nullopt;
}

std::optional<int32_t> GgufArchive::i32(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::I32);
    return v ? std::optional<int32_t>(static_cast<int32_t>(static_cast<uint32_t>(v->bits)))
             : std::nullopt;
}

std::optional<float> GgufArchive::f32(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::F32);
    return v ? std::optional<float>(std::bit_cast<float>(static_cast<uint32_t>(v->bits)))
             : std::nullopt;
}

std::optional<double> GgufArchive::f64(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::F64);
    return v ? std::optional<double>(std::bit_cast<double>(v->bits)) : std::nullopt;
}

std::optional<bool> GgufArchive::boolean(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::Bool);
    return v ? std::optional<bool>(v->bits != 0) : std::nullopt;
}

std::optional<std::string_view> GgufArchive::string(std::string_view key) const {
    const GgufValue* v = ofType(metadata(key), gguf::ValueType::String);
    return v ? std::optional<std::string_view>(v->text) : std::nullopt;
}

std::optional<int64_t> GgufArchive::integer(std::string_view key) const {
    const GgufValue* v = metadata(key);
    if (v == nullptr)
        return std::nullopt;
    switch (v->type) {
        case gguf::ValueType::U8:
        case gguf::ValueType::U16:
        case gguf::ValueType::U32:
            return static_cast<int64_t>(v->bits);
        case gguf::ValueType::U64:
            if (v->bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                return std::nullopt;
            return static_cast<int64_t>(v->bits);
        case gguf::ValueType::I8:
            return static_cast<int8_t>(static_cast<uint8_t>(v->bits));
        case gguf::ValueType::I16:
            return static_cast<int16_t>(static_cast<uint16_t>(v->bits));
        case gguf::ValueType::I32:
            return static_cast<int32_t>(static_cast<uint32_t>(v->bits));
        case gguf::ValueType::I64:
            return static_cast<int64_t>(v->bits);
        default:
            return std::nullopt;
    }
}

std::optional<double> GgufArchive::real(std::string_view key) const {
    if (auto v = f64(key))
        return v;
    if (auto v = f32(key))
        return static_cast<double>(*v);
    return std::nullopt;
}

std::optional<std::vector<std::string_view>> GgufArchive::stringArray(std::string_view key) const {
    const GgufValue* v = arrayOf(metadata(key), gguf::ValueType::String);
    return v ? std::optional<std::vector<std::string_view>>(v->strings) : std::nullopt;
}

std::optional<std::vector<float>> GgufArchive::f32Array(std::string_view key) const {
    const GgufValue* v = arrayOf(metadata(key), gguf::ValueType::F32);
    if (v == nullptr)
        return std::nullopt;
    std::vector<float> out(static_cast<size_t>(v->count));
    if (!out.empty())
        std::memcpy(out.data(), v->elements, out.size() * sizeof(float));
    return out;
}

std::optional<std::vector<int32_t>> GgufArchive::i32Array(std::string_view key) const {
    const GgufValue* v = arrayOf(metadata(key), gguf::ValueType::I32);
    if (v == nullptr)
        return std::nullopt;
    std::vector<int32_t> out(static_cast<size_t>(v->count));
    if (!out.empty())
        std::memcpy(out.data(), v->elements, out.size() * sizeof(int32_t));
    return out;
}

std::optional<std::span<const std::byte>> GgufArchive::byteArray(std::string_view key) const {
    const GgufValue* v = arrayOf(metadata(key), gguf::ValueType::U8);
    if (v == nullptr)
        v = arrayOf(metadata(key), gguf::ValueType::I8);
    if (v == nullptr)
        return std::nullopt;
    return std::span<const std::byte>(v->elements, static_cast<size_t>(v->count));
}

Result<std::string_view> GgufArchive::tokenizerBytes() const {
    const GgufValue* v = metadata(gguf::kSentencePieceKey);
    if (v == nullptr) {
        return makeError(ErrorCode::NotFound,
                         path().string() +
                             ": this GGUF has no embedded SentencePiece model (key '" +
                             std::string(gguf::kSentencePieceKey) +
                             "'); convert the model with `griffin quantize` from a folder "
                             "holding tokenizer.model");
    }
    auto bytes = byteArray(gguf::kSentencePieceKey);
    if (!bytes) {
        return corrupt(path(),
                       "key '" + std::string(gguf::kSentencePieceKey) + "' is not an array of u8");
    }
    return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

}  // namespace griffin::io
