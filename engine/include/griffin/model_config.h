// SPDX-License-Identifier: Apache-2.0
// ModelConfig: the hyper-parameters of a RecurrentGemma model, read from a Hugging Face
// config.json (griffin-spec.md §1) and validated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"

namespace griffin {

enum class BlockType { Recurrent, Attention };

// Plain value type. All sizes are validated by parseModelConfig: positive, mutually consistent
// and small enough that products of them fit in 64 bits.
struct ModelConfig {
    int64_t vocabSize = 0;        // tokenizer vocabulary (HF vocab_size)
    int64_t width = 0;            // D (hidden_size)
    int64_t mlpWidth = 0;         // M, the real MLP width = HF intermediate_size / 2
    int64_t numLayers = 0;        // N
    int64_t numHeads = 0;         // H: query heads, also RG-LRU gate blocks
    int64_t numKvHeads = 0;       // key/value heads (1 = multi-query attention)
    int64_t headDim = 0;          // hd
    int64_t lruWidth = 0;         // L
    int64_t attentionWindow = 0;  // W: a query sees itself and the W previous positions
    int64_t convWidth = 0;        // Conv1D temporal width (4)
    double logitsSoftCap = 0.0;   // 0 = no cap
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    double partialRotaryFactor = 0.5;
    std::vector<BlockType> blockPattern;  // layer i has type blockPattern[i % size]
    int64_t bosId = 2;
    int64_t eosId = 1;
    int64_t padId = 0;

    BlockType layerType(int64_t layer) const {
        return blockPattern[static_cast<size_t>(layer) % blockPattern.size()];
    }
    int64_t numLayersOf(BlockType type) const;
    // Index of `layer` among the layers of its own type (its slot in the State).
    int64_t indexAmongType(int64_t layer) const;
    int64_t lruBlockWidth() const { return lruWidth / numHeads; }
    // Dimensions of each head rotated by RoPE (the first ropeDims of headDim).
    int64_t ropeDims() const;
    // sqrt(width) rounded to bfloat16, as every reference does (griffin-spec.md §2.2).
    float embeddingScale() const;
};

// Parses and validates config.json text. `sourceName` (usually the file path) prefixes every
// error message. A missing, mistyped or nonsensical field is an error naming the field.
Result<ModelConfig> parseModelConfig(std::string_view jsonText, std::string_view sourceName);

// Reads `file` and parses it as above.
Result<ModelConfig> loadModelConfig(const std::filesystem::path& file);

const char* blockTypeName(BlockType type);

}  // namespace griffin
