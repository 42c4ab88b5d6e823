// SPDX-License-Identifier: Apache-2.0
// `griffin logits --model PATH --tokens 2,651,... [--mode prefill|step|split:K] --out FILE.npy`:
// float32 [T, logitsSize] logits, computed by one prefill, by single steps, or by a prefill of
// the first K tokens followed by steps.
#include <charconv>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/npy.h"
#include "cli/session.h"
#include "griffin/model.h"

namespace griffin::cli {
namespace {

// Logits of every token of `tokens`, fed as a prefill of `prefillCount` then single steps.
Result<std::vector<float>> runTokens(Model& model, std::span<const int32_t> tokens,
                                     size_t prefillCount) {
    State state = model.newState();
    std::vector<float> all;
    all.reserve(tokens.size() * static_cast<size_t>(model.logitsSize()));
    if (prefillCount > 0) {
        ForwardOptions options;
        options.allLogits = true;
        auto logits = model.prefill(state, tokens.first(prefillCount), options);
        if (!logits)
            return logits.error();
        all.insert(all.end(), logits->begin(), logits->end());
    }
    for (size_t i = prefillCount; i < tokens.size(); ++i) {
        auto logits = model.step(state, tokens[i]);
        if (!logits)
            return logits.error();
        all.insert(all.end(), logits->begin(), logits->end());
    }
    return all;
}

}  // namespace

int runLogits(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model", "--tokens", "--mode", "--out"};
    addLoadOptions(spec);
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("logits", args.error().message);
    auto tokenText = args->get("--tokens");
    auto out = args->get("--out");
    if (!tokenText || !out) {
        return fail("logits", "--tokens IDS and --out FILE.npy are required");
    }
    auto path = resolveModel(*args);
    if (!path)
        return fail("logits", path.error().message);
    auto tokens = parseTokenList(*tokenText);
    if (!tokens)
        return fail("logits", tokens.error().message);

    const std::string mode = args->get("--mode").value_or("prefill");
    size_t prefillCount = 0;
    if (mode == "prefill") {
        prefillCount = tokens->size();
    } else if (mode == "step") {
        prefillCount = 0;
    } else if (mode.rfind("split:", 0) == 0) {
        const std::string k = mode.substr(6);
        auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), prefillCount);
        if (k.empty() || ec != std::errc() || end != k.data() + k.size() ||
            prefillCount > tokens->size()) {
            return fail("logits", "--mode " + mode + ": K must be an integer in 0.." +
                                      std::to_string(tokens->size()));
        }
    } else {
        return fail("logits", "--mode must be prefill, step or split:K (got '" + mode + "')");
    }

    auto model = loadModelFromArgs(*args, *path);
    if (!model)
        return fail("logits", model.error().message);
    auto logits = runTokens(**model, *tokens, prefillCount);
    if (!logits)
        return fail("logits", logits.error().message);
    const int64_t shape[] = {static_cast<int64_t>(tokens->size()), (*model)->logitsSize()};
    if (auto s = writeNpyFloat32(*out, shape, *logits); !s)
        return fail("logits", s.error().message);
    return 0;
}

}  // namespace griffin::cli
