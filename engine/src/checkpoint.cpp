// SPDX-License-Identifier: Apache-2.0
#include "checkpoint.h"

#include "gguf_model.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace griffin {
namespace {

// The model directory for a directory, its config.json or a checkpoint file inside it.
std::filesystem::path modelDirectory(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return path;
    return path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
}

Result<Checkpoint> openGguf(const std::filesystem::path& path) {
    auto archive = io::GgufArchive::open(path);
    if (!archive)
        return archive.error();
    auto config = configFromGguf(**archive);
    if (!config)
        return config.error();
    Checkpoint c;
    c.path = path;
    c.config = std::move(*config);
    c.hasTokenizer = (*archive)->metadata(io::gguf::kSentencePieceKey) != nullptr;
    c.archive = std::move(*archive);
    return c;
}

}  // namespace

Result<Checkpoint> openCheckpoint(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return makeError(ErrorCode::NotFound, path.string() + ": no such file or folder");
    }
    if (path.extension() == ".gguf" && !std::filesystem::is_directory(path, ec))
        return openGguf(path);
    Checkpoint c;
    c.path = modelDirectory(path);
    if (!std::filesystem::exists(c.path / "config.json", ec)) {
        return makeError(ErrorCode::NotFound,
                         c.path.string() +
                             ": no config.json here; a model folder in Hugging Face "
                             "layout has config.json, model.safetensors and "
                             "tokenizer.model (or pass a .gguf file)");
    }
    auto config = loadModelConfig(c.path / "config.json");
    if (!config)
        return config.error();
    c.config = std::move(*config);
    auto archive = io::SafetensorsArchive::open(path.extension() == ".safetensors" ? path : c.path);
    if (!archive)
        return archive.error();
    c.archive = std::move(*archive);
    c.hasTokenizer = std::filesystem::is_regular_file(c.path / "tokenizer.model", ec);
    return c;
}

std::string describeTypes(const std::map<WeightType, int64_t>& byType) {
    if (byType.size() == 1)
        return weightTypeName(byType.begin()->first);
    std::string s;
    for (const auto& [type, count] : byType) {
        s += (s.empty() ? "" : ", ") + std::string(weightTypeName(type)) + " (" +
             std::to_string(count) + ")";
    }
    return s;
}

}  // namespace griffin
