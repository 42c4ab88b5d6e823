// SPDX-License-Identifier: Apache-2.0
// quantizeModel: checkpoint in, converted matrices, GGUF out (`griffin quantize`).
#include <map>
#include <set>

#include "checkpoint.h"
#include "gguf_model.h"
#include "griffin/gguf.h"
#include "griffin/tokenizer.h"
#include "weights.h"

namespace griffin {
namespace {

// Whether `out` is one of the files the checkpoint was read from.
bool isInputFile(const Checkpoint& c, const std::filesystem::path& out) {
    std::error_code ec;
    if (!std::filesystem::exists(out, ec))
        return false;
    std::set<std::filesystem::path> files;
    for (const auto& [name, t] : c.archive->tensors()) files.insert(t.file);
    files.insert(c.path);
    for (const std::filesystem::path& f : files) {
        if (std::filesystem::equivalent(f, out, ec))
            return true;
    }
    return false;
}

std::string defaultName(const Checkpoint& c) {
    std::filesystem::path p = c.path.lexically_normal();
    if (p.filename().empty())
        p = p.parent_path();
    if (p.extension() == ".gguf")
        return p.stem().string();
    p = std::filesystem::absolute(p).lexically_normal();
    if (p.filename().empty())
        p = p.parent_path();
    return p.filename().string();
}

}  // namespace

Result<QuantizeSummary> quantizeModel(const std::filesystem::path& input, WeightType type,
                                      const std::filesystem::path& out,
                                      const QuantizeOptions& options) {
    if (out.extension() != ".gguf") {
        return makeError(ErrorCode::InvalidArgument,
                         out.string() + ": the output file name must end in .gguf");
    }
    auto checkpoint = openCheckpoint(input);
    if (!checkpoint)
        return checkpoint.error();
    if (isInputFile(*checkpoint, out)) {
        return makeError(ErrorCode::InvalidArgument,
                         out.string() + ": this is the model being read; choose another output");
    }
    auto tokenizer = Tokenizer::loadForModel(input);
    if (!tokenizer) {
        Error e = tokenizer.error();
        if (e.code == ErrorCode::NotFound)
            e.message += " (the GGUF file embeds the tokenizer, so quantize needs it)";
        return e;
    }
    const std::string source = checkpoint->path.string();
    auto weights = bindWeights(checkpoint->config, *checkpoint->archive, source, {}, options.stop);
    if (!weights)
        return weights.error();
    if ((*tokenizer)->vocabSize() > weights->embedding.rows) {
        return makeError(ErrorCode::Corrupt, source + ": the tokenizer has " +
                                                 std::to_string((*tokenizer)->vocabSize()) +
                                                 " pieces but the model only " +
                                                 std::to_string(weights->embedding.rows) +
                                                 " embedding rows");
    }

    // Progress: conversion is the first half, writing the second.
    auto report = [&options](double base, double fraction) {
        if (options.progress)
            options.progress(base + 0.5 * fraction);
    };
    auto converted = convertMatrices(
        checkpoint->archive, type, options.threads, [&](double f) { report(0.0, f); },
        options.stop);
    if (!converted)
        return converted.error();
    const std::string name = options.name.empty() ? defaultName(*checkpoint) : options.name;
    if (auto s = writeGguf(
            out, checkpoint->config, **converted, tokenizer->get(), name,
            [&](double f) { report(0.5, f); }, options.stop);
        !s) {
        return s.error();
    }

    QuantizeSummary summary;
    std::map<WeightType, int64_t> byType;
    for (const auto& [tensorName, t] : (*converted)->tensors()) {
        if (tensorName == "lm_head.weight")
            continue;
        ++summary.tensors;
        byType[t.type] += 1;
    }
    summary.weightTypes = describeTypes(byType);
    std::error_code ec;
    summary.fileBytes = static_cast<int64_t>(std::filesystem::file_size(out, ec));
    return summary;
}

}  // namespace griffin
