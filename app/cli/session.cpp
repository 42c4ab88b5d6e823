// SPDX-License-Identifier: Apache-2.0
#include "cli/session.h"

#include <iostream>
#include <random>

#include "default_model.h"

namespace griffin::cli {

Result<std::filesystem::path> resolveModel(const Args& args) {
    const auto path = app::resolveModelPath(args.get("--model").value_or("default"));
    if (!path) {
        return makeError(ErrorCode::NotFound,
                         "the embedded demo model is not installed (expected in "
                         "share/griffin-chat/models/demo); pass --model PATH to a RecurrentGemma "
                         "folder");
    }
    return *path;
}

void addLoadOptions(ArgSpec& spec) {
    spec.valued.insert({"--backend", "--device", "--threads", "--quantize"});
}

Result<LoadOptions> loadOptionsFromArgs(const Args& args, bool* autoChoseGpu) {
    LoadOptions options;
    // No --backend: auto (Vulkan on a GPU, else the CPU), or Vulkan when --device names one.
    const auto given = args.get("--backend");
    const std::string backend = given.value_or(args.has("--device") ? "vulkan" : "auto");
    if (autoChoseGpu != nullptr)
        *autoChoseGpu = false;
    if (backend == "vulkan") {
        options.backend = BackendKind::Vulkan;
    } else if (backend == "auto") {
        const BackendChoice choice = chooseAutoBackend(listComputeDevices());
        options.backend = choice.backend;
        options.device = choice.device;
        if (autoChoseGpu != nullptr)
            *autoChoseGpu = choice.backend != BackendKind::Cpu;
        // Said when asked for, or when the default moves the work to a GPU.
        if (given || choice.backend != BackendKind::Cpu)
            std::cerr << "griffin: --backend auto chose " << choice.reason << "\n";
    } else if (backend != "cpu") {
        return makeError(ErrorCode::InvalidArgument,
                         "--backend must be cpu, vulkan or auto (got '" + backend + "')");
    }
    if (auto device = args.get("--device")) {
        if (options.backend != BackendKind::Vulkan)
            return makeError(ErrorCode::InvalidArgument, "--device needs --backend vulkan");
        options.device = *device;
    }
    auto threads = args.getInt("--threads", 0, 0, 1024);
    if (!threads)
        return threads.error();
    options.threads = static_cast<int>(*threads);
    if (auto q = args.get("--quantize")) {
        options.quantize = parseWeightType(*q);
        if (!options.quantize) {
            return makeError(ErrorCode::InvalidArgument,
                             "--quantize must be f32, bf16, f16, q8_0 or q4_0 (got '" + *q + "')");
        }
    }
    return options;
}

Result<std::unique_ptr<Model>> loadModelFromArgs(const Args& args,
                                                 const std::filesystem::path& path) {
    bool autoChoseGpu = false;
    auto options = loadOptionsFromArgs(args, &autoChoseGpu);
    if (!options)
        return options.error();
    auto model = Model::load(path, *options);
    if (model || !autoChoseGpu || model.error().code == ErrorCode::Cancelled)
        return model;
    // The GPU auto chose could not take the model (memory, driver): the CPU can.
    std::cerr << "griffin: the GPU could not load the model (" << model.error().message
              << "); using the CPU\n";
    options->backend = BackendKind::Cpu;
    options->device.clear();
    return Model::load(path, *options);
}

Result<LoadedModel> loadModelWithTokenizer(const Args& args) {
    auto path = resolveModel(args);
    if (!path)
        return path.error();
    LoadedModel loaded;
    auto model = loadModelFromArgs(args, *path);
    if (!model)
        return model.error();
    loaded.model = std::move(*model);
    auto tokenizer = Tokenizer::loadForModel(loaded.model->info().path);
    if (!tokenizer)
        return tokenizer.error();
    loaded.tokenizer = std::move(*tokenizer);
    if (loaded.tokenizer->vocabSize() > loaded.model->logitsSize()) {
        return makeError(ErrorCode::Corrupt,
                         loaded.model->info().path.string() + ": the tokenizer has " +
                             std::to_string(loaded.tokenizer->vocabSize()) +
                             " pieces, but the model has only " +
                             std::to_string(loaded.model->logitsSize()) + " embedding rows");
    }
    return loaded;
}

void addSamplingOptions(ArgSpec& spec) {
    spec.valued.insert(
        {"--temperature", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--seed"});
}

Result<SamplingParams> samplingFromArgs(const Args& args) {
    SamplingParams p;
    auto temperature = args.getDouble("--temperature", p.temperature, 0.0, 100.0);
    auto topK = args.getInt("--top-k", p.topK, 0, 1 << 30);
    auto topP = args.getDouble("--top-p", p.topP, 0.0, 1.0);
    auto minP = args.getDouble("--min-p", p.minP, 0.0, 1.0);
    auto repeat = args.getDouble("--repeat-penalty", p.repeatPenalty, 0.01, 100.0);
    // Without --seed, a fresh seed each run (reported in --stats-json so it can be reproduced).
    auto seed =
        args.getInt("--seed", static_cast<int64_t>(std::random_device{}() >> 1), 0, INT64_MAX);
    if (!temperature)
        return temperature.error();
    if (!topK)
        return topK.error();
    if (!topP)
        return topP.error();
    if (!minP)
        return minP.error();
    if (!repeat)
        return repeat.error();
    if (!seed)
        return seed.error();
    p.temperature = static_cast<float>(*temperature);
    p.topK = static_cast<int32_t>(*topK);
    p.topP = static_cast<float>(*topP);
    p.minP = static_cast<float>(*minP);
    p.repeatPenalty = static_cast<float>(*repeat);
    p.seed = static_cast<uint64_t>(*seed);
    return p;
}

}  // namespace griffin::cli
