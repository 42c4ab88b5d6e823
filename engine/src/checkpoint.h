// SPDX-License-Identifier: Apache-2.0
// Checkpoint: what Model::load, inspectModel and quantizeModel read first, in either layout
// (a Hugging Face folder or one .gguf file): the configuration and the tensor headers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "griffin/model.h"
#include "griffin/model_config.h"
#include "griffin/result.h"
#include "io/tensor_archive.h"

namespace griffin {

struct Checkpoint {
    std::filesystem::path path;  // the model folder, or the .gguf file
    ModelConfig config;
    std::shared_ptr<const io::TensorArchive> archive;  // tensors mapped, not yet checked
    bool hasTokenizer = false;  // tokenizer.model in the folder, or one embedded in the GGUF
};

// Opens a model folder, its config.json or a .safetensors file inside it (config.json plus
// model.safetensors or a sharded index), or a .gguf file (config from its metadata). Errors
// name the file and say in plain words what is missing or wrong.
Result<Checkpoint> openCheckpoint(const std::filesystem::path& path);

// "bf16", or "f32 (96), bf16 (16)" when mixed.
std::string describeTypes(const std::map<WeightType, int64_t>& byType);

}  // namespace griffin
