// SPDX-License-Identifier: Apache-2.0
// summarize(): options and budgets, the session (new, resumed or finished), the reading pass
// that plans the chunks, and the strategy run.
#include "griffin/summarize.h"

#include <algorithm>

#include "griffin/chat_template.h"
#include "hash.h"
#include "log.h"
#include "summarize/strategies.h"
#include "summarize/summary_json.h"
#include "summarize/text_unit.h"

namespace griffin {
namespace {

constexpr int64_t kStreamChunkTokens = 2048;
constexpr int64_t kMinChunkTokens = 32;
constexpr size_t kSampleBytes = 64 * 1024;

int64_t defaultMaxTokens(SummaryLength length) {
    switch (length) {
        case SummaryLength::Short:
            return 160;
        case SummaryLength::Bullets:
            return 256;
        case SummaryLength::Page:
            return 512;
        case SummaryLength::Detailed:
            return 1024;
    }
    return 256;
}

// Token budgets from the attention window W: a chunk and its instruction should fit in W with
// room left for the answer, because exact attention sees only the last W tokens (the
// recurrence carries the rest, more vaguely).
detail::JobPlan budgets(const Model& model, const detail::Prompts& prompts,
                        const SummaryOptions& options, SummaryStrategy strategy) {
    const int64_t window = model.config().attentionWindow;
    const int64_t answer = std::min(options.maxTokens, window / 4);
    const auto turnEnd = static_cast<int64_t>(prompts.turnEnd().size());
    detail::JobPlan plan;
    plan.partTokens = std::min(options.maxTokens, std::clamp<int64_t>(window / 8, 32, 256));
    const int64_t combinePrefix = static_cast<int64_t>(prompts.combine({}, true).size());
    plan.combineTokens = std::max(window - combinePrefix - answer, 2 * (plan.partTokens + 16));
    switch (strategy) {
        case SummaryStrategy::Stream:
            plan.chunkTokens = kStreamChunkTokens;
            break;
        case SummaryStrategy::Refine:
            plan.chunkTokens =
                std::max({window - static_cast<int64_t>(prompts.refinePrefix().size()) - 8 -
                              turnEnd - answer - std::min(options.maxTokens, window / 4),
                          window / 4, kMinChunkTokens});
            break;
        case SummaryStrategy::Auto:
        case SummaryStrategy::MapReduce:
            plan.chunkTokens =
                std::max(window - static_cast<int64_t>(prompts.mapPrefix(false).size()) - turnEnd -
                             plan.partTokens,
                         kMinChunkTokens);
            break;
    }
    if (options.chunkTokens > 0)
        plan.chunkTokens = options.chunkTokens;
    return plan;
}

// Auto: map-reduce while the estimated chunk count is small, else stream. The estimate scales
// the tokens of the first ~64 KiB of text to the whole file.
Result<SummaryStrategy> chooseStrategy(const Model& model, const Tokenizer& tokenizer,
                                       const detail::Prompts& prompts, const Document& document,
                                       const SummaryOptions& options) {
    auto units = document.openUnits();
    if (!units)
        return units.error();
    std::string sample;
    int64_t sampleEnd = 0;
    bool whole = true;
    detail::TextUnit unit;
    for (;;) {
        auto got = (*units)->next(unit);
        if (!got)
            return got.error();
        if (!*got)
            break;
        sample += unit.text + "\n\n";
        sampleEnd = unit.endByte;
        if (sample.size() >= kSampleBytes) {
            whole = false;
            break;
        }
    }
    const auto tokens = static_cast<double>(tokenizer.encode(sample).size());
    const double estimate =
        whole || sampleEnd <= 0
            ? tokens
            : tokens * static_cast<double>(document.info().bytes) / static_cast<double>(sampleEnd);
    const int64_t chunk = budgets(model, prompts, options, SummaryStrategy::MapReduce).chunkTokens;
    return estimate <= static_cast<double>(chunk * kAutoMapReduceMaxChunks)
               ? SummaryStrategy::MapReduce
               : SummaryStrategy::Stream;
}

// The reading pass: how many chunks, how many tokens.
Status planChunks(detail::SummaryJob& job, detail::JobPlan& plan, const Document& document) {
    Chunker chunker = job.newChunker();
    int64_t chunks = 0, tokens = 0;
    job.reportReading(0, document.info().bytes);
    for (;;) {
        if (job.stop().stop_requested())
            return makeError(ErrorCode::Cancelled, "summarization stopped while reading");
        auto chunk = chunker.next();
        if (!chunk)
            return chunk.error();
        if (!*chunk)
            break;
        ++chunks;
        tokens += (*chunk)->tokens;
        job.reportReading(chunker.bytesRead(), document.info().bytes);
    }
    job.reportReading(document.info().bytes, document.info().bytes);
    if (chunks == 0) {
        return makeError(ErrorCode::InvalidArgument,
                         document.info().path.string() + ": has no text to summarize");
    }
    plan.chunks = chunks;
    plan.documentTokens = tokens;
    return {};
}

Error sessionMismatch(const std::filesystem::path& dir, const std::string& what) {
    return makeError(ErrorCode::InvalidArgument,
                     dir.string() + ": this session was made for " + what +
                         "; delete the folder or choose another session folder");
}

}  // namespace

std::string summarySessionKey(const DocumentInfo& source, const SummaryOptions& options,
                              const std::string& modelFingerprint) {
    const std::string identity =
        detail::optionsJson(options, options.strategy).dump() + "|" + modelFingerprint;
    return source.sha256.substr(0, 16) + "-" + hex64(fnv1a64(identity)).substr(0, 8);
}

Result<SummaryResult> summarize(Model& model, const Tokenizer& tokenizer, const Document& document,
                                const SummaryOptions& requested,
                                const std::filesystem::path& sessionDir,
                                const SummaryProgressFn& progress, std::stop_token stop) {
    if (!ChatTemplate::supports(tokenizer)) {
        return makeError(ErrorCode::Unsupported,
                         "summarize: the tokenizer has no <start_of_turn>/<end_of_turn> pieces "
                         "(an instruction-tuned model is needed)");
    }
    if (requested.maxTokens < 0 || requested.chunkTokens < 0 ||
        (requested.chunkTokens > 0 && requested.chunkTokens < 8) || requested.prefillChunk < 1) {
        return makeError(ErrorCode::InvalidArgument,
                         "summarize: max tokens and chunk tokens must be positive (chunks at "
                         "least 8 tokens)");
    }
    const std::optional<std::string> language = normalizeSummaryLanguage(requested.language);
    if (!language) {
        return makeError(ErrorCode::InvalidArgument,
                         "summarize: the language must be auto or a language name of letters "
                         "(got '" +
                             requested.language + "')");
    }
    SummaryOptions options = requested;
    options.language = *language;
    if (options.maxTokens == 0)
        options.maxTokens = defaultMaxTokens(options.length);
    const nlohmann::json optionsId = detail::optionsJson(requested, requested.strategy);
    const std::string fingerprint = model.info().fingerprint;

    // The session: new, resumed, or finished already.
    detail::Session session;
    bool resumed = false;
    if (!sessionDir.empty()) {
        auto loaded = detail::loadSession(sessionDir);
        if (!loaded)
            return loaded.error();
        if (*loaded) {
            session = std::move(**loaded);
            if (session.document.value("sha256", "") != document.info().sha256)
                return sessionMismatch(sessionDir, "another document or version of it");
            if (session.model != fingerprint)
                return sessionMismatch(sessionDir, "another model");
            if (session.options != optionsId)
                return sessionMismatch(sessionDir, "other summary options");
            if (session.done) {
                try {
                    SummaryResult result = detail::resultFromJson(session.result);
                    result.source = document.info();
                    if (progress) {
                        SummaryProgress p;
                        p.phase = SummaryPhase::Done;
                        p.tokensDone = p.tokensTotal = result.documentTokens;
                        p.resumed = true;
                        progress(p);
                    }
                    return result;
                } catch (const nlohmann::json::exception& e) {
                    return makeError(
                        ErrorCode::Corrupt,
                        (sessionDir / detail::kSessionFile).string() + ": " + e.what());
                }
            }
            resumed = true;
        } else {
            session.document = detail::documentJson(document.info());
            session.model = fingerprint;
            session.options = optionsId;
        }
    }

    // The language to ask for: as the interrupted run did (sessions from before languages ran
    // without one), as given, or detected from the document.
    if (resumed) {
        options.language = session.language.empty() ? "unknown" : session.language;
    } else if (options.language == "auto") {
        auto detected = detectDocumentLanguage(document);
        if (!detected)
            return detected.error();
        options.language = *detected;
    }
    session.language = options.language;

    detail::Prompts prompts(tokenizer, options);
    SummaryStrategy strategy = options.strategy;
    if (resumed) {
        strategy = parseSummaryStrategy(session.strategy).value_or(SummaryStrategy::Auto);
    } else if (strategy == SummaryStrategy::Auto) {
        auto chosen = chooseStrategy(model, tokenizer, prompts, document, options);
        if (!chosen)
            return chosen.error();
        strategy = *chosen;
    }
    if (strategy == SummaryStrategy::Auto)
        return makeError(ErrorCode::Corrupt, (sessionDir / detail::kSessionFile).string() +
                                                 ": unknown strategy '" + session.strategy + "'");
    session.strategy = summaryStrategyName(strategy);

    detail::SummaryJob job(model, tokenizer, document, options, sessionDir, session, progress, stop,
                           resumed);
    if (auto s = job.save(); !s)
        return s.error();
    detail::JobPlan plan = budgets(model, prompts, options, strategy);
    job.setPlan(plan);
    if (auto s = planChunks(job, plan, document); !s)
        return s.error().code == ErrorCode::Cancelled ? job.cancelled() : s.error();
    job.setPlan(plan);
    logger(Component::Engine)
        ->info("summarize {}: {} tokens in {} chunks of <= {} tokens, strategy {}{}",
               document.info().path.filename().string(), plan.documentTokens, plan.chunks,
               plan.chunkTokens, summaryStrategyName(strategy), resumed ? " (resuming)" : "");

    SummaryResult result;
    int levels = 0;
    Result<std::string> summary = std::string();
    switch (strategy) {
        case SummaryStrategy::Stream:
            summary = detail::runStream(job);
            break;
        case SummaryStrategy::MapReduce:
            summary = detail::runMapReduce(job, levels);
            break;
        case SummaryStrategy::Refine:
            summary = detail::runRefine(job);
            break;
        case SummaryStrategy::Auto:
            break;
    }
    if (!summary) {
        if (summary.error().code != ErrorCode::Cancelled)
            (void)job.save();  // keep the finished chunks for a retry; the first error matters
        return summary.error();
    }

    result.source = document.info();
    result.requested = requested.strategy;
    result.strategy = strategy;
    result.options = options;
    result.options.chunkTokens = plan.chunkTokens;
    result.options.language = *language;
    result.language = options.language;
    result.modelFingerprint = fingerprint;
    result.documentTokens = plan.documentTokens;
    result.chunks = plan.chunks;
    result.combineLevels = levels;
    if (strategy != SummaryStrategy::Stream)
        result.sections = session.chunks;
    result.summary = std::move(*summary);
    result.resumed = resumed;
    result.seconds = job.totalSeconds();
    if (!sessionDir.empty()) {
        session.done = true;
        session.result = detail::resultJson(result);
        session.hasSnapshot = false;
        std::error_code ignored;
        std::filesystem::remove(sessionDir / detail::kStreamSnapshot, ignored);
        if (auto s = job.save(); !s)
            return s.error();
    }
    job.setPhase(SummaryPhase::Done, 0, 0);
    return result;
}

}  // namespace griffin
