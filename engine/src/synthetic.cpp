// SPDX-License-Identifier: Apache-2.0
#include "synthetic.h"

#include <cmath>
#include <string>
#include <vector>

#include "cpu/thread_pool.h"
#include "quant.h"
#include "weights.h"

namespace griffin {
namespace {

// splitmix64: a fast, well-mixed stream per (seed, tensor, row).
uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Uniform in [-scale, scale).
void fillUniform(uint64_t stream, float scale, float* out, int64_t n) {
    uint64_t s = mix(stream);
    for (int64_t i = 0; i < n; ++i) {
        s = mix(s);
        const float u = static_cast<float>(s >> 40) * (1.0f / 16777216.0f);  // [0, 1)
        out[i] = (2.0f * u - 1.0f) * scale;
    }
}

uint64_t nameHash(const std::string& name) {
    uint64_t h = 1469598103934665603ull;
    for (char ch : name) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    return h;
}

struct Builder {
    io::MemoryArchive& archive;
    WeightType type;
    uint64_t seed;
    cpu::ThreadPool& pool;

    void matrix(const std::string& name, std::vector<int64_t> shape, int64_t rows, int64_t cols,
                float scale, WeightType wanted) {
        WeightType t = wanted;
        if (rowBytes(t, cols) == 0)
            t = WeightType::F16;
        const size_t perRow = rowBytes(t, cols);
        std::byte* data =
            archive.add(name, t, std::move(shape), perRow * static_cast<size_t>(rows), "synthetic");
        const uint64_t base = seed ^ nameHash(name);
        pool.parallelFor(rows, 64, [&](int64_t begin, int64_t end) {
            std::vector<float> row(static_cast<size_t>(cols));
            for (int64_t r = begin; r < end; ++r) {
                fillUniform(base + static_cast<uint64_t>(r), scale, row.data(), cols);
                quantizeRow(t, row.data(), cols, data + static_cast<size_t>(r) * perRow);
            }
        });
    }
    void vec(const std::string& name, std::vector<int64_t> shape, float scale, float offset = 0) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        std::byte* data = archive.add(name, WeightType::F32, std::move(shape),
                                      static_cast<size_t>(n) * 4, "synthetic");
        auto* f = reinterpret_cast<float*>(data);
        fillUniform(seed ^ nameHash(name), scale, f, n);
        for (int64_t i = 0; i < n; ++i) f[i] += offset;
    }
};

}  // namespace

Result<std::unique_ptr<io::MemoryArchive>> makeSyntheticArchive(const ModelConfig& c,
                                                                WeightType type, uint64_t seed,
                                                                int threads, std::stop_token stop) {
    auto archive = std::make_unique<io::MemoryArchive>();
    cpu::ThreadPool pool(threads);
    Builder b{*archive, type, seed, pool};
    const int64_t d = c.width, m = c.mlpWidth, l = c.lruWidth, h = c.numHeads;
    const int64_t bw = c.lruBlockWidth(), q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
    const auto inv = [](int64_t fanIn) { return 1.0f / std::sqrt(static_cast<float>(fanIn)); };
    const WeightType gateType = gateTypeFor(type, WeightType::F32);
    b.matrix("model.embed_tokens.weight", {c.vocabSize, d}, c.vocabSize, d, 1.0f, type);
    b.vec("model.final_norm.weight", {d}, 0.1f);
    for (int64_t i = 0; i < c.numLayers; ++i) {
        if (stop.stop_requested())
            return makeError(ErrorCode::Cancelled, "building the synthetic model was cancelled");
        const std::string p = "model.layers." + std::to_string(i) + ".";
        b.vec(p + "temporal_pre_norm.weight", {d}, 0.1f);
        b.vec(p + "channel_pre_norm.weight", {d}, 0.1f);
        b.matrix(p + "mlp_block.gate_proj.weight", {m, d}, m, d, inv(d), type);
        b.vec(p + "mlp_block.gate_proj.bias", {m}, 0.01f);
        b.matrix(p + "mlp_block.up_proj.weight", {m, d}, m, d, inv(d), type);
        b.vec(p + "mlp_block.up_proj.bias", {m}, 0.01f);
        b.matrix(p + "mlp_block.down_proj.weight", {d, m}, d, m, inv(m), type);
        b.vec(p + "mlp_block.down_proj.bias", {d}, 0.01f);
        const std::string t = p + "temporal_block.";
        if (c.layerType(i) == BlockType::Recurrent) {
            b.matrix(t + "linear_x.weight", {l, d}, l, d, inv(d), type);
            b.vec(t + "linear_x.bias", {l}, 0.01f);
            b.matrix(t + "linear_y.weight", {l, d}, l, d, inv(d), type);
            b.vec(t + "linear_y.bias", {l}, 0.01f);
            b.matrix(t + "linear_out.weight", {d, l}, d, l, inv(l), type);
            b.vec(t + "linear_out.bias", {d}, 0.01f);
            b.vec(t + "conv_1d.weight", {l, 1, c.convWidth}, 0.5f);
            b.vec(t + "conv_1d.bias", {l}, 0.01f);
            // The gates in the type `griffin quantize` gives them.
            b.matrix(t + "rg_lru.input_gate_weight", {h, bw, bw}, h * bw, bw, inv(bw), gateType);
            b.vec(t + "rg_lru.input_gate_bias", {h, bw}, 0.01f);
            b.matrix(t + "rg_lru.recurrent_gate_weight", {h, bw, bw}, h * bw, bw, inv(bw),
                     gateType);
            b.vec(t + "rg_lru.recurrent_gate_bias", {h, bw}, 0.01f);
            b.vec(t + "rg_lru.recurrent_param", {l}, 1.0f, -4.0f);
        } else {
            b.matrix(t + "q_proj.weight", {q, d}, q, d, inv(d), type);
            b.matrix(t + "k_proj.weight", {kv, d}, kv, d, inv(d), type);
            b.matrix(t + "v_proj.weight", {kv, d}, kv, d, inv(d), type);
            b.matrix(t + "o_proj.weight", {d, q}, d, q, inv(q), type);
            b.vec(t + "o_proj.bias", {d}, 0.01f);
        }
    }
    return archive;
}

}  // namespace griffin
