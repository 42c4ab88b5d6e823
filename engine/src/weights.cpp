// SPDX-License-Identifier: Apache-2.0
#include "weights.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "bf16.h"
#include "cpu/thread_pool.h"
#include "quant.h"

namespace griffin {
namespace {

std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Walks the checkpoint, remembering which tensors were used.
class Binder {
public:
    Binder(const io::TensorArchive& archive, const std::string& source)
        : m_archive(archive), m_source(source) {}

    Result<const io::TensorInfo*> get(const std::string& name, std::vector<int64_t> shape) {
        const io::TensorInfo* t = m_archive.find(name);
        if (t == nullptr) {
            return makeError(ErrorCode::NotFound, m_source + ": tensor '" + name +
                                                      "' is missing (expected shape " +
                                                      shapeString(shape) + ")");
        }
        if (t->shape != shape) {
            return makeError(ErrorCode::Corrupt, t->file.string() + ": tensor '" + name + "' is " +
                                                     shapeString(t->shape) +
                                                     ", config.json implies " + shapeString(shape));
        }
        m_used.insert(name);
        m_bytes += static_cast<int64_t>(t->bytes);
        m_byType[t->type] += 1;
        return t;
    }

    Result<Matrix> matrix(const std::string& name, int64_t rows, int64_t cols) {
        auto t = get(name, {rows, cols});
        if (!t)
            return t.error();
        return checkedMatrix(**t, rows, cols);
    }

    // The stored bytes must be exactly rows whole rows of the type (readers check this too).
    Result<Matrix> checkedMatrix(const io::TensorInfo& t, int64_t rows, int64_t cols) {
        const size_t perRow = rowBytes(t.type, cols);
        if (perRow == 0 || t.bytes != perRow * static_cast<size_t>(rows)) {
            return makeError(ErrorCode::Corrupt,
                             t.file.string() + ": tensor '" + t.name + "' of type " +
                                 weightTypeName(t.type) + " cannot hold " + std::to_string(rows) +
                                 " rows of " + std::to_string(cols) + " values in " +
                                 std::to_string(t.bytes) + " bytes");
        }
        return Matrix{t.type, t.data, rows, cols};
    }

    // Any tensor of `shape` flattened into float32.
    Result<std::vector<float>> vec(const std::string& name, std::vector<int64_t> shape) {
        auto t = get(name, std::move(shape));
        if (!t)
            return t.error();
        const int64_t n = (*t)->numel();
        auto m = checkedMatrix(**t, 1, n);
        if (!m)
            return m.error();
        std::vector<float> out(static_cast<size_t>(n));
        loadRow(*m, 0, out.data());
        for (float v : out) {
            if (!std::isfinite(v)) {
                return makeError(ErrorCode::Corrupt, (*t)->file.string() + ": tensor '" + name +
                                                         "' contains NaN or infinity");
            }
        }
        return out;
    }

    // A [blocks, bw, bw] block-diagonal gate, viewed as a [blocks * bw, bw] matrix.
    Result<Matrix> blocks(const std::string& name, int64_t blocks, int64_t bw) {
        auto t = get(name, {blocks, bw, bw});
        if (!t)
            return t.error();
        return checkedMatrix(**t, blocks * bw, bw);
    }

    Result<std::vector<float>> gain(const std::string& name, int64_t n) {
        auto v = vec(name, {n});
        if (!v)
            return v.error();
        for (float& g : *v) g = 1.0f + g;  // RMSNorm scale is an offset (griffin-spec.md §2.4)
        return v;
    }

    std::vector<std::string> unused() const {
        std::vector<std::string> out;
        for (const auto& [name, info] : m_archive.tensors()) {
            if (m_used.count(name) == 0 && name != "lm_head.weight")
                out.push_back(name);
        }
        return out;
    }
    int64_t bytes() const { return m_bytes; }
    const std::map<WeightType, int64_t>& byType() const { return m_byType; }

private:
    const io::TensorArchive& m_archive;
    std::string m_source;
    std::set<std::string> m_used;
    int64_t m_bytes = 0;
    std::map<WeightType, int64_t> m_byType;
};

#define GRIFFIN_BIND(lhs, expr) \
    do {                        \
        auto _r = (expr);       \
        if (!_r)                \
            return _r.error();  \
        lhs = std::move(*_r);   \
    } while (false)

Status bindMlp(Binder& b, const ModelConfig& c, const std::string& p, LayerWeights& w) {
    const int64_t d = c.width, m = c.mlpWidth;
    GRIFFIN_BIND(w.temporalNormGain, b.gain(p + "temporal_pre_norm.weight", d));
    GRIFFIN_BIND(w.channelNormGain, b.gain(p + "channel_pre_norm.weight", d));
    GRIFFIN_BIND(w.mlpGate, b.matrix(p + "mlp_block.gate_proj.weight", m, d));
    GRIFFIN_BIND(w.mlpGateBias, b.vec(p + "mlp_block.gate_proj.bias", {m}));
    GRIFFIN_BIND(w.mlpUp, b.matrix(p + "mlp_block.up_proj.weight", m, d));
    GRIFFIN_BIND(w.mlpUpBias, b.vec(p + "mlp_block.up_proj.bias", {m}));
    GRIFFIN_BIND(w.mlpDown, b.matrix(p + "mlp_block.down_proj.weight", d, m));
    GRIFFIN_BIND(w.mlpDownBias, b.vec(p + "mlp_block.down_proj.bias", {d}));
    return {};
}

Status bindRecurrent(Binder& b, const ModelConfig& c, const std::string& p, RecurrentWeights& w) {
    const int64_t d = c.width, l = c.lruWidth, h = c.numHeads, bw = c.lruBlockWidth();
    const int64_t k = c.convWidth;
    const std::string t = p + "temporal_block.";
    GRIFFIN_BIND(w.linearX, b.matrix(t + "linear_x.weight", l, d));
    GRIFFIN_BIND(w.linearXBias, b.vec(t + "linear_x.bias", {l}));
    GRIFFIN_BIND(w.linearY, b.matrix(t + "linear_y.weight", l, d));
    GRIFFIN_BIND(w.linearYBias, b.vec(t + "linear_y.bias", {l}));
    GRIFFIN_BIND(w.linearOut, b.matrix(t + "linear_out.weight", d, l));
    GRIFFIN_BIND(w.linearOutBias, b.vec(t + "linear_out.bias", {d}));
    std::vector<float> conv;  // HF layout [L, 1, K]
    GRIFFIN_BIND(conv, b.vec(t + "conv_1d.weight", {l, 1, k}));
    w.convWeight.assign(static_cast<size_t>(k * l), 0.0f);
    for (int64_t ch = 0; ch < l; ++ch) {
        for (int64_t tap = 0; tap < k; ++tap) {
            w.convWeight[static_cast<size_t>(tap * l + ch)] =
                conv[static_cast<size_t>(ch * k + tap)];
        }
    }
    GRIFFIN_BIND(w.convBias, b.vec(t + "conv_1d.bias", {l}));
    GRIFFIN_BIND(w.inputGate, b.blocks(t + "rg_lru.input_gate_weight", h, bw));
    GRIFFIN_BIND(w.inputGateBias, b.vec(t + "rg_lru.input_gate_bias", {h, bw}));
    GRIFFIN_BIND(w.recurrentGate, b.blocks(t + "rg_lru.recurrent_gate_weight", h, bw));
    GRIFFIN_BIND(w.recurrentGateBias, b.vec(t + "rg_lru.recurrent_gate_bias", {h, bw}));
    std::vector<float> aParam;
    GRIFFIN_BIND(aParam, b.vec(t + "rg_lru.recurrent_param", {l}));
    w.logA.resize(aParam.size());
    for (size_t i = 0; i < aParam.size(); ++i) {
        // griffin-spec.md §2.6.2: A = -8 * softplus(a_param), softplus in its stable form.
        const double z = aParam[i];
        const double softplus = std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z)));
        w.logA[i] = static_cast<float>(-8.0 * softplus);
    }
    return {};
}

Status bindAttention(Binder& b, const ModelConfig& c, const std::string& p, AttentionWeights& w) {
    const int64_t d = c.width, qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
    const std::string t = p + "temporal_block.";
    GRIFFIN_BIND(w.q, b.matrix(t + "q_proj.weight", qDim, d));
    GRIFFIN_BIND(w.k, b.matrix(t + "k_proj.weight", kvDim, d));
    GRIFFIN_BIND(w.v, b.matrix(t + "v_proj.weight", kvDim, d));
    GRIFFIN_BIND(w.o, b.matrix(t + "o_proj.weight", d, qDim));
    GRIFFIN_BIND(w.oBias, b.vec(t + "o_proj.bias", {d}));
    return {};
}

}  // namespace

const std::byte* Matrix::row(int64_t r) const {
    if (blockCols != 0) {
        std::fprintf(stderr, "Matrix::row on a matrix stored in column blocks\n");
        std::abort();
    }
    return static_cast<const std::byte*>(data) + static_cast<size_t>(r) * rowBytes(type, cols);
}

Matrix Matrix::block(int64_t b) const {
    Matrix m{type, nullptr, rows, blockCols};
    m.interleaved = interleaved;
    m.data = static_cast<const std::byte*>(data) +
             static_cast<size_t>(b) * static_cast<size_t>(rows) * rowBytes(type, blockCols);
    return m;
}

void loadRow(const Matrix& m, int64_t row, float* out) {
    if (m.blockCols > 0) {
        for (int64_t b = 0; b < m.blockCount(); ++b)
            loadRow(m.block(b), row, out + b * m.blockCols);
        return;
    }
    if (m.interleaved && isBlockQuantized(m.type)) {
        dequantizeInterleavedRow(m.type, m.row(row), m.cols, out);
        return;
    }
    dequantizeRow(m.type, m.row(row), m.cols, out);
}

Result<ModelWeights> bindWeights(const ModelConfig& c, const io::TensorArchive& archive,
                                 const std::string& sourceName,
                                 const std::function<void(double)>& progress,
                                 std::stop_token stop) {
    Binder b(archive, sourceName);
    ModelWeights w;
    const io::TensorInfo* emb = archive.find("model.embed_tokens.weight");
    if (emb != nullptr && emb->shape.size() == 2 && emb->shape[0] >= c.vocabSize) {
        // The row count comes from the checkpoint (it may be padded past the tokenizer's).
        GRIFFIN_BIND(w.embedding, b.matrix("model.embed_tokens.weight", emb->shape[0], c.width));
    } else {
        GRIFFIN_BIND(w.embedding, b.matrix("model.embed_tokens.weight", c.vocabSize, c.width));
    }
    GRIFFIN_BIND(w.finalNormGain, b.gain("model.final_norm.weight", c.width));
    w.layers.resize(static_cast<size_t>(c.numLayers));
    for (int64_t i = 0; i < c.numLayers; ++i) {
        if (stop.stop_requested()) {
            return makeError(ErrorCode::Cancelled, sourceName + ": loading cancelled");
        }
        LayerWeights& lw = w.layers[static_cast<size_t>(i)];
        lw.type = c.layerType(i);
        const std::string prefix = "model.layers." + std::to_string(i) + ".";
        if (auto s = bindMlp(b, c, prefix, lw); !s)
            return s.error();
        Status s = lw.type == BlockType::Recurrent ? bindRecurrent(b, c, prefix, lw.recurrent)
                                                   : bindAttention(b, c, prefix, lw.attention);
        if (!s)
            return s.error();
        if (progress)
            progress(static_cast<double>(i + 1) / static_cast<double>(c.numLayers));
    }
    w.unexpected = b.unused();
    w.storedBytes = b.bytes();
    w.tensorsByType = b.byType();
    return w;
}

bool isQuantizableMatrix(const std::string& name) {
    static const char* const kSuffixes[] = {
        "embed_tokens.weight", "linear_x.weight", "linear_y.weight",  "linear_out.weight",
        "q_proj.weight",       "k_proj.weight",   "v_proj.weight",    "o_proj.weight",
        "gate_proj.weight",    "up_proj.weight",  "down_proj.weight",
    };
    for (const char* suffix : kSuffixes) {
        if (name.ends_with(suffix))
            return true;
    }
    return false;
}

bool isGateMatrix(const std::string& name) {
    return name.ends_with("rg_lru.input_gate_weight") ||
           name.ends_with("rg_lru.recurrent_gate_weight");
}

WeightType gateTypeFor(WeightType matrices, WeightType stored) {
    if (matrices == WeightType::F32 || stored == WeightType::BF16 || stored == WeightType::F16)
        return stored;
    return matrices == WeightType::F16 ? WeightType::F16 : WeightType::BF16;
}

Result<std::unique_ptr<io::MemoryArchive>> convertMatrices(
    std::shared_ptr<const io::TensorArchive> source, WeightType type, int threads,
    const std::function<void(double)>& progress, std::stop_token stop) {
    auto out = std::make_unique<io::MemoryArchive>();
    std::vector<std::pair<const io::TensorInfo*, io::TensorInfo>> jobs;
    int64_t totalValues = 0;
    for (const auto& [name, t] : source->tensors()) {
        const bool gate = isGateMatrix(name) && t.shape.size() == 3;
        const WeightType wanted = gate ? gateTypeFor(type, t.type) : type;
        if ((!gate && (!isQuantizableMatrix(name) || t.shape.size() != 2)) || t.type == wanted) {
            out->addView(t);
            continue;
        }
        const int64_t cols = t.shape.back();
        WeightType target = wanted;
        if (rowBytes(target, cols) == 0)
            target = t.type == WeightType::BF16 ? WeightType::BF16 : WeightType::F16;
        if (rowBytes(t.type, cols) == 0 || t.bytes != rowBytes(t.type, cols) * (t.numel() / cols)) {
            return makeError(ErrorCode::Corrupt, t.file.string() + ": tensor '" + name +
                                                     "' has the wrong size for its shape");
        }
        const size_t bytes = rowBytes(target, cols) * static_cast<size_t>(t.numel() / cols);
        std::byte* dst = out->add(name, target, t.shape, bytes, t.file);
        jobs.push_back({&t, *out->find(name)});
        (void)dst;
        totalValues += t.numel();
    }
    cpu::ThreadPool pool(threads);
    int64_t doneValues = 0;
    // Slices of about 16 M values (a 2B embedding is 40 of them): progress moves and a stop is
    // seen within a fraction of a second, also inside the largest matrix.
    constexpr int64_t kSliceValues = int64_t{1} << 24;
    for (const auto& [src, dst] : jobs) {
        const int64_t cols = src->shape.back();
        const int64_t rows = src->numel() / cols;
        const int64_t sliceRows = std::max<int64_t>(1, kSliceValues / cols);
        const size_t inRow = rowBytes(src->type, cols), outRow = rowBytes(dst.type, cols);
        for (int64_t first = 0; first < rows; first += sliceRows) {
            if (stop.stop_requested())
                return makeError(ErrorCode::Cancelled, "converting the weights was cancelled");
            const int64_t count = std::min(sliceRows, rows - first);
            pool.parallelFor(count, 64, [&](int64_t begin, int64_t end) {
                std::vector<float> row(static_cast<size_t>(cols));
                for (int64_t r = first + begin; r < first + end; ++r) {
                    dequantizeRow(src->type, src->data + static_cast<size_t>(r) * inRow, cols,
                                  row.data());
                    quantizeRow(dst.type, row.data(), cols,
                                const_cast<std::byte*>(dst.data) + static_cast<size_t>(r) * outRow);
                }
            });
            doneValues += count * cols;
            if (progress && totalValues > 0)
                progress(static_cast<double>(doneValues) / static_cast<double>(totalValues));
        }
    }
    out->keepAlive(std::move(source));
    return out;
}

}  // namespace griffin
