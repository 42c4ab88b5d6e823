// SPDX-License-Identifier: Apache-2.0
// The GGUF v3 container as we read and write it (doc: ggml's docs/gguf.md): header, typed
// key/value metadata, tensor infos, then the aligned data section. All numbers little-endian.
//
//   "GGUF" u32 version  u64 tensor_count  u64 kv_count
//   kv_count x   { string key, u32 value_type, value }
//   tensor_count x { string name, u32 n_dims, u64 dims[n_dims] (innermost first), u32 ggml_type,
//                    u64 offset (from the data section, a multiple of general.alignment) }
//   padding to general.alignment (default 32), then the data section.
//   string = u64 length + bytes (no terminator); array = u32 element type, u64 count, elements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "griffin/model.h"

namespace griffin::io::gguf {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;  // GGML_MAX_DIMS

enum class ValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;

// Bytes of one value of a fixed-size type; 0 for String and Array.
size_t valueTypeSize(ValueType type);
const char* valueTypeName(ValueType type);

// ggml tensor type ids (ggml.h, enum ggml_type) of the types we store.
constexpr uint32_t kGgmlF32 = 0;
constexpr uint32_t kGgmlF16 = 1;
constexpr uint32_t kGgmlQ4_0 = 2;
constexpr uint32_t kGgmlQ8_0 = 8;
constexpr uint32_t kGgmlBf16 = 30;

std::optional<WeightType> weightTypeFromGgml(uint32_t ggmlType);
uint32_t ggmlTypeOf(WeightType type);
// "q4_1", "q6_K", ... for the ids we recognise but do not support; nullptr for unknown ids.
const char* ggmlTypeName(uint32_t ggmlType);

// llama.cpp's general.file_type (enum llama_ftype) for a file whose matrices are mostly `type`.
uint32_t llamaFileType(WeightType type);

// Metadata keys. Model hyper-parameters are under "recurrentgemma." (gguf_config.cpp).
constexpr std::string_view kArchitectureKey = "general.architecture";
constexpr std::string_view kArchitecture = "recurrentgemma";
constexpr std::string_view kNameKey = "general.name";
constexpr std::string_view kAlignmentKey = "general.alignment";
constexpr std::string_view kFileTypeKey = "general.file_type";
constexpr std::string_view kQuantVersionKey = "general.quantization_version";
// The tokenizer.model file, byte for byte (an array of u8): what our loader uses.
constexpr std::string_view kSentencePieceKey = "tokenizer.ggml.sentencepiece_model";
// The standard llama-style tokenizer keys, written for other tools.
constexpr std::string_view kTokenizerModelKey = "tokenizer.ggml.model";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTokenTypeKey = "tokenizer.ggml.token_type";
constexpr std::string_view kBosKey = "tokenizer.ggml.bos_token_id";
constexpr std::string_view kEosKey = "tokenizer.ggml.eos_token_id";
constexpr std::string_view kUnknownKey = "tokenizer.ggml.unknown_token_id";
constexpr std::string_view kPaddingKey = "tokenizer.ggml.padding_token_id";
constexpr std::string_view kAddBosKey = "tokenizer.ggml.add_bos_token";
constexpr std::string_view kAddEosKey = "tokenizer.ggml.add_eos_token";

}  // namespace griffin::io::gguf
