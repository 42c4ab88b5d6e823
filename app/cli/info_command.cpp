// SPDX-License-Identifier: Apache-2.0
// `griffin info --model PATH [--json]`: configuration, parameter counts, weights and state size.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "griffin/model.h"

namespace griffin::cli {
namespace {

nlohmann::ordered_json infoJson(const ModelInfo& info) {
    const ModelConfig& c = info.config;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (int64_t i = 0; i < c.numLayers; ++i) layers.push_back(blockTypeName(c.layerType(i)));
    return {
        {"path", info.path.string()},
        {"backend", backendKindName(info.backend)},
        {"device", info.device},
        {"config",
         {{"vocab_size", c.vocabSize},
          {"width", c.width},
          {"mlp_width", c.mlpWidth},
          {"num_layers", c.numLayers},
          {"num_heads", c.numHeads},
          {"num_kv_heads", c.numKvHeads},
          {"head_dim", c.headDim},
          {"lru_width", c.lruWidth},
          {"attention_window_size", c.attentionWindow},
          {"conv1d_width", c.convWidth},
          {"logits_soft_cap", c.logitsSoftCap},
          {"rms_norm_eps", c.rmsNormEps},
          {"rope_theta", c.ropeTheta},
          {"partial_rotary_factor", c.partialRotaryFactor},
          {"embedding_scale", c.embeddingScale()},
          {"layers", layers}}},
        {"embedding_rows", info.embeddingRows},
        {"parameters",
         {{"embedding", info.embeddingParams},
          {"non_embedding", info.nonEmbeddingParams},
          {"total", info.embeddingParams + info.nonEmbeddingParams}}},
        {"weight_type", info.weightTypes},
        {"weight_bytes", info.weightBytes},
        {"state_bytes", info.stateBytes},
    };
}

std::string human(int64_t bytes) {
    char buf[64];
    if (bytes >= (int64_t{1} << 30)) {
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
    } else if (bytes >= (1 << 20)) {
        std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    }
    return buf;
}

}  // namespace

int runInfo(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model"};
    addLoadOptions(spec);
    spec.flags = {"--json"};
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("info", args.error().message);
    auto path = resolveModel(*args);
    if (!path)
        return fail("info", path.error().message);
    auto model = loadModelFromArgs(*args, *path);
    if (!model)
        return fail("info", model.error().message);
    const ModelInfo& info = (*model)->info();
    if (args->has("--json")) {
        std::cout << infoJson(info).dump(2) << "\n";
        return 0;
    }
    const ModelConfig& c = info.config;
    std::string pattern;
    for (int64_t i = 0; i < c.numLayers; ++i) {
        pattern += c.layerType(i) == BlockType::Recurrent ? 'R' : 'A';
    }
    std::cout << "model:        " << info.path.string() << "\n"
              << "backend:      " << backendKindName(info.backend) << "\n"
              << (info.device.empty() ? "" : "device:       " + info.device + "\n")
              << "layers:       " << c.numLayers << " (" << pattern << ")\n"
              << "width:        " << c.width << " (mlp " << c.mlpWidth << ", lru " << c.lruWidth
              << ")\n"
              << "heads:        " << c.numHeads << " x " << c.headDim << " (kv heads "
              << c.numKvHeads << ")\n"
              << "window:       " << c.attentionWindow << "\n"
              << "vocabulary:   " << c.vocabSize << " (embedding rows " << info.embeddingRows
              << ")\n"
              << "parameters:   " << info.embeddingParams + info.nonEmbeddingParams
              << " (embedding " << info.embeddingParams << ", non-embedding "
              << info.nonEmbeddingParams << ")\n"
              << "weights:      " << info.weightTypes << ", " << info.weightBytes << " bytes ("
              << human(info.weightBytes) << ")\n"
              << "state:        " << info.stateBytes << " bytes (" << human(info.stateBytes)
              << ", constant at any context length)\n";
    return 0;
}

}  // namespace griffin::cli
