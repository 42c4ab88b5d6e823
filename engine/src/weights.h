// SPDX-License-Identifier: Apache-2.0
// The model's tensors bound by their Hugging Face names (griffin-spec.md §4.1), checked against
// the config. Matrices stay in their stored type inside the mapped checkpoint; the small vectors
// (norms, biases, conv, RG-LRU constants) are converted to float32 at load.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "griffin/model.h"
#include "io/tensor_archive.h"

namespace griffin {

// A row-major [rows, cols] matrix in its stored type (rows of rowBytes(type, cols) bytes, see
// quant.h). Non-owning.
struct Matrix {
    WeightType type = WeightType::F32;
    const void* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    // q8_0 / q4_0 rows in the interleaved layout of quant.h (interleaveRow) rather than GGUF
    // blocks: what the CPU backend reads on AVX-512 VNNI (cpu/weight_layout.h).
    bool interleaved = false;
    // Columns stored in blocks (the CPU backend's layout for long bf16 rows, see
    // cpu/weight_layout.h): when > 0, cols / blockCols [rows, blockCols] matrices one after
    // another, block b holding columns [b * blockCols, (b + 1) * blockCols) of every row.
    int64_t blockCols = 0;

    // Row r of a matrix whose rows are stored whole (blockCols == 0; else a caller's bug, which
    // aborts).
    const std::byte* row(int64_t r) const;
    // Column block b (blockCols > 0) as a matrix of its own.
    Matrix block(int64_t b) const;
    int64_t blockCount() const { return blockCols > 0 ? cols / blockCols : 1; }
};

// Converts row `row` of `m` to float32 into out[0..cols).
void loadRow(const Matrix& m, int64_t row, float* out);

struct RecurrentWeights {
    Matrix linearX, linearY, linearOut;  // [L, D], [L, D], [D, L]  ([out, in])
    std::vector<float> linearXBias, linearYBias, linearOutBias;
    std::vector<float> convWeight;  // [convWidth, L]: row convWidth-1 multiplies the current token
    std::vector<float> convBias;    // [L]
    Matrix inputGate, recurrentGate;  // [H * bw, bw]: block h, input i at row h*bw+i, output col
    std::vector<float> inputGateBias, recurrentGateBias;  // [L]
    std::vector<float> logA;  // [L] A = -8 * softplus(recurrent_param), precomputed in double
};

struct AttentionWeights {
    Matrix q, k, v, o;  // [H*hd, D], [KV*hd, D], [KV*hd, D], [D, H*hd]
    std::vector<float> oBias;
};

struct LayerWeights {
    BlockType type = BlockType::Recurrent;
    std::vector<float> temporalNormGain;  // [D] 1 + weight
    std::vector<float> channelNormGain;   // [D] 1 + weight
    Matrix mlpGate, mlpUp, mlpDown;       // [M, D], [M, D], [D, M]
    std::vector<float> mlpGateBias, mlpUpBias, mlpDownBias;
    RecurrentWeights recurrent;  // when type == Recurrent
    AttentionWeights attention;  // when type == Attention
};

struct ModelWeights {
    Matrix embedding;                  // [rows >= vocabSize, D]; also the LM head (tied)
    std::vector<float> finalNormGain;  // [D] 1 + weight
    std::vector<LayerWeights> layers;
    std::vector<std::string> unexpected;  // tensors in the checkpoint that the model does not use
    int64_t storedBytes = 0;
    std::map<WeightType, int64_t> tensorsByType;
};

// Binds every tensor the config calls for. Errors name `sourceName` and the tensor.
Result<ModelWeights> bindWeights(const ModelConfig& config, const io::TensorArchive& archive,
                                 const std::string& sourceName,
                                 const std::function<void(double)>& progress, std::stop_token stop);

// True for the tensors stored as matrices that LoadOptions::quantize and `griffin quantize`
// convert: the embedding and every projection (not the norms, biases, conv, RG-LRU gates and
// parameters).
bool isQuantizableMatrix(const std::string& name);

// True for the RG-LRU gates ([H, bw, bw] block-diagonal matrices).
bool isGateMatrix(const std::string& name);

// The type the gates take where the other matrices become `matrices`: a 16-bit float type, not
// a block type (they are 5.5 % of the 2B model's parameters and set how fast the state forgets).
// f32 gates become bf16 (f16 for f16 models); 16-bit gates and f32 models keep theirs.
WeightType gateTypeFor(WeightType matrices, WeightType stored);

// The tensors of `source` with every quantizable matrix converted to `type` (a matrix whose
// row length is not a multiple of 32 gets f16 instead of a block type, or keeps bf16), and the
// gates to gateTypeFor(type, theirs). The other tensors are shared with `source`, which the
// result keeps alive. Runs on `threads` threads.
Result<std::unique_ptr<io::MemoryArchive>> convertMatrices(
    std::shared_ptr<const io::TensorArchive> source, WeightType type, int threads,
    const std::function<void(double)>& progress, std::stop_token stop);

// Calls fn(Matrix&) for every matrix of `weights` (the embedding first, then layer by layer).
template <typename Fn>
void forEachMatrix(ModelWeights& weights, Fn&& fn) {
    fn(weights.embedding);
    for (LayerWeights& l : weights.layers) {
        for (Matrix* m : {&l.mlpGate, &l.mlpUp, &l.mlpDown}) fn(*m);
        if (l.type == BlockType::Recurrent) {
            RecurrentWeights& r = l.recurrent;
            for (Matrix* m : {&r.linearX, &r.linearY, &r.linearOut, &r.inputGate, &r.recurrentGate})
                fn(*m);
        } else {
            AttentionWeights& a = l.attention;
            for (Matrix* m : {&a.q, &a.k, &a.v, &a.o}) fn(*m);
        }
    }
}

}  // namespace griffin
