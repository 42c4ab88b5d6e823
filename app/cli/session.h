// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the text-generation subcommands: loading a model folder with its tokenizer,
// and the sampling flags.
#pragma once

#include <memory>
#include <string>

#include "cli/args.h"
#include "griffin/generator.h"
#include "griffin/model.h"
#include "griffin/tokenizer.h"

namespace griffin::cli {

struct LoadedModel {
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tokenizer;
};

// The folder `--model` names; "default" or no --model means the embedded demo model.
Result<std::filesystem::path> resolveModel(const Args& args);

// The model-loading flags: --backend cpu|vulkan|auto, --device N|NAME, --threads N and
// --quantize f32|bf16|f16|q8_0|q4_0 (convert the matrices while loading).
void addLoadOptions(ArgSpec& spec);
// "auto" (the default without --backend; --device alone means vulkan) picks the best Vulkan
// GPU (discrete, then integrated) and otherwise the CPU backend. `autoChoseGpu` (may be null)
// tells whether auto picked a GPU.
Result<LoadOptions> loadOptionsFromArgs(const Args& args, bool* autoChoseGpu = nullptr);
// Loads `path` with those options; when auto picked a GPU that cannot load it, says so on
// stderr and loads it on the CPU.
Result<std::unique_ptr<Model>> loadModelFromArgs(const Args& args,
                                                 const std::filesystem::path& path);

// Loads the model that `--model` names and its tokenizer (tokenizer.model in a folder, or the
// one a .gguf file embeds), with the flags of addLoadOptions.
Result<LoadedModel> loadModelWithTokenizer(const Args& args);

// The sampling flags: --temperature --top-k --top-p --min-p --repeat-penalty --seed.
void addSamplingOptions(ArgSpec& spec);
Result<SamplingParams> samplingFromArgs(const Args& args);

}  // namespace griffin::cli
