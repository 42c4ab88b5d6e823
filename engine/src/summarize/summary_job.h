// SPDX-License-Identifier: Apache-2.0
// SummaryJob: what the strategies share — the model, the prompts, the session, generation with
// cancellation, and progress with rate and ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "griffin/chunker.h"
#include "griffin/summarize.h"
#include "summarize/prompts.h"
#include "summarize/session.h"

namespace griffin::detail {

inline constexpr double kCheckpointIntervalS = 2.0;

struct JobPlan {
    int64_t chunkTokens = 0;     // the chunker's budget
    int64_t chunks = 0;          // how many it makes of the document
    int64_t documentTokens = 0;  // their tokens together
    int64_t partTokens = 0;      // cap of a chunk summary / intermediate combination
    int64_t combineTokens = 0;   // budget of the part summaries in one combining prompt
};

// Not thread-safe; lives for one summarize() call.
class SummaryJob {
public:
    SummaryJob(Model& model, const Tokenizer& tokenizer, const Document& document,
               const SummaryOptions& options, std::filesystem::path dir, Session& session,
               const SummaryProgressFn& progress, std::stop_token stop, bool resumed);

    Model& model() { return m_model; }
    const Tokenizer& tokenizer() const { return m_tokenizer; }
    const Prompts& prompts() const { return m_prompts; }
    const SummaryOptions& options() const { return m_options; }
    Session& session() { return m_session; }
    const std::filesystem::path& dir() const { return m_dir; }
    bool persistent() const { return !m_dir.empty(); }
    const JobPlan& plan() const { return m_plan; }
    void setPlan(const JobPlan& plan);
    Chunker newChunker() const { return Chunker(m_document, m_tokenizer, m_plan.chunkTokens); }

    // Prefills `ids` into `state`; `documentTokens` of them count as document progress.
    // Cancelled when the stop token fires (the state then holds the forward passes done).
    Status prefill(State& state, std::span<const int32_t> ids, int64_t documentTokens);
    // Generates an answer to `prompt` (fed into `state`) of at most `maxTokens`; returns it
    // trimmed. `documentTokens` of the prompt count as progress; `salt` varies the seed of
    // non-greedy sampling per call. A stop is ErrorCode::Cancelled.
    Result<std::string> generate(State& state, std::span<const int32_t> prompt, int64_t maxTokens,
                                 int64_t documentTokens, uint64_t salt);

    // Writes session.json (no-op without a folder).
    Status save();
    // save() if the last one is kCheckpointIntervalS old: finished work is saved at least that
    // often (a stop or an error saves everything anyway), without rewriting a long session's
    // file after every chunk.
    Status checkpoint();
    // Marks the session interrupted, saves it and returns the Cancelled error to return.
    Error cancelled();

    void setPhase(SummaryPhase phase, int64_t item, int64_t items, int level = 0);
    // Document tokens finished (or skipped because an earlier run did them).
    void addDocumentTokens(int64_t tokens, bool skipped = false);
    void reportReading(int64_t bytesDone, int64_t bytesTotal);
    double elapsedS() const;
    // Wall time of this run and the earlier runs of the session.
    double totalSeconds() const { return m_baseSeconds + elapsedS(); }
    std::stop_token stop() const { return m_stop; }

private:
    void report();

    Model& m_model;
    const Tokenizer& m_tokenizer;
    const Document& m_document;
    SummaryOptions m_options;
    Prompts m_prompts;
    std::filesystem::path m_dir;
    Session& m_session;
    const SummaryProgressFn& m_progressFn;
    std::stop_token m_stop;
    JobPlan m_plan;
    SummaryProgress m_progress;
    double m_baseSeconds = 0.0;
    int64_t m_tokensDone = 0;     // finished document tokens (incl. skipped)
    int64_t m_tokensSkipped = 0;  // of which done by earlier runs
    int64_t m_inFlight = 0;       // document tokens of the current call done so far
    std::chrono::steady_clock::time_point m_started, m_processingStarted, m_lastSave;
};

}  // namespace griffin::detail
