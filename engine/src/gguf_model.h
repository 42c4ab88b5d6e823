// SPDX-License-Identifier: Apache-2.0
// A RecurrentGemma model as a GGUF file: the hyper-parameters as "recurrentgemma.*" metadata,
// the tokenizer (the SentencePiece model verbatim plus the llama-style token lists), and the
// tensors under their Hugging Face names. The key table is in gguf_model.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <stop_token>
#include <string_view>

#include "griffin/model_config.h"
#include "griffin/result.h"
#include "griffin/tokenizer.h"
#include "io/gguf.h"
#include "io/tensor_archive.h"

namespace griffin {

// The configuration from a GGUF's metadata, validated by the same rules as config.json. Errors
// name the file and the GGUF key: a missing required key, a key of the wrong type, another
// general.architecture (Unsupported).
Result<ModelConfig> configFromGguf(const io::GgufArchive& archive);

// Writes `tensors` (sorted by name; lm_head.weight is skipped, the head is tied to the
// embedding) with `config`, `tokenizer` (may be null: no tokenizer keys) and general.name =
// `name` as a GGUF v3 file, atomically (see io::writeGgufFile: a failure or a stop leaves no
// file). `progress` gets the fraction written.
Status writeGguf(const std::filesystem::path& out, const ModelConfig& config,
                 const io::TensorArchive& tensors, const Tokenizer* tokenizer,
                 std::string_view name, const std::function<void(double)>& progress,
                 std::stop_token stop);

}  // namespace griffin
