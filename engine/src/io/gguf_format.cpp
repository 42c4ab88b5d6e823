// SPDX-License-Identifier: Apache-2.0
#include "io/gguf_format.h"

#include <iterator>

namespace griffin::io::gguf {

size_t valueTypeSize(ValueType type) {
    switch (type) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::Bool:
            return 1;
        case ValueType::U16:
        case ValueType::I16:
            return 2;
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::F32:
            return 4;
        case ValueType::U64:
        case ValueType::I64:
        case ValueType::F64:
            return 8;
        case ValueType::String:
        case ValueType::Array:
            return 0;
    }
    return 0;
}

const char* valueTypeName(ValueType type) {
    static const char* const kNames[kValueTypeCount] = {
        "u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
        "bool", "string", "array", "u64", "i64", "f64",
    };
    const auto i = static_cast<uint32_t>(type);
    return i < kValueTypeCount ? kNames[i] : "?";
}

std::optional<WeightType> weightTypeFromGgml(uint32_t ggmlType) {
    switch (ggmlType) {
        case kGgmlF32:
            return WeightType::F32;
        case kGgmlF16:
            return WeightType::F16;
        case kGgmlQ4_0:
            return WeightType::Q4_0;
        case kGgmlQ8_0:
            return WeightType::Q8_0;
        case kGgmlBf16:
            return WeightType::BF16;
        default:
            return std::nullopt;
    }
}

uint32_t ggmlTypeOf(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return kGgmlF32;
        case WeightType::F16:
            return kGgmlF16;
        case WeightType::Q4_0:
            return kGgmlQ4_0;
        case WeightType::Q8_0:
            return kGgmlQ8_0;
        case WeightType::BF16:
            return kGgmlBf16;
    }
    return kGgmlF32;
}

const char* ggmlTypeName(uint32_t ggmlType) {
    // ggml.h, enum ggml_type; gaps are ids ggml retired.
    static const char* const kNames[] = {
        "f32",     "f16",    "q4_0",    "q4_1",  "",       "",      "q5_0",  "q5_1",
        "q8_0",    "q8_1",   "q2_K",    "q3_K",  "q4_K",   "q5_K",  "q6_K",  "q8_K",
        "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s", "iq2_s", "iq4_xs",
        "i8",      "i16",    "i32",     "i64",   "f64",    "iq1_m", "bf16",  "",
        "",        "",       "tq1_0",   "tq2_0", "",       "",      "",      "mxfp4",
    };
    if (ggmlType >= std::size(kNames) || kNames[ggmlType][0] == '\0')
        return nullptr;
    return kNames[ggmlType];
}

uint32_t llamaFileType(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return 0;  // LLAMA_FTYPE_ALL_F32
        case WeightType::F16:
            return 1;  // LLAMA_FTYPE_MOSTLY_F16
        case WeightType::Q4_0:
            return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
        case WeightType::Q8_0:
            return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
        case WeightType::BF16:
            return 32;  // LLAMA_FTYPE_MOSTLY_BF16
    }
    return 0;
}

}  // namespace griffin::io::gguf
