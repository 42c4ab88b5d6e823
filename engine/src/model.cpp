// SPDX-License-Identifier: Apache-2.0
// Model: loading (config, checkpoint, weight binding, backend) and the prefill/step entry points.
#include "griffin/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "checkpoint.h"
#include "cpu/cpu_backend.h"
#include "cpu/ops.h"
#include "cpu/weight_layout.h"
#include "hash.h"
#include "io/system_memory.h"
#include "log.h"
#include "synthetic.h"
#include "weights.h"
#ifdef GRIFFIN_HAS_VULKAN
#include "vulkan/context.h"
#include "vulkan/vulkan_backend.h"
#endif

namespace griffin {

struct Model::Impl {
    ModelInfo info;
    std::shared_ptr<const io::TensorArchive> archive;  // owns the memory the weights point into
    io::PageArena cpuCopies;  // matrices copied into the CPU backend's layout, if any
    ModelWeights weights;
    std::unique_ptr<Backend> backend;
};

namespace {

// Hash of the configuration, of every bound tensor's name, shape and type, and of a sample of
// its data.
std::string fingerprintOf(const ModelConfig& c, const io::TensorArchive& archive,
                          const std::vector<std::string>& unexpected) {
    std::string text = std::to_string(c.vocabSize) + "/" + std::to_string(c.width) + "/" +
                       std::to_string(c.mlpWidth) + "/" + std::to_string(c.numLayers) + "/" +
                       std::to_string(c.numHeads) + "/" + std::to_string(c.numKvHeads) + "/" +
                       std::to_string(c.headDim) + "/" + std::to_string(c.lruWidth) + "/" +
                       std::to_string(c.attentionWindow) + "/" + std::to_string(c.convWidth);
    for (const auto& [name, t] : archive.tensors()) {
        if (std::find(unexpected.begin(), unexpected.end(), name) != unexpected.end())
            continue;
        text += ";" + name + ":" + weightTypeName(t.type);
        for (int64_t d : t.shape) text += "," + std::to_string(d);
        // A few leading bytes of the data tell apart checkpoints of the same shape (base vs -it)
        // while touching only one page per tensor.
        text.append(reinterpret_cast<const char*>(t.data), std::min<size_t>(t.bytes, 64));
    }
    return hex64(fnv1a64(text));
}

}  // namespace

const char* weightTypeName(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return "f32";
        case WeightType::BF16:
            return "bf16";
        case WeightType::F16:
            return "f16";
        case WeightType::Q8_0:
            return "q8_0";
        case WeightType::Q4_0:
            return "q4_0";
    }
    return "?";
}

double weightTypeBits(WeightType type) {
    switch (type) {
        case WeightType::F32:
            return 32.0;
        case WeightType::BF16:
        case WeightType::F16:
            return 16.0;
        case WeightType::Q8_0:
            return 8.5;
        case WeightType::Q4_0:
            return 4.5;
    }
    return 0.0;
}

const char* backendKindName(BackendKind kind) {
    switch (kind) {
        case BackendKind::Cpu:
            return "cpu";
        case BackendKind::Vulkan:
            return "vulkan";
    }
    return "?";
}

std::vector<ComputeDevice> listComputeDevices() {
    std::vector<ComputeDevice> out;
#ifdef GRIFFIN_HAS_VULKAN
    auto devices = vulkan::Context::listDevices();
    if (!devices)
        return out;
    for (const vulkan::DeviceCaps& caps : *devices) {
        out.push_back({static_cast<int>(caps.index), caps.name, vulkan::deviceTypeName(caps.type),
                       vulkan::unsuitableReason(caps)});
    }
#endif
    return out;
}

BackendChoice chooseAutoBackend(const std::vector<ComputeDevice>& devices) {
    auto rank = [](const std::string& type) {
        if (type == "discrete GPU")
            return 3;
        if (type == "integrated GPU")
            return 2;
        if (type == "virtual GPU")
            return 1;
        return 0;
    };
    const ComputeDevice* best = nullptr;
    std::string skipped;
    for (const ComputeDevice& d : devices) {
        if (rank(d.type) == 0)
            continue;
        if (!d.unsuitable.empty()) {
            skipped += (skipped.empty() ? "" : "; ") + d.name + ": " + d.unsuitable;
            continue;
        }
        if (best == nullptr || rank(d.type) > rank(best->type))
            best = &d;
    }
    BackendChoice choice;
    if (best != nullptr) {
        choice.backend = BackendKind::Vulkan;
        choice.device = std::to_string(best->index);
        choice.reason = "Vulkan on " + best->name + " (" + best->type + ")";
        return choice;
    }
    if (!skipped.empty()) {
        choice.reason = "the CPU: no suitable GPU; " + skipped;
    } else if (!devices.empty()) {
        choice.reason = "the CPU: no GPU found; " + devices.front().name +
                        " is a CPU device, slower than the CPU backend";
    } else {
        choice.reason = "the CPU: no Vulkan device found";
    }
    return choice;
}

int64_t stateBytesFor(const ModelConfig& c) {
    const int64_t recurrent = c.numLayersOf(BlockType::Recurrent) * c.lruWidth * c.convWidth * 4;
    const int64_t window = c.attentionWindow;
    const int64_t attention = c.numLayersOf(BlockType::Attention) *
                              (2 * window * c.numKvHeads * c.headDim * 4 + window * 8);
    return static_cast<int64_t>(sizeof(int64_t)) + recurrent + attention;
}

Result<ModelInspection> inspectModel(const std::filesystem::path& path) {
    auto checkpoint = openCheckpoint(path);
    if (!checkpoint)
        return checkpoint.error();
    ModelInspection out;
    out.path = checkpoint->path;
    out.config = checkpoint->config;
    std::map<WeightType, int64_t> byType;
    for (const auto& [name, t] : checkpoint->archive->tensors()) {
        out.weightBytes += static_cast<int64_t>(t.bytes);
        byType[t.type] += 1;
        if (!isQuantizableMatrix(name) || t.shape.size() != 2)
            continue;
        out.matrixBytes += static_cast<int64_t>(t.bytes);
        if (!out.matrixType || weightTypeBits(t.type) > weightTypeBits(*out.matrixType))
            out.matrixType = t.type;
    }
    out.weightTypes = describeTypes(byType);
    out.stateBytes = stateBytesFor(out.config);
    out.hasTokenizer = checkpoint->hasTokenizer;
    return out;
}

Model::Model(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::load(const std::filesystem::path& path,
                                           const LoadOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    auto checkpoint = openCheckpoint(path);
    if (!checkpoint)
        return checkpoint.error();
    std::shared_ptr<const io::TensorArchive> archive = std::move(checkpoint->archive);
    if (options.quantize) {
        auto converted = convertMatrices(archive, *options.quantize, options.threads,
                                         options.progress, options.stop);
        if (!converted)
            return converted.error();
        archive = std::move(*converted);
    }
    return fromArchive(std::move(checkpoint->config), std::move(archive), checkpoint->path, options,
                       started);
}

Result<std::unique_ptr<Model>> Model::createSynthetic(const ModelConfig& config, WeightType type,
                                                      uint64_t seed, const LoadOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    auto archive = makeSyntheticArchive(config, type, seed, options.threads, options.stop);
    if (!archive)
        return archive.error();
    return fromArchive(config, std::move(*archive), "synthetic", options, started);
}

Result<std::unique_ptr<Model>> Model::fromArchive(ModelConfig config,
                                                  std::shared_ptr<const io::TensorArchive> archive,
                                                  const std::filesystem::path& dir,
                                                  const LoadOptions& options,
                                                  std::chrono::steady_clock::time_point started) {
    auto weights = bindWeights(config, *archive, dir.string(), options.progress, options.stop);
    if (!weights)
        return weights.error();

    auto impl = std::make_unique<Impl>();
    impl->archive = std::move(archive);
    impl->weights = std::move(*weights);
    for (const std::string& name : impl->weights.unexpected) {
        logger(Component::Engine)
            ->warn("{}: unexpected tensor '{}' is ignored", dir.string(), name);
    }
    ModelInfo& info = impl->info;
    info.path = dir;
    info.config = std::move(config);
    info.embeddingRows = impl->weights.embedding.rows;
    info.embeddingParams = info.embeddingRows * info.config.width;
    int64_t total = 0;
    for (const auto& [name, t] : impl->archive->tensors()) {
        if (name != "lm_head.weight" &&
            std::find(impl->weights.unexpected.begin(), impl->weights.unexpected.end(), name) ==
                impl->weights.unexpected.end()) {
            total += t.numel();
        }
    }
    info.nonEmbeddingParams = total - info.embeddingParams;
    info.weightBytes = impl->weights.storedBytes;
    info.unexpectedTensors = impl->weights.unexpected;
    info.fingerprint = fingerprintOf(info.config, *impl->archive, info.unexpectedTensors);
    info.weightTypes = describeTypes(impl->weights.tensorsByType);
    info.backend = options.backend;
    if (options.backend == BackendKind::Vulkan) {
#ifdef GRIFFIN_HAS_VULKAN
        vulkan::VulkanOptions vulkanOptions;
        vulkanOptions.context.device = options.device;
        auto backend = vulkan::VulkanBackend::create(info.config, impl->weights, vulkanOptions);
        if (!backend)
            return backend.error();
        info.device = vulkan::describeDevice((*backend)->context().caps());
        impl->backend = std::move(*backend);
#else
        return makeError(ErrorCode::Unsupported,
                         "the Vulkan backend is not available: this build has GRIFFIN_VULKAN=OFF");
#endif
    } else {
        bool interleave = cpu::interleaveAtLoad();
        if (interleave) {
            // A GGUF file's matrices are copied: only where the copy surely fits in memory.
            const int64_t copyBytes = cpu::layoutCopyBytes(impl->weights, *impl->archive);
            const std::optional<int64_t> available = io::availableMemoryBytes();
            if (!cpu::layoutCopyFits(copyBytes, available)) {
                interleave = false;
                logger(Component::Engine)
                    ->warn(
                        "{}: q8_0/q4_0 matrices stay in their GGUF blocks, read from the file: "
                        "the faster CPU layout needs a {} MiB copy and only {} MiB of memory "
                        "is available; decoding is slower",
                        dir.string(), copyBytes >> 20, available.value_or(0) >> 20);
            }
        }
        if (interleave) {
            const auto layoutStarted = std::chrono::steady_clock::now();
            cpu::ThreadPool pool(options.threads);
            auto change = cpu::interleaveMatrices(impl->weights, *impl->archive, impl->cpuCopies,
                                                  &pool, options.progress, options.stop);
            if (!change)
                return makeError(change.error().code, dir.string() + ": " + change.error().message);
            if (change->matrices > 0) {
                logger(Component::Engine)
                    ->info(
                        "{} q8_0/q4_0 matrices laid out for the VNNI kernels ({} MiB in place, {} "
                        "MiB copied) in {:.2f} s",
                        change->matrices, change->inPlaceBytes >> 20, change->copiedBytes >> 20,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                      layoutStarted)
                            .count());
            }
        }
        if (const int64_t blockMax = cpu::columnBlockMaxAtLoad(); blockMax > 0) {
            const int64_t copyBytes =
                cpu::columnBlockCopyBytes(impl->weights, *impl->archive, blockMax);
            const std::optional<int64_t> available = io::availableMemoryBytes();
            if (!cpu::layoutCopyFits(copyBytes, available)) {
                logger(Component::Engine)
                    ->warn(
                        "{}: long bf16 rows stay whole, read from the file: column blocks need a "
                        "{} MiB copy and only {} MiB of memory is available; decoding is slower",
                        dir.string(), copyBytes >> 20, available.value_or(0) >> 20);
            } else {
                const auto blocksStarted = std::chrono::steady_clock::now();
                auto change = cpu::blockLongRows(impl->weights, *impl->archive, impl->cpuCopies,
                                                 options.stop, blockMax);
                if (!change)
                    return makeError(change.error().code,
                                     dir.string() + ": " + change.error().message);
                if (change->matrices > 0) {
                    logger(Component::Engine)
                        ->info(
                            "{} bf16 matrices in column blocks ({} MiB in place, {} MiB "
                            "copied) in {:.2f} s",
                            change->matrices, change->inPlaceBytes >> 20, change->copiedBytes >> 20,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                          blocksStarted)
                                .count());
                }
            }
        }
        impl->backend =
            std::make_unique<cpu::CpuBackend>(info.config, impl->weights, options.threads);
    }
    std::unique_ptr<Model> model(new Model(std::move(impl)));
    model->m_impl->info.stateBytes = static_cast<int64_t>(model->newState().bytes());

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    logger(Component::Engine)
        ->info("model loaded: {} ({} + {} parameters, {}, backend {}) in {:.2f} s", dir.string(),
               info.embeddingParams, info.nonEmbeddingParams, info.weightTypes,
               backendKindName(info.backend), seconds);
    return model;
}

const ModelConfig& Model::config() const {
    return m_impl->info.config;
}
const ModelInfo& Model::info() const {
    return m_impl->info;
}
int64_t Model::logitsSize() const {
    return m_impl->info.embeddingRows;
}

State Model::newState() const {
    const ModelConfig& c = config();
    State state;
    const size_t l = static_cast<size_t>(c.lruWidth);
    state.recurrentLayers().resize(static_cast<size_t>(c.numLayersOf(BlockType::Recurrent)));
    for (State::RecurrentLayer& r : state.recurrentLayers()) {
        r.h.assign(l, 0.0f);
        r.convTail.assign(static_cast<size_t>(c.convWidth - 1) * l, 0.0f);
    }
    const size_t window = static_cast<size_t>(c.attentionWindow);
    const size_t kv = static_cast<size_t>(c.numKvHeads * c.headDim);
    state.attentionLayers().resize(static_cast<size_t>(c.numLayersOf(BlockType::Attention)));
    for (State::AttentionLayer& a : state.attentionLayers()) {
        a.keys.assign(window * kv, 0.0f);
        a.values.assign(window * kv, 0.0f);
        a.slotPositions.assign(window, -1);
    }
    return state;
}

Result<std::vector<float>> Model::prefill(State& state, std::span<const int32_t> tokens,
                                          const ForwardOptions& options) {
    if (tokens.empty())
        return makeError(ErrorCode::InvalidArgument, "prefill: no tokens given");
    if (state.recurrentLayerCount() !=
            static_cast<size_t>(config().numLayersOf(BlockType::Recurrent)) ||
        state.attentionLayerCount() !=
            static_cast<size_t>(config().numLayersOf(BlockType::Attention))) {
        return makeError(ErrorCode::InvalidArgument, "prefill: the state belongs to another model");
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] < 0 || tokens[i] >= logitsSize()) {
            return makeError(ErrorCode::InvalidArgument, "token " + std::to_string(tokens[i]) +
                                                             " at index " + std::to_string(i) +
                                                             " is outside the vocabulary [0, " +
                                                             std::to_string(logitsSize()) + ")");
        }
    }
    const int64_t total = static_cast<int64_t>(tokens.size());
    const int64_t chunk = std::max<int64_t>(1, options.chunkSize);
    const size_t rowSize = static_cast<size_t>(logitsSize());
    std::vector<float> logits(options.allLogits ? rowSize * tokens.size() : rowSize);
    for (int64_t done = 0; done < total; done += chunk) {
        if (options.stop.stop_requested()) {
            return makeError(ErrorCode::Cancelled,
                             "prefill cancelled after " + std::to_string(done) + " tokens");
        }
        const int64_t n = std::min(chunk, total - done);
        const bool last = done + n == total;
        float* out =
            options.allLogits ? logits.data() + static_cast<size_t>(done) * rowSize : logits.data();
        // Intermediate chunks of a last-row-only prefill need no LM head at all.
        if (!options.allLogits && !last)
            out = nullptr;
        const auto part = tokens.subspan(static_cast<size_t>(done), static_cast<size_t>(n));
        if (auto s = m_impl->backend->forward(state, part, options.allLogits, out); !s) {
            return s.error();
        }
        if (options.progress)
            options.progress(done + n, total);
    }
    return logits;
}

Result<std::vector<float>> Model::step(State& state, int32_t token) {
    return prefill(state, std::span<const int32_t>(&token, 1));
}

Result<GreedyToken> Model::stepGreedy(State& state, int32_t token, int32_t vocabLimit) {
    if (vocabLimit < 1 || vocabLimit > logitsSize()) {
        return makeError(ErrorCode::InvalidArgument,
                         "stepGreedy: vocabulary limit " + std::to_string(vocabLimit) +
                             " outside [1, " + std::to_string(logitsSize()) + "]");
    }
    // The same checks as prefill: a bad token or a foreign state leaves `state` unchanged.
    if (state.recurrentLayerCount() !=
            static_cast<size_t>(config().numLayersOf(BlockType::Recurrent)) ||
        state.attentionLayerCount() !=
            static_cast<size_t>(config().numLayersOf(BlockType::Attention))) {
        return makeError(ErrorCode::InvalidArgument,
                         "stepGreedy: the state belongs to another model");
    }
    if (token < 0 || token >= logitsSize()) {
        return makeError(ErrorCode::InvalidArgument, "token " + std::to_string(token) +
                                                         " is outside the vocabulary [0, " +
                                                         std::to_string(logitsSize()) + ")");
    }
    return m_impl->backend->forwardGreedy(state, token, logitsSize(), vocabLimit);
}

GreedyToken greedyChoice(std::span<const float> logits) {
    GreedyToken best;
    if (logits.empty())
        return best;
    size_t arg = 0;
    for (size_t i = 1; i < logits.size(); ++i) {
        if (logits[i] > logits[arg])
            arg = i;
    }
    // The probability exactly as Sampler computes it at temperature 0 (the same shifted
    // exponentials summed by the same function), so both greedy paths report the same value.
    const float maxLogit = logits[arg];
    thread_local std::vector<float> shifted;
    shifted.resize(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) shifted[i] = (logits[i] - maxLogit) * 1.0f;
    const float sum = cpu::expShifted(shifted.data(), static_cast<int64_t>(shifted.size()), 0.0f);
    best.id = static_cast<int32_t>(arg);
    best.probability = 1.0f * (1.0f / sum);
    return best;
}

Result<GreedyToken> Backend::forwardGreedy(State& state, int32_t token, int64_t logitsSize,
                                           int32_t vocabLimit) {
    m_greedyLogits.resize(static_cast<size_t>(logitsSize));
    if (auto s = forward(state, std::span<const int32_t>(&token, 1), false, m_greedyLogits.data());
        !s) {
        return s.error();
    }
    return greedyChoice(
        std::span<const float>(m_greedyLogits).first(static_cast<size_t>(vocabLimit)));
}

void Model::setLayerObserver(LayerObserver observer) {
    m_impl->backend->setLayerObserver(std::move(observer));
}

BackendCounters Model::backendCounters() const {
    return m_impl->backend->counters();
}

bool Model::setProfiling(bool on) {
    return m_impl->backend->setProfiling(on);
}

}  // namespace griffin
