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

// `--model PATH` (a folder with tokenizer.model); "default" or no --model means the embedded demo
// model, which this build does not have yet (a clear error says so).
Result<LoadedModel> loadModelWithTokenizer(const Args& args);

// The sampling flags: --temperature --top-k --top-p --min-p --repeat-penalty --seed.
void addSamplingOptions(ArgSpec& spec);
Result<SamplingParams> samplingFromArgs(const Args& args);

}  // namespace griffin::cli
