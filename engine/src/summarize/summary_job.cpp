// SPDX-License-Identifier: Apache-2.0
#include "summarize/summary_job.h"

#include "griffin/chat_template.h"
#include "griffin/generator.h"

namespace griffin::detail {
namespace {

using Clock = std::chrono::steady_clock;

double secondsBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

SummaryJob::SummaryJob(Model& model, const Tokenizer& tokenizer, const Document& document,
                       const SummaryOptions& options, std::filesystem::path dir, Session& session,
                       const SummaryProgressFn& progress, std::stop_token stop, bool resumed)
    : m_model(model),
      m_tokenizer(tokenizer),
      m_document(document),
      m_options(options),
      m_prompts(tokenizer, options),
      m_dir(std::move(dir)),
      m_session(session),
      m_progressFn(progress),
      m_stop(std::move(stop)),
      m_baseSeconds(session.seconds),
      m_started(Clock::now()),
      m_processingStarted(m_started),
      m_lastSave(m_started) {
    m_progress.resumed = resumed;
}

void SummaryJob::setPlan(const JobPlan& plan) {
    m_plan = plan;
    m_progress.tokensTotal = plan.documentTokens;
    m_processingStarted = Clock::now();
}

double SummaryJob::elapsedS() const {
    return secondsBetween(m_started, Clock::now());
}

Status SummaryJob::save() {
    if (!persistent())
        return {};
    m_session.seconds = totalSeconds();
    m_lastSave = Clock::now();
    return saveSession(m_dir, m_session);
}

Status SummaryJob::checkpoint() {
    if (secondsBetween(m_lastSave, Clock::now()) < kCheckpointIntervalS)
        return {};
    return save();
}

Error SummaryJob::cancelled() {
    m_session.interrupted = true;
    if (!persistent())
        return makeError(ErrorCode::Cancelled, "summarization stopped");
    if (auto s = save(); !s)
        return s.error();
    return makeError(ErrorCode::Cancelled,
                     "summarization stopped; progress saved in " + m_dir.string());
}

void SummaryJob::setPhase(SummaryPhase phase, int64_t item, int64_t items, int level) {
    m_progress.phase = phase;
    m_progress.chunk = item;
    m_progress.chunks = items;
    m_progress.level = level;
    report();
}

void SummaryJob::addDocumentTokens(int64_t tokens, bool skipped) {
    m_tokensDone += tokens;
    if (skipped)
        m_tokensSkipped += tokens;
    m_inFlight = 0;
}

void SummaryJob::reportReading(int64_t bytesDone, int64_t bytesTotal) {
    m_progress.phase = SummaryPhase::Reading;
    m_progress.bytesDone = bytesDone;
    m_progress.bytesTotal = bytesTotal;
    report();
}

void SummaryJob::report() {
    if (!m_progressFn)
        return;
    const auto now = Clock::now();
    SummaryProgress& p = m_progress;
    p.tokensDone = std::min(m_tokensDone + m_inFlight, std::max(p.tokensTotal, int64_t{0}));
    const double seconds = secondsBetween(m_processingStarted, now);
    const int64_t processed = p.tokensDone - m_tokensSkipped;
    p.tokensPerS = seconds > 0.0 ? static_cast<double>(processed) / seconds : 0.0;
    p.etaS = p.tokensPerS > 0.0 && processed > 0 &&
                     (p.phase == SummaryPhase::Prefilling || p.phase == SummaryPhase::Summarizing)
                 ? static_cast<double>(p.tokensTotal - p.tokensDone) / p.tokensPerS
                 : -1.0;
    m_progressFn(p);
}

Status SummaryJob::prefill(State& state, std::span<const int32_t> ids, int64_t documentTokens) {
    ForwardOptions forward;
    forward.chunkSize = m_options.prefillChunk;
    forward.stop = m_stop;
    const auto total = static_cast<int64_t>(ids.size());
    forward.progress = [&](int64_t done, int64_t) {
        m_inFlight = total > 0 ? documentTokens * done / total : 0;
        report();
    };
    auto logits = m_model.prefill(state, ids, forward);
    if (!logits)
        return logits.error();
    addDocumentTokens(documentTokens);
    return {};
}

Result<std::string> SummaryJob::generate(State& state, std::span<const int32_t> prompt,
                                         int64_t maxTokens, int64_t documentTokens, uint64_t salt) {
    GenerateOptions g;
    g.sampling = m_options.sampling;
    // Each call its own seed, fixed by its place in the job, so a resumed run draws the same.
    g.sampling.seed = m_options.sampling.seed ^ (salt * 0x9E3779B97F4A7C15ull);
    g.maxTokens = maxTokens;
    g.stopAtEndOfTurn = true;
    g.stop = m_stop;
    g.prefillChunk = m_options.prefillChunk;
    const auto total = static_cast<int64_t>(prompt.size());
    g.prefillProgress = [&](int64_t done, int64_t) {
        m_inFlight = total > 0 ? documentTokens * done / total : 0;
        report();
    };
    g.onToken = [&](const TokenEvent& e) {
        if (e.id >= 0)
            ++m_progress.generatedTokens;
        report();
    };
    auto result = Generator(m_model, m_tokenizer).generate(state, prompt, g);
    if (!result)
        return result.error();
    if (result->stats.stopReason == StopReason::Cancelled)
        return makeError(ErrorCode::Cancelled, "generation cancelled");
    addDocumentTokens(documentTokens);
    return ChatTemplate::trim(result->text);
}

}  // namespace griffin::detail
