// SPDX-License-Identifier: Apache-2.0
// Logits of a token sequence fed as one prefill or one token at a time (shared by the CPU
// conformance test and the Vulkan model test). Failures abort the test with the engine's message.
#pragma once

#include <array>
#include <filesystem>
#include <span>
#include <vector>

#include <QtGlobal>

#include "griffin/model.h"
#include "test_files.h"

namespace griffin::test {

inline std::vector<float> prefillAll(Model& model, State& state, std::span<const int32_t> tokens) {
    ForwardOptions options;
    options.allLogits = true;
    auto logits = model.prefill(state, tokens, options);
    if (!logits)
        qFatal("prefill failed: %s", logits.error().message.c_str());
    return *logits;
}

inline std::vector<float> stepAll(Model& model, State& state, std::span<const int32_t> tokens) {
    std::vector<float> out;
    for (int32_t t : tokens) {
        auto logits = model.step(state, t);
        if (!logits)
            qFatal("step failed: %s", logits.error().message.c_str());
        out.insert(out.end(), logits->begin(), logits->end());
    }
    return out;
}

// The model at `path` loaded with `options`: the prefill logits of the tiny model's test tokens
// (tinyManifest's "prefill" case), then those of three decode steps after them.
inline std::vector<float> tinyPrefillThenSteps(const std::filesystem::path& path,
                                               const LoadOptions& options) {
    auto model = Model::load(path, options);
    if (!model)
        qFatal("load failed: %s", model.error().message.c_str());
    State state = (*model)->newState();
    const auto tokens =
        tinyManifest().at("cases").at("prefill").at("tokens").get<std::vector<int32_t>>();
    std::vector<float> out = prefillAll(**model, state, tokens);
    const std::array<int32_t, 3> steps{3, 17, 200};
    const std::vector<float> stepped = stepAll(**model, state, steps);
    out.insert(out.end(), stepped.begin(), stepped.end());
    return out;
}

}  // namespace griffin::test
