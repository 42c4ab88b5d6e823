// SPDX-License-Identifier: Apache-2.0
// `griffin summarize [--model PATH] FILE [--strategy auto|stream|map-reduce|refine]
// [--length short|page|bullets|detailed] [--focus TEXT] [--out FILE] [--json]
// [--language auto|NAME] [--session DIR] [--restart] [--max-tokens N] [--chunk-tokens N]
// [sampling flags] [load flags]`: summarises a
// .txt, .md or .html file. Progress goes to stderr; Ctrl-C keeps the session, and running the
// same command again resumes it.
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/npy.h"
#include "cli/session.h"
#include "cli/summary_progress.h"
#include "griffin/document.h"
#include "griffin/summarize.h"

namespace griffin::cli {
namespace {

// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
constexpr int kInterruptedExit = 130;

// $XDG_CACHE_HOME/griffin/summaries, else ~/.cache/griffin/summaries.
std::filesystem::path summariesCache() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg != nullptr && xdg[0] == '/')
        return std::filesystem::path(xdg) / "griffin" / "summaries";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr && home[0] != '\0' ? home : ".") / ".cache" /
           "griffin" / "summaries";
}

Result<SummaryOptions> optionsFromArgs(const Args& args) {
    SummaryOptions options;
    if (auto s = args.get("--strategy")) {
        auto parsed = parseSummaryStrategy(*s);
        if (!parsed) {
            return makeError(
                ErrorCode::InvalidArgument,
                "--strategy must be auto, stream, map-reduce or refine (got '" + *s + "')");
        }
        options.strategy = *parsed;
    }
    if (auto l = args.get("--length")) {
        auto parsed = parseSummaryLength(*l);
        if (!parsed) {
            return makeError(
                ErrorCode::InvalidArgument,
                "--length must be short, page, bullets or detailed (got '" + *l + "')");
        }
        options.length = *parsed;
    }
    options.focus = args.get("--focus").value_or("");
    if (auto l = args.get("--language")) {
        auto parsed = normalizeSummaryLanguage(*l);
        if (!parsed) {
            return makeError(ErrorCode::InvalidArgument,
                             "--language must be auto or a language name of letters, such as "
                             "german, de or Swedish (got '" +
                                 *l + "')");
        }
        options.language = *parsed;
    }
    auto maxTokens = args.getInt("--max-tokens", 0, 1, 1 << 20);
    if (!maxTokens)
        return maxTokens.error();
    options.maxTokens = *maxTokens;
    auto chunkTokens = args.getInt("--chunk-tokens", 0, 8, 1 << 24);
    if (!chunkTokens)
        return chunkTokens.error();
    options.chunkTokens = *chunkTokens;
    auto sampling = samplingFromArgs(args);
    if (!sampling)
        return sampling.error();
    options.sampling = *sampling;
    // Greedy and seed 0 unless asked otherwise: the same command gives the same summary, and
    // finds the same session to resume.
    if (!args.has("--temperature"))
        options.sampling.temperature = 0.0f;
    if (!args.has("--seed"))
        options.sampling.seed = 0;
    return options;
}

// Removes the files a session consists of (never anything else in the folder).
void clearSession(const std::filesystem::path& dir) {
    std::error_code ignored;
    std::filesystem::remove(dir / "session.json", ignored);
    std::filesystem::remove(dir / "stream.state", ignored);
}

}  // namespace

int runSummarize(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model",   "--strategy",   "--length",       "--focus",   "--out",
                   "--session", "--max-tokens", "--chunk-tokens", "--language"};
    spec.flags = {"--json", "--restart"};
    spec.positional = true;
    addLoadOptions(spec);
    addSamplingOptions(spec);
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("summarize", args.error().message);
    if (args->positional().size() != 1)
        return fail("summarize", "give exactly one FILE to summarize (.txt, .md or .html)");
    auto options = optionsFromArgs(*args);
    if (!options)
        return fail("summarize", options.error().message);
    auto document = Document::open(args->positional().front());
    if (!document)
        return fail("summarize", document.error().message);

    InterruptWatcher interrupt;  // before the model's worker threads exist
    auto loaded = loadModelWithTokenizer(*args);
    if (!loaded)
        return fail("summarize", loaded.error().message);

    const std::filesystem::path sessionDir =
        args->get("--session")
            ? std::filesystem::path(*args->get("--session"))
            : summariesCache() /
                  summarySessionKey(document->info(), *options, loaded->model->info().fingerprint);
    if (args->has("--restart"))
        clearSession(sessionDir);

    SummaryProgressPrinter printer(::isatty(STDERR_FILENO) == 1);
    auto result = summarize(
        *loaded->model, *loaded->tokenizer, *document, *options, sessionDir,
        [&](const SummaryProgress& p) { printer.update(p); }, interrupt.arm());
    printer.finish();
    if (!result) {
        if (result.error().code == ErrorCode::Cancelled) {
            std::cerr << "griffin: summarize: stopped. Progress is kept in " << sessionDir.string()
                      << "; run the same command again to resume.\n";
            return kInterruptedExit;
        }
        return fail("summarize", result.error().message);
    }
    const std::string text =
        args->has("--json") ? summaryToJson(*result) : summaryToMarkdown(*result);
    if (auto out = args->get("--out")) {
        if (auto s = writeFileAtomically(*out, std::span<const char>(text.data(), text.size())); !s)
            return fail("summarize", s.error().message);
    } else {
        std::cout << text << std::flush;
    }
    std::cerr << "summarize: " << summaryStrategyName(result->strategy) << ", " << result->chunks
              << (result->chunks == 1 ? " chunk" : " chunks") << ", " << result->documentTokens
              << " tokens, language " << result->language << (result->resumed ? ", resumed" : "")
              << "; session " << sessionDir.string() << "\n";
    return 0;
}

}  // namespace griffin::cli
