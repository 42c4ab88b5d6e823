// SPDX-License-Identifier: Apache-2.0
// Logits of a token sequence fed as one prefill or one token at a time (shared by the CPU
// conformance test and the Vulkan model test). Failures abort the test with the engine's message.
#pragma once

#include <span>
#include <vector>

#include <QtGlobal>

#include "griffin/model.h"

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

}  // namespace griffin::test
