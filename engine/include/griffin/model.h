// SPDX-License-Identifier: Apache-2.0
// Model: a RecurrentGemma checkpoint loaded onto a backend; prefill and step advance a State and
// return logits. The entry point of the engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/model_config.h"
#include "griffin/result.h"
#include "griffin/state.h"

namespace griffin {
namespace io {
class TensorArchive;
}

// How a matrix is stored. Q8_0 and Q4_0 are the GGUF block quantizations (32 values per block
// with one f16 scale; 8.5 and 4.5 bits per weight).
enum class WeightType { F32, BF16, F16, Q8_0, Q4_0 };
const char* weightTypeName(WeightType type);
// "f32", "bf16", "f16", "q8_0", "q4_0" -> the type; anything else -> empty.
std::optional<WeightType> parseWeightType(std::string_view name);

// Bits per weight, the order of precision: f32 32, bf16 and f16 16, q8_0 8.5, q4_0 4.5.
double weightTypeBits(WeightType type);

enum class BackendKind { Cpu, Vulkan };
const char* backendKindName(BackendKind kind);

struct LoadOptions {
    BackendKind backend = BackendKind::Cpu;
    // Worker threads for the CPU backend; 0 = one per hardware thread.
    int threads = 0;
    // Vulkan device: an index ("0") or part of its name ("llvmpipe"); empty = the
    // GRIFFIN_VULKAN_DEVICE environment variable, else the best device (discrete > integrated >
    // CPU). Ignored by the CPU backend.
    std::string device;
    // Called with the fraction done (0..1) of each step of the load in turn: converting to
    // `quantize` if asked, binding the tensors, and on the CPU backend with AVX-512 VNNI laying
    // out q4_0 matrices for its kernels (about a second per GB). May be empty.
    std::function<void(double)> progress;
    // Checked between tensors; a stop makes load() return ErrorCode::Cancelled.
    std::stop_token stop;
    // Converts every matrix (projections and the embedding / LM head) to this type while loading
    // (e.g. q8_0 halves the memory and time of a bf16 checkpoint); empty = as stored. Norms,
    // biases, conv, RG-LRU parameters and gates keep their precision.
    std::optional<WeightType> quantize;
};

// What `griffin info` prints.
struct ModelInfo {
    std::filesystem::path path;
    ModelConfig config;
    int64_t embeddingRows = 0;       // rows of the embedding (= logits per token), >= vocabSize
    int64_t embeddingParams = 0;     // embeddingRows * width
    int64_t nonEmbeddingParams = 0;  // everything else
    int64_t weightBytes = 0;         // bytes of all tensors as stored
    std::string weightTypes;         // e.g. "bf16", or "f32 (96), bf16 (16)" when mixed
    int64_t stateBytes = 0;          // State::bytes() of a fresh state
    // Tensors in the checkpoint that the model does not use (also logged as warnings).
    std::vector<std::string> unexpectedTensors;
    // Hash of the configuration, every tensor's name, shape and type and a sample of its data:
    // identifies the weights a State belongs to (16 hex digits).
    std::string fingerprint;
    BackendKind backend = BackendKind::Cpu;
    // The device the backend runs on, with its driver and limits (empty for the CPU backend).
    std::string device;
};

struct ForwardOptions {
    // Return logits for every token of the chunk ([T, logitsSize]) instead of only the last.
    bool allLogits = false;
    // Tokens per forward chunk; bounds scratch memory. Results do not depend on it.
    int64_t chunkSize = 256;
    // Called after each chunk with (tokens done, total); may be empty.
    std::function<void(int64_t, int64_t)> progress;
    // Checked between chunks. On stop, returns Cancelled and the state holds the chunks done.
    std::stop_token stop;
};

// Observes the residual stream: layer -1 is the scaled embedding, layer i the output of residual
// block i, layer numLayers the output of the final norm. `x` is [rows, width] float32, valid only
// during the call. A debugging and conformance hook.
using LayerObserver =
    std::function<void(int64_t layer, const float* x, int64_t rows, int64_t width)>;

// What a model folder holds, found without loading the weights (for "will it fit?" questions).
struct ModelInspection {
    std::filesystem::path path;  // the model folder, or the .gguf file
    ModelConfig config;
    int64_t weightBytes = 0;  // tensors as stored (they are memory-mapped when loaded)
    int64_t stateBytes = 0;   // one conversation's State
    std::string weightTypes;
    // The widest type among the matrices that LoadOptions::quantize converts (the embedding
    // and the projections): what a conversion on load would start from. Empty when there are none.
    std::optional<WeightType> matrixType;
    int64_t matrixBytes = 0;    // the bytes of those matrices, as stored
    bool hasTokenizer = false;  // tokenizer.model in the folder, or embedded in the .gguf
};

// Checks a model folder (or a file inside it) or a .gguf file: the configuration, the
// checkpoint headers and the tokenizer's presence, without reading tensor data. Errors say in
// plain words what is wrong (missing config.json, not a RecurrentGemma config, truncated file).
Result<ModelInspection> inspectModel(const std::filesystem::path& path);

// A Vulkan device of this machine, as offered to users.
struct ComputeDevice {
    int index = 0;           // pass as LoadOptions::device (as text)
    std::string name;        // e.g. "NVIDIA GeForce RTX 4070" or "llvmpipe (LLVM 15.0.6, 256 bits)"
    std::string type;        // "discrete GPU", "integrated GPU", "CPU", ...
    std::string unsuitable;  // why it cannot run the engine, or empty
};

// The Vulkan devices found (empty when this build has no Vulkan backend or no driver is
// installed). Creates a temporary instance: call it from a worker thread, not a GUI thread.
std::vector<ComputeDevice> listComputeDevices();

// Device time of one kind of op (a compute shader) over the profiled forward calls.
struct OpProfile {
    std::string op;           // the shader, e.g. "matvec", "attention_decode"; on the CPU a
                              // stage of the forward pass, e.g. "matmul.mlp_down", "rg_lru_scan"
    uint64_t dispatches = 0;  // summed over the profiled calls (on the CPU: times the stage ran)
    double seconds = 0;       // device time, from timestamps around each dispatch (CPU: wall time)
};

// What a backend has done so far (for tests, `griffin bench` and the logs).
struct BackendCounters {
    // Whole-state copies between host and device (GPU backends; 0 on the CPU). A state stays on
    // the device between calls, so these count switches between states and host accesses, not
    // tokens.
    uint64_t stateUploads = 0;
    uint64_t stateDownloads = 0;
    uint32_t lastDispatches = 0;     // compute dispatches of the last forward call
    uint32_t lastBarriers = 0;       // barriers between them (only where one depends on another)
    bool deviceMemoryMapped = true;  // false: weights and state reached through staging copies
    // Seconds summed over all forward calls: recording command buffers on the host (the host
    // overhead a pre-recorded decode would remove) and from submit to completion.
    double recordSeconds = 0;
    double waitSeconds = 0;
    // Command buffers recorded so far. The decode step's is recorded once and replayed, so this
    // stays flat while a conversation decodes.
    uint64_t recordings = 0;
    // Per-op time since profiling was turned on (Model::setProfiling: device time on GPU
    // backends with timestamp support, wall time per stage on the CPU), slowest first; empty
    // otherwise.
    std::vector<OpProfile> opProfile;
    // The CPU decode kernels' software prefetch (bytes ahead into L2, and into L1): what this
    // model's decode steps chose from timing themselves after decodePrefetchTuningRounds rounds
    // (cpu/decode_tuner.h), or what the environment fixed (rounds -1). -1 on GPU backends.
    int64_t decodePrefetchBytes = -1;
    int64_t decodePrefetchNearBytes = -1;
    int64_t decodePrefetchTuningRounds = -1;
};

// A greedy choice: the most likely token (lowest id on ties) and its softmax probability.
struct GreedyToken {
    int32_t id = 0;
    float probability = 0.0f;
};

// What "auto" runs on: the Vulkan backend on the best suitable GPU (discrete > integrated >
// virtual), else the CPU backend. CPU-type Vulkan devices (lavapipe) never win: the CPU backend
// is faster on the same cores. `reason` says why, in words for logs and the status bar.
struct BackendChoice {
    BackendKind backend = BackendKind::Cpu;
    std::string device;  // LoadOptions::device for Vulkan (the index as text)
    std::string reason;
};
BackendChoice chooseAutoBackend(const std::vector<ComputeDevice>& devices);

// Bytes of a State for `config` (what Model::newState().bytes() returns).
int64_t stateBytesFor(const ModelConfig& config);

// Not thread-safe: create, use and destroy it on one thread. The weights stay memory-mapped from
// the checkpoint for the Model's lifetime, except q4_0 matrices loaded for the CPU backend on
// AVX-512 VNNI, which are copied into the layout its kernels read.
class Model {
public:
    // Loads an HF model directory (config.json + model.safetensors or a sharded index), the
    // config.json / .safetensors file inside one, or a .gguf file (griffin/gguf.h; the config
    // comes from its metadata and info().path is the file). Every tensor is checked against the
    // config; errors name the file and the tensor.
    static Result<std::unique_ptr<Model>> load(const std::filesystem::path& path,
                                               const LoadOptions& options = {});
    // A model of `config`'s shapes with random weights (matrices of `type`, uniform in
    // +-1/sqrt(fan-in) from `seed`), held in memory: for benchmarks at real shapes without a
    // checkpoint. Its outputs are meaningless.
    static Result<std::unique_ptr<Model>> createSynthetic(const ModelConfig& config,
                                                          WeightType type, uint64_t seed,
                                                          const LoadOptions& options = {});
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelConfig& config() const;
    const ModelInfo& info() const;
    // Length of one logits row (the embedding's row count).
    int64_t logitsSize() const;

    // A fresh, empty state sized for this model.
    State newState() const;

    // Advances `state` over `tokens` (positions state.position() onward) and returns the logits
    // of the last token ([logitsSize]) or of every token ([T, logitsSize]) with allLogits.
    // Token ids must lie in [0, logitsSize); otherwise InvalidArgument and `state` is unchanged.
    // Prefill of N tokens then k steps equals N + k steps (within float rounding).
    Result<std::vector<float>> prefill(State& state, std::span<const int32_t> tokens,
                                       const ForwardOptions& options = {});
    // One token; same as prefill of a single token.
    Result<std::vector<float>> step(State& state, int32_t token);
    // One token, then the greedy choice among logits [0, vocabLimit) (vocabLimit in
    // [1, logitsSize()]): the argmax of step()'s logits, with the probability Sampler reports for
    // greedy decoding. A GPU backend reduces the logits on the device and reads back one pair
    // instead of the whole row.
    Result<GreedyToken> stepGreedy(State& state, int32_t token, int32_t vocabLimit);

    void setLayerObserver(LayerObserver observer);
    BackendCounters backendCounters() const;
    // Times every op on the device from now on (a timestamp after each dispatch; this costs a
    // little), or on the CPU every stage of the forward pass (a clock read between stages), and
    // clears what was measured before; false stops. For `griffin bench`. False when the
    // backend cannot profile (a device without timestamps).
    bool setProfiling(bool on);

    // Writes `state` to `file` (atomically: temporary file, then rename): magic, format version,
    // this model's fingerprint, position, the buffers and a checksum.
    Status saveState(const State& state, const std::filesystem::path& file) const;
    // Reads a snapshot written by saveState for this model. A snapshot of another model, a
    // truncated or corrupted file is an error naming the file; nothing is modified.
    Result<State> loadState(const std::filesystem::path& file) const;

private:
    struct Impl;
    explicit Model(std::unique_ptr<Impl> impl);
    static Result<std::unique_ptr<Model>> fromArchive(
        ModelConfig config, std::shared_ptr<const io::TensorArchive> archive,
        const std::filesystem::path& dir, const LoadOptions& options,
        std::chrono::steady_clock::time_point started);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace griffin
