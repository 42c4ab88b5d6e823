// SPDX-License-Identifier: Apache-2.0
// The GGUF metadata of a RecurrentGemma model, both ways. The configuration goes through the
// config.json field names, so a GGUF is validated by exactly the rules of parseModelConfig.
#include "gguf_model.h"

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/gguf_writer.h"
#include "quant.h"
#include "weights.h"

namespace griffin {
namespace {

using nlohmann::json;
namespace gguf = io::gguf;

enum class Kind { Integer, Real };

struct ConfigKey {
    std::string_view key;  // in the GGUF
    const char* field;     // in config.json
    Kind kind;
    bool required;
    int64_t hfScale;  // config.json value = GGUF value * hfScale
};

// Integers are written as u32, reals as f64 (f32 would round rms_norm_eps). Readers accept any
// integer type, and f32 or f64 for the reals. feed_forward_length is the real MLP width (the
// rows of gate_proj, as llama.cpp uses the key), half of HF's intermediate_size.
constexpr ConfigKey kConfigKeys[] = {
    {"recurrentgemma.vocab_size", "vocab_size", Kind::Integer, true, 1},
    {"recurrentgemma.embedding_length", "hidden_size", Kind::Integer, true, 1},
    {"recurrentgemma.feed_forward_length", "intermediate_size", Kind::Integer, true, 2},
    {"recurrentgemma.block_count", "num_hidden_layers", Kind::Integer, true, 1},
    {"recurrentgemma.attention.head_count", "num_attention_heads", Kind::Integer, true, 1},
    {"recurrentgemma.attention.head_count_kv", "num_key_value_heads", Kind::Integer, false, 1},
    {"recurrentgemma.attention.key_length", "head_dim", Kind::Integer, false, 1},
    {"recurrentgemma.lru_width", "lru_width", Kind::Integer, false, 1},
    {"recurrentgemma.attention.sliding_window", "attention_window_size", Kind::Integer, true, 1},
    {"recurrentgemma.conv_kernel", "conv1d_width", Kind::Integer, true, 1},
    {"recurrentgemma.final_logit_softcapping", "logits_soft_cap", Kind::Real, false, 1},
    {"recurrentgemma.attention.layer_norm_rms_epsilon", "rms_norm_eps", Kind::Real, false, 1},
    {"recurrentgemma.rope.freq_base", "rope_theta", Kind::Real, false, 1},
    {"recurrentgemma.rope.partial_rotary_factor", "partial_rotary_factor", Kind::Real, false, 1},
    {gguf::kBosKey, "bos_token_id", Kind::Integer, false, 1},
    {gguf::kEosKey, "eos_token_id", Kind::Integer, false, 1},
    {gguf::kPaddingKey, "pad_token_id", Kind::Integer, false, 1},
};
// A string array of "recurrent" / "attention": layer i has type block_types[i % size].
constexpr std::string_view kBlockTypesKey = "recurrentgemma.block_types";
constexpr int64_t kMaxInteger = int64_t{1} << 40;

// config.json's view of `c` (the fields kConfigKeys and block_types name).
json hfFields(const ModelConfig& c) {
    json types = json::array();
    for (BlockType t : c.blockPattern) types.push_back(blockTypeName(t));
    return {{"vocab_size", c.vocabSize},
            {"hidden_size", c.width},
            {"intermediate_size", 2 * c.mlpWidth},
            {"num_hidden_layers", c.numLayers},
            {"num_attention_heads", c.numHeads},
            {"num_key_value_heads", c.numKvHeads},
            {"head_dim", c.headDim},
            {"lru_width", c.lruWidth},
            {"attention_window_size", c.attentionWindow},
            {"conv1d_width", c.convWidth},
            {"logits_soft_cap", c.logitsSoftCap},
            {"rms_norm_eps", c.rmsNormEps},
            {"rope_theta", c.ropeTheta},
            {"partial_rotary_factor", c.partialRotaryFactor},
            {"bos_token_id", c.bosId},
            {"eos_token_id", c.eosId},
            {"pad_token_id", c.padId},
            {"block_types", types}};
}

std::string typeText(const io::GgufValue& v) {
    if (v.type != gguf::ValueType::Array)
        return gguf::valueTypeName(v.type);
    return std::string("an array of ") + gguf::valueTypeName(v.elementType);
}

Error keyError(const io::GgufArchive& a, std::string_view key, const std::string& problem) {
    return makeError(ErrorCode::Corrupt,
                     a.path().string() + ": metadata key '" + std::string(key) + "' " + problem);
}

Status checkArchitecture(const io::GgufArchive& a) {
    const io::GgufValue* v = a.metadata(gguf::kArchitectureKey);
    if (v == nullptr)
        return keyError(a, gguf::kArchitectureKey, "is missing; not a model file?");
    auto name = a.string(gguf::kArchitectureKey);
    if (!name)
        return keyError(a, gguf::kArchitectureKey, "is " + typeText(*v) + ", expected a string");
    if (*name != gguf::kArchitecture) {
        return makeError(ErrorCode::Unsupported,
                         a.path().string() + ": general.architecture is '" + std::string(*name) +
                             "'; this is not a RecurrentGemma model (expected '" +
                             std::string(gguf::kArchitecture) + "')");
    }
    return {};
}

Status readConfigKey(const io::GgufArchive& a, const ConfigKey& k, json& root) {
    const io::GgufValue* v = a.metadata(k.key);
    if (v == nullptr) {
        const io::GgufValue* tokens = a.metadata(gguf::kTokensKey);
        if (k.key == kConfigKeys[0].key && tokens != nullptr &&
            tokens->type == gguf::ValueType::Array) {
            root[k.field] = tokens->count;  // vocab_size: the token list's length
            return {};
        }
        if (k.required)
            return keyError(a, k.key, "is missing");
        return {};
    }
    auto integer = a.integer(k.key);
    if (k.kind == Kind::Integer || !a.real(k.key)) {
        if (!integer) {
            return keyError(
                a, k.key,
                "is " + typeText(*v) +
                    (k.kind == Kind::Integer ? ", expected an integer" : ", expected a number"));
        }
        if (*integer < -kMaxInteger || *integer > kMaxInteger)
            return keyError(a, k.key, "is " + std::to_string(*integer) + ", out of range");
        root[k.field] = *integer * k.hfScale;
        return {};
    }
    root[k.field] = *a.real(k.key);
    return {};
}

// parseModelConfig names config.json fields; say the GGUF key instead.
std::string renameFields(std::string message) {
    auto rename = [&message](const std::string& field, std::string_view key) {
        const std::string from = "field '" + field + "'";
        for (size_t at = message.find(from); at != std::string::npos; at = message.find(from))
            message.replace(at, from.size(), "key '" + std::string(key) + "'");
    };
    for (const ConfigKey& k : kConfigKeys) rename(k.field, k.key);
    rename("block_types", kBlockTypesKey);
    return message;
}

int32_t ggufTokenType(Tokenizer::PieceKind kind) {
    switch (kind) {
        case Tokenizer::PieceKind::Normal:
            return 1;
        case Tokenizer::PieceKind::Unknown:
            return 2;
        case Tokenizer::PieceKind::Control:
            return 3;
        case Tokenizer::PieceKind::UserDefined:
            return 4;
        case Tokenizer::PieceKind::Unused:
            return 5;
        case Tokenizer::PieceKind::Byte:
            return 6;
    }
    return 1;
}

void addTokenizer(io::GgufMetadata& m, const Tokenizer& t) {
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (int32_t id = 0; id < t.vocabSize(); ++id) {
        tokens.push_back(t.piece(id));
        scores.push_back(t.score(id));
        types.push_back(ggufTokenType(t.pieceKind(id)));
    }
    m.addString(gguf::kTokenizerModelKey, "llama");
    m.addStringArray(gguf::kTokensKey, tokens);
    m.addF32Array(gguf::kScoresKey, scores);
    m.addI32Array(gguf::kTokenTypeKey, types);
    if (auto unknown = t.unknownId())
        m.addU32(gguf::kUnknownKey, static_cast<uint32_t>(*unknown));
    m.addBool(gguf::kAddBosKey, true);
    m.addBool(gguf::kAddEosKey, false);
    m.addBytes(gguf::kSentencePieceKey, t.serialized());
}

}  // namespace

Result<ModelConfig> configFromGguf(const io::GgufArchive& archive) {
    if (auto s = checkArchitecture(archive); !s)
        return s.error();
    json root = {{"model_type", "recurrent_gemma"}};
    for (const ConfigKey& k : kConfigKeys) {
        if (auto s = readConfigKey(archive, k, root); !s)
            return s.error();
    }
    const io::GgufValue* types = archive.metadata(kBlockTypesKey);
    if (types == nullptr)
        return keyError(archive, kBlockTypesKey, "is missing");
    auto names = archive.stringArray(kBlockTypesKey);
    if (!names) {
        return keyError(archive, kBlockTypesKey,
                        "is " + typeText(*types) + ", expected an array of strings");
    }
    json list = json::array();
    for (std::string_view n : *names) list.push_back(std::string(n));
    root["block_types"] = std::move(list);
    auto config = parseModelConfig(root.dump(-1, ' ', false, json::error_handler_t::replace),
                                   archive.path().string() + " (GGUF metadata)");
    if (!config)
        return makeError(config.error().code, renameFields(config.error().message));
    return config;
}

Status writeGguf(const std::filesystem::path& out, const ModelConfig& config,
                 const io::TensorArchive& tensors, const Tokenizer* tokenizer,
                 std::string_view name, const std::function<void(double)>& progress,
                 std::stop_token stop) {
    std::vector<const io::TensorInfo*> list;
    std::map<WeightType, int64_t> matrixValues;
    bool blockQuantized = false;
    for (const auto& [tensorName, t] : tensors.tensors()) {
        if (tensorName == "lm_head.weight")
            continue;  // tied to the embedding
        list.push_back(&t);
        if (isQuantizableMatrix(tensorName))
            matrixValues[t.type] += t.numel();
        blockQuantized = blockQuantized || isBlockQuantized(t.type);
    }
    WeightType fileType = WeightType::F32;
    int64_t most = -1;
    for (const auto& [type, values] : matrixValues) {
        if (values > most) {
            most = values;
            fileType = type;
        }
    }

    io::GgufMetadata m;
    m.addString(gguf::kArchitectureKey, gguf::kArchitecture);
    m.addString(gguf::kNameKey, name);
    m.addU32(gguf::kFileTypeKey, gguf::llamaFileType(fileType));
    if (blockQuantized)
        m.addU32(gguf::kQuantVersionKey, 2);  // GGML_QNT_VERSION
    const json fields = hfFields(config);
    for (const ConfigKey& k : kConfigKeys) {
        const json& v = fields.at(k.field);
        if (k.kind == Kind::Real) {
            m.addF64(k.key, v.get<double>());
            continue;
        }
        const int64_t n = v.get<int64_t>() / k.hfScale;
        if (n >= 0 && n <= int64_t{UINT32_MAX}) {
            m.addU32(k.key, static_cast<uint32_t>(n));
        } else {
            m.addU64(k.key, static_cast<uint64_t>(n));
        }
    }
    std::vector<std::string> blockTypes;
    for (BlockType t : config.blockPattern) blockTypes.push_back(blockTypeName(t));
    m.addStringArray(kBlockTypesKey, blockTypes);
    if (tokenizer != nullptr)
        addTokenizer(m, *tokenizer);
    return io::writeGgufFile(out, m, list, progress, stop);
}

}  // namespace griffin
