// SPDX-License-Identifier: Apache-2.0
// Parsing and validation of the Hugging Face config.json of a RecurrentGemma model.
#include "griffin/model_config.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bf16.h"

namespace griffin {
namespace {

using nlohmann::json;

// Limits far above any real model, low enough that every product of sizes fits in int64.
constexpr int64_t kMaxVocab = int64_t{1} << 22;
constexpr int64_t kMaxWidth = int64_t{1} << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxWindow = int64_t{1} << 20;
constexpr int64_t kMaxConvWidth = 64;

// Comparing json with a string literal builds a temporary json, which trips a GCC 12
// -Warray-bounds false positive under JSON_DIAGNOSTICS; compare the std::string instead.
bool isString(const json& j, std::string_view text) {
    return j.is_string() && j.get_ref<const std::string&>() == text;
}

class Reader {
public:
    Reader(const json& root, std::string_view source) : m_root(root), m_source(source) {}

    Error error(std::string_view field, std::string_view problem) const {
        return makeError(ErrorCode::Corrupt, std::string(m_source) + ": field '" +
                                                 std::string(field) + "' " + std::string(problem));
    }

    // An integer field in [lo, hi]. Missing -> `fallback` if given, else an error.
    Result<int64_t> integer(const char* key, int64_t lo, int64_t hi,
                            std::optional<int64_t> fallback = std::nullopt) const {
        auto it = m_root.find(key);
        if (it == m_root.end() || it->is_null()) {
            if (fallback)
                return *fallback;
            return error(key, "is missing");
        }
        int64_t v = 0;
        if (it->is_number_integer()) {
            v = it->get<int64_t>();
        } else if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>() &&
                   std::fabs(it->get<double>()) < 1e15) {
            v = static_cast<int64_t>(it->get<double>());
        } else {
            return error(key, "must be an integer, got " + it->dump());
        }
        if (v < lo || v > hi) {
            return error(key, "is " + std::to_string(v) + ", expected " + std::to_string(lo) +
                                  ".." + std::to_string(hi));
        }
        return v;
    }

    Result<double> number(const json& obj, const char* key, double lo, double hi,
                          std::optional<double> fallback) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (fallback)
                return *fallback;
            return error(key, "is missing");
        }
        if (!it->is_number())
            return error(key, "must be a number, got " + it->dump());
        double v = it->get<double>();
        if (!std::isfinite(v) || v < lo || v > hi) {
            return error(key, "is " + it->dump() + ", expected " + std::to_string(lo) + ".." +
                                  std::to_string(hi));
        }
        return v;
    }
    Result<double> number(const char* key, double lo, double hi,
                          std::optional<double> fallback = std::nullopt) const {
        return number(m_root, key, lo, hi, fallback);
    }

    const json& root() const { return m_root; }

private:
    const json& m_root;
    std::string_view m_source;
};

#define GRIFFIN_ASSIGN(lhs, expr) \
    do {                          \
        auto _r = (expr);         \
        if (!_r)                  \
            return _r.error();    \
        lhs = *_r;                \
    } while (false)

Result<std::vector<BlockType>> parseBlockTypes(const Reader& r) {
    const json& root = r.root();
    auto it = root.find("block_types");
    if (it == root.end())
        it = root.find("_block_types");
    if (it == root.end() || it->is_null())
        return r.error("block_types", "is missing");
    if (!it->is_array() || it->empty() || it->size() > kMaxLayers) {
        return r.error("block_types", "must be a non-empty list of \"recurrent\"/\"attention\"");
    }
    std::vector<BlockType> types;
    for (const json& e : *it) {
        if (isString(e, "recurrent")) {
            types.push_back(BlockType::Recurrent);
        } else if (isString(e, "attention")) {
            types.push_back(BlockType::Attention);
        } else {
            return r.error("block_types",
                           "contains " + e.dump() + "; expected \"recurrent\" or \"attention\"");
        }
    }
    return types;
}

Status checkModelType(const Reader& r) {
    const json& root = r.root();
    auto it = root.find("model_type");
    if (it != root.end() && !it->is_null()) {
        if (!it->is_string())
            return r.error("model_type", "must be a string");
        if (!isString(*it, "recurrent_gemma")) {
            return makeError(ErrorCode::Unsupported,
                             r.error("model_type", "is " + it->dump() +
                                                       "; this is not a RecurrentGemma model "
                                                       "(expected \"recurrent_gemma\")")
                                 .message);
        }
    }
    auto act = root.find("hidden_activation");
    if (act != root.end() && !act->is_null() && !isString(*act, "gelu_pytorch_tanh") &&
        !isString(*act, "gelu_tanh") && !isString(*act, "gelu")) {
        return makeError(
            ErrorCode::Unsupported,
            r.error("hidden_activation", "is " + act->dump() + "; only the tanh GeLU is supported")
                .message);
    }
    return {};
}

// RoPE fields: flat (rope_theta, partial_rotary_factor) or nested in rope_parameters.
Status parseRope(const Reader& r, ModelConfig& c) {
    const json& root = r.root();
    const json* source = &root;
    auto nested = root.find("rope_parameters");
    if (nested != root.end() && nested->is_object())
        source = &*nested;
    GRIFFIN_ASSIGN(c.ropeTheta, r.number(*source, "rope_theta", 1.0, 1e12, 10000.0));
    GRIFFIN_ASSIGN(c.partialRotaryFactor,
                   r.number(*source, "partial_rotary_factor", 0.0, 1.0, 0.5));
    return {};
}

Status parseSizes(const Reader& r, ModelConfig& c) {
    GRIFFIN_ASSIGN(c.vocabSize, r.integer("vocab_size", 1, kMaxVocab));
    GRIFFIN_ASSIGN(c.width, r.integer("hidden_size", 1, kMaxWidth));
    int64_t intermediate = 0;
    GRIFFIN_ASSIGN(intermediate, r.integer("intermediate_size", 2, 16 * kMaxWidth));
    if (intermediate % 2 != 0) {
        return r.error("intermediate_size",
                       "is " + std::to_string(intermediate) +
                           "; HF stores twice the MLP width here, so it must be even");
    }
    c.mlpWidth = intermediate / 2;
    GRIFFIN_ASSIGN(c.numLayers, r.integer("num_hidden_layers", 1, kMaxLayers));
    GRIFFIN_ASSIGN(c.numHeads, r.integer("num_attention_heads", 1, kMaxHeads));
    GRIFFIN_ASSIGN(c.numKvHeads, r.integer("num_key_value_heads", 1, kMaxHeads, 1));
    GRIFFIN_ASSIGN(c.headDim, r.integer("head_dim", 1, kMaxWidth, c.width / c.numHeads));
    GRIFFIN_ASSIGN(c.lruWidth, r.integer("lru_width", 1, kMaxWidth, c.width));
    GRIFFIN_ASSIGN(c.attentionWindow, r.integer("attention_window_size", 1, kMaxWindow));
    GRIFFIN_ASSIGN(c.convWidth, r.integer("conv1d_width", 1, kMaxConvWidth));
    GRIFFIN_ASSIGN(c.bosId, r.integer("bos_token_id", 0, c.vocabSize - 1, 2));
    GRIFFIN_ASSIGN(c.eosId, r.integer("eos_token_id", 0, c.vocabSize - 1, 1));
    GRIFFIN_ASSIGN(c.padId, r.integer("pad_token_id", 0, c.vocabSize - 1, 0));
    return {};
}

Status checkConsistency(const Reader& r, const ModelConfig& c) {
    if (c.headDim < 1 || c.headDim * c.numHeads > 16 * kMaxWidth) {
        return r.error("head_dim", "times num_attention_heads is out of range");
    }
    if (c.numHeads % c.numKvHeads != 0) {
        return r.error("num_key_value_heads", "(" + std::to_string(c.numKvHeads) +
                                                  ") must divide num_attention_heads (" +
                                                  std::to_string(c.numHeads) + ")");
    }
    if (c.lruWidth % c.numHeads != 0) {
        return r.error("lru_width", "(" + std::to_string(c.lruWidth) +
                                        ") must be a multiple of num_attention_heads (" +
                                        std::to_string(c.numHeads) +
                                        "): the RG-LRU gates are block-diagonal per head");
    }
    if (c.ropeDims() % 2 != 0) {
        return r.error("partial_rotary_factor",
                       "gives an odd number of rotated dimensions per head (" +
                           std::to_string(c.ropeDims()) + ")");
    }
    if (c.bosId == c.eosId)
        return r.error("eos_token_id", "equals bos_token_id");
    return {};
}

}  // namespace

int64_t ModelConfig::numLayersOf(BlockType type) const {
    int64_t n = 0;
    for (int64_t i = 0; i < numLayers; ++i) n += layerType(i) == type ? 1 : 0;
    return n;
}

int64_t ModelConfig::indexAmongType(int64_t layer) const {
    int64_t n = 0;
    for (int64_t i = 0; i < layer; ++i) n += layerType(i) == layerType(layer) ? 1 : 0;
    return n;
}

int64_t ModelConfig::ropeDims() const {
    return static_cast<int64_t>(static_cast<double>(headDim) * partialRotaryFactor);
}

float ModelConfig::embeddingScale() const {
    return roundToBf16(static_cast<float>(std::sqrt(static_cast<double>(width))));
}

const char* blockTypeName(BlockType type) {
    return type == BlockType::Recurrent ? "recurrent" : "attention";
}

Result<ModelConfig> parseModelConfig(std::string_view jsonText, std::string_view sourceName) {
    json root;
    try {
        root = json::parse(jsonText);
    } catch (const json::parse_error& e) {
        return makeError(ErrorCode::Corrupt,
                         std::string(sourceName) + ": not valid JSON (" + e.what() + ")");
    }
    if (!root.is_object()) {
        return makeError(ErrorCode::Corrupt,
                         std::string(sourceName) + ": expected a JSON object at the top level");
    }
    Reader r(root, sourceName);
    ModelConfig c;
    try {
        if (auto s = checkModelType(r); !s)
            return s.error();
        if (auto s = parseSizes(r, c); !s)
            return s.error();
        GRIFFIN_ASSIGN(c.logitsSoftCap, r.number("logits_soft_cap", 0.0, 1e6, 0.0));
        GRIFFIN_ASSIGN(c.rmsNormEps, r.number("rms_norm_eps", 0.0, 1.0, 1e-6));
        if (auto s = parseRope(r, c); !s)
            return s.error();
        GRIFFIN_ASSIGN(c.blockPattern, parseBlockTypes(r));
        if (auto s = checkConsistency(r, c); !s)
            return s.error();
    } catch (const json::exception& e) {
        return makeError(ErrorCode::Corrupt, std::string(sourceName) + ": " + e.what());
    }
    return c;
}

Result<ModelConfig> loadModelConfig(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return makeError(ErrorCode::NotFound,
                         file.string() + ": cannot open (" + std::strerror(errno) + ")");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (size_t{16} << 20)) {
        return makeError(ErrorCode::Corrupt, file.string() + ": larger than 16 MiB; not a config");
    }
    return parseModelConfig(text.str(), file.string());
}

}  // namespace griffin
