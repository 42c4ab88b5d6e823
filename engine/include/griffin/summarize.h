// SPDX-License-Identifier: Apache-2.0
// Long-document summarisation: the stream, map-reduce and refine strategies over a Document,
// with progress, cancellation and a session folder from which an interrupted run resumes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/document.h"
#include "griffin/model.h"
#include "griffin/result.h"
#include "griffin/sampler.h"
#include "griffin/tokenizer.h"

namespace griffin {

enum class SummaryStrategy {
    Auto,       // by the document's estimated length (see SummaryOptions::strategy)
    Stream,     // the whole document through one state, then the instruction: constant memory
    MapReduce,  // each chunk summarised alone (states forked from the instruction), then
                // the summaries combined, in levels for very long documents
    Refine,     // a running summary rewritten chunk by chunk
};
// "auto", "stream", "map-reduce", "refine"; parse returns nullopt for anything else.
const char* summaryStrategyName(SummaryStrategy strategy);
std::optional<SummaryStrategy> parseSummaryStrategy(std::string_view name);

enum class SummaryLength { Short, Page, Bullets, Detailed };
// "short", "page", "bullets", "detailed".
const char* summaryLengthName(SummaryLength length);
std::optional<SummaryLength> parseSummaryLength(std::string_view name);

// Greedy decoding (temperature 0): the same document and options give the same summary.
inline SamplingParams greedySampling() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

struct SummaryOptions {
    // Auto picks map-reduce when the document (estimated from a sample of its tokens) fits in
    // at most kAutoMapReduceMaxChunks chunks, else stream. Refine is used only when asked for.
    SummaryStrategy strategy = SummaryStrategy::Auto;
    SummaryLength length = SummaryLength::Short;
    std::string focus;  // optional question the summary should answer
    // The language to write the summary in: "auto" (detected from the document with
    // detectDocumentLanguage) or a language name (see normalizeSummaryLanguage). English and an
    // undetected language leave the instructions as they always were; any other language adds
    // "Write the summary in <Language>." to each of them.
    std::string language = "auto";
    // Cap on the final summary's tokens; 0 = by length (short 160, bullets 256, page 512,
    // detailed 1024).
    int64_t maxTokens = 0;
    // Tokens per chunk; 0 = automatic: map-reduce and refine fill the model's attention window
    // less the instruction and room for the answer; stream uses 2048.
    int64_t chunkTokens = 0;
    SamplingParams sampling = greedySampling();  // non-greedy runs derive a seed per call
    // Stream: a state snapshot is written at least this often (seconds) and on cancel.
    double snapshotIntervalS = 60.0;
    int64_t prefillChunk = 256;  // tokens per forward pass (ForwardOptions::chunkSize)
};

inline constexpr int64_t kAutoMapReduceMaxChunks = 64;

enum class SummaryPhase {
    Reading,      // splitting the document into chunks (bytes done / total)
    Prefilling,   // stream: the document flowing into the state
    Summarizing,  // map-reduce, refine: chunk `chunk` of `chunks`
    Combining,    // map-reduce: combining summaries, `chunk` of `chunks` at `level`
    Finishing,    // writing the final summary
    Done,
};
// "reading", "prefilling", "summarizing", "combining", "finishing", "done".
const char* summaryPhaseName(SummaryPhase phase);

struct SummaryProgress {
    SummaryPhase phase = SummaryPhase::Reading;
    int64_t chunk = 0;   // 1-based item of the phase (chunk or group), 0 when none
    int64_t chunks = 0;  // items in the phase
    int level = 0;       // Combining: 1 for summaries of chunk summaries, 2 above, ...
    int64_t bytesDone = 0, bytesTotal = 0;    // Reading
    int64_t tokensDone = 0, tokensTotal = 0;  // document tokens consumed / in all
    int64_t generatedTokens = 0;              // tokens written by the model in this run
    double tokensPerS = 0.0;  // document tokens per second in this run (generation included)
    double etaS = -1.0;       // seconds left for the document's chunks; -1 = unknown
    bool resumed = false;     // this run continues a saved session
};
// Called on the thread running summarize() at every change of phase or chunk, after every
// forward pass over document text (ForwardOptions::chunkSize tokens) and after every generated
// token: often, so throttle what is shown. Must not call back into the model.
using SummaryProgressFn = std::function<void(const SummaryProgress&)>;

struct SummarySection {
    int64_t index = 0;  // chunk index (0-based)
    int64_t firstLine = 0, lastLine = 0;
    int64_t beginByte = 0, endByte = 0;
    int64_t tokens = 0;
    std::string summary;  // refine: the running summary after this chunk
};

struct SummaryResult {
    DocumentInfo source;
    SummaryStrategy requested = SummaryStrategy::Auto;
    SummaryStrategy strategy = SummaryStrategy::MapReduce;  // as run
    SummaryOptions options;                                 // maxTokens and chunkTokens resolved
    std::string modelFingerprint;
    int64_t documentTokens = 0;
    int64_t chunks = 0;
    int combineLevels = 0;                 // map-reduce: levels of combining above the chunks
    std::vector<SummarySection> sections;  // map-reduce and refine: one per chunk
    std::string summary;
    // The language the instructions asked for: a known language ("german"), the name given in
    // SummaryOptions::language, or "unknown" (auto found none; also sessions from before
    // languages were recorded). options.language keeps what was requested ("auto").
    std::string language = "unknown";
    bool resumed = false;  // finished a run that had been interrupted
    double seconds = 0.0;  // wall time of the runs that produced it, together
};

// Summarises `document`. Not thread-safe: call from the thread that owns `model` (and the
// tokenizer, which needs <start_of_turn>/<end_of_turn>). With a non-empty `sessionDir` (created
// if missing) progress is kept there (session.json written atomically after every chunk, and
// for stream a state snapshot) so that a call with the same document, options and model
// resumes where an interrupted one stopped and produces the same summary; once finished, the
// folder holds the result and a repeated call returns it at once. A session of another
// document version, options or model is refused (InvalidArgument, naming the folder).
// When `stop` fires the call saves its progress and returns ErrorCode::Cancelled.
// Errors: those of Document reading and the model; InvalidArgument for bad options or a
// document without visible text; Corrupt for an unreadable session.json.
Result<SummaryResult> summarize(Model& model, const Tokenizer& tokenizer, const Document& document,
                                const SummaryOptions& options,
                                const std::filesystem::path& sessionDir = {},
                                const SummaryProgressFn& progress = {}, std::stop_token stop = {});

// A short name for the session of this document, options and model ("<sha256 prefix>-<hash>"),
// for a default session folder.
std::string summarySessionKey(const DocumentInfo& source, const SummaryOptions& options,
                              const std::string& modelFingerprint);

// ---- language ------------------------------------------------------------------------------

// The languages detectLanguage knows: "english", "german", "french", "spanish", "italian",
// "portuguese", "dutch".
const std::vector<std::string>& knownSummaryLanguages();

// Guesses the language of `text` from its most common function words ("the", "und", "les",
// ...), looking at most at its first kMaxLanguageSampleBytes. Returns one of
// knownSummaryLanguages(), or "unknown" when the evidence is weak: fewer than
// kMinLanguageWords words, too few function words, or no clear winner. Deterministic.
std::string detectLanguage(std::string_view text);
inline constexpr size_t kMaxLanguageSampleBytes = 64 * 1024;
inline constexpr int64_t kMinLanguageWords = 20;

// detectLanguage over the first ~64 KiB of the document's visible text. Errors: those of
// reading the document.
Result<std::string> detectDocumentLanguage(const Document& document);

// A SummaryOptions::language as given by a person: "auto" and the known languages by their
// English names, their own names ("deutsch", "français") or ISO 639-1 codes ("de"), in any
// case, become "auto" / the known name; any other name of 1-40 letters, spaces or hyphens (e.g.
// "Swedish") is kept as given (trimmed). nullopt for anything else (digits, punctuation, empty).
std::optional<std::string> normalizeSummaryLanguage(std::string_view name);

// The name to use in an instruction: "german" -> "German"; other names as given, with the
// first letter capitalised. Empty for "english", "unknown" and "auto" (nothing to add).
std::string summaryLanguageInstructionName(std::string_view language);

// ---- follow-up questions ----------------------------------------------------------------------

// The sections (e.g. SummarySection::summary texts) most relevant to `question`, best first:
// positions in `sections`, at most `k`, ranked by BM25 over lowercased word tokens (common
// function words and one-letter words ignored, a plural "s" folded), ties broken by position.
// Sections sharing no word with the question are left out, so the list may be empty.
std::vector<size_t> rankSectionsForQuestion(std::string_view question,
                                            const std::vector<std::string>& sections, size_t k);

// The result as pretty-printed JSON (keys: source {path, bytes, sha256, encoding, format},
// strategy, requested_strategy, options {length, focus, language, max_tokens, chunk_tokens},
// language (as used), model,
// document_tokens, chunk_count, combine_levels, chunks [{index, first_line, last_line,
// begin_byte, end_byte, tokens, summary}], summary, resumed, seconds) and as Markdown.
std::string summaryToJson(const SummaryResult& result);
std::string summaryToMarkdown(const SummaryResult& result);

}  // namespace griffin
