// SPDX-License-Identifier: Apache-2.0
// `griffin perplexity [--model PATH] --file TEXT [--json]`: how well the model predicts a text.
// BOS is prepended and every following token is scored; prints the token count, the total
// negative log-likelihood (natural log) and the perplexity.
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/session.h"
#include "griffin/lab.h"

namespace griffin::cli {
namespace {

constexpr std::uintmax_t kMaxFileBytes = 64ull << 20;

Result<std::string> readText(const std::string& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec)
        return makeError(ErrorCode::NotFound, file + ": cannot read (" + ec.message() + ")");
    if (size > kMaxFileBytes) {
        return makeError(ErrorCode::InvalidArgument,
                         file + ": " + std::to_string(size >> 20) +
                             " MiB is more than perplexity reads (64 MiB); score a part of it");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof())
        return makeError(ErrorCode::Io, file + ": read error");
    std::string s = std::move(text).str();
    if (s.find('\0') != std::string::npos)
        return makeError(ErrorCode::InvalidArgument, file + ": binary data (a NUL byte), not text");
    return s;
}

}  // namespace

int runPerplexity(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model", "--file"};
    spec.flags = {"--json"};
    addLoadOptions(spec);
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("perplexity", args.error().message);
    auto file = args->get("--file");
    if (!file)
        return fail("perplexity", "--file TEXT is required");
    auto text = readText(*file);
    if (!text)
        return fail("perplexity", text.error().message);

    InterruptWatcher interrupt;  // before the model's worker threads exist
    auto loaded = loadModelWithTokenizer(*args);
    if (!loaded)
        return fail("perplexity", loaded.error().message);
    const Tokenizer& tokenizer = *loaded->tokenizer;
    std::vector<int32_t> ids = tokenizer.encode(*text);
    ids.insert(ids.begin(), tokenizer.bosId());
    if (ids.size() < 2)
        return fail("perplexity", *file + ": no text to score");

    ScoreOptions options;
    options.vocabLimit = tokenizer.vocabSize();
    options.stop = interrupt.arm();
    const bool showProgress = ids.size() > 2048;
    options.progress = [&](int64_t done, int64_t total) {
        if (showProgress)
            std::fprintf(stderr, "\rscoring %lld / %lld tokens", static_cast<long long>(done),
                         static_cast<long long>(total));
    };
    auto score = scoreTokens(*loaded->model, ids, options);
    if (showProgress)
        std::fputc('\n', stderr);
    if (!score) {
        if (score.error().code == ErrorCode::Cancelled)
            return 130;
        return fail("perplexity", score.error().message);
    }
    if (args->has("--json")) {
        const nlohmann::json out = {
            {"tokens", score->tokens}, {"nll", score->nll}, {"perplexity", score->perplexity}};
        std::cout << out.dump() << "\n";
    } else {
        std::cout << std::setprecision(10) << "tokens      " << score->tokens << "\n"
                  << "nll         " << score->nll << "\n"
                  << "perplexity  " << score->perplexity << "\n";
    }
    return 0;
}

}  // namespace griffin::cli
