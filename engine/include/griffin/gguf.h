// SPDX-License-Identifier: Apache-2.0
// Converting a RecurrentGemma model to one GGUF v3 file with its matrices in another type
// (`griffin quantize`). Model::load, inspectModel and Tokenizer::loadForModel read such files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>

#include "griffin/model.h"
#include "griffin/result.h"

namespace griffin {

struct QuantizeOptions {
    // Threads for the conversion; 0 = one per hardware thread.
    int threads = 0;
    // general.name in the file; empty = the input folder's (or file's) name.
    std::string name;
    // Called with the fraction done (0..1); may be empty. Called on the calling thread.
    std::function<void(double)> progress;
    // Checked between tensors and between chunks written; a stop returns Cancelled.
    std::stop_token stop;
};

struct QuantizeSummary {
    int64_t tensors = 0;      // tensors in the file
    int64_t fileBytes = 0;    // size of the file written
    std::string weightTypes;  // e.g. "q8_0", or "f32 (61), q8_0 (41)" when mixed
};

// Reads the model at `input` (a Hugging Face folder, a file inside one, or a .gguf file), checks
// every tensor against its configuration, converts the matrices (embedding and projections) to
// `type` as LoadOptions::quantize does (norms, biases, conv, RG-LRU gates and parameters keep
// their stored type) and writes `out` (which must end in .gguf) with the configuration and the
// tokenizer (required: tokenizer.model in the folder, or the one a .gguf input embeds).
// The output is written to `out`.partial and renamed when complete: on any error or a stop,
// `out` is left as it was and no partial file remains. Refuses to overwrite the input.
// Errors name the file: NotFound / Corrupt / Unsupported for the input, InvalidArgument for
// `out`, Io when writing fails, Cancelled on a stop. Not thread-safe with respect to `out`.
Result<QuantizeSummary> quantizeModel(const std::filesystem::path& input, WeightType type,
                                      const std::filesystem::path& out,
                                      const QuantizeOptions& options = {});

}  // namespace griffin
