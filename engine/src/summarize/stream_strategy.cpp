// SPDX-License-Identifier: Apache-2.0
// Stream: memory stays constant however long the document is, because only the fixed-size
// State, one chunk of text and a clone of the State (for a restartable answer) are held.
#include <chrono>

#include "summarize/strategies.h"

namespace griffin::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Snapshot of `state` holding `chunksDone` whole chunks plus `tokensDone` ids of the next.
Status saveSnapshot(SummaryJob& job, const State& state, int64_t chunksDone, int64_t tokensDone) {
    if (!job.persistent())
        return {};
    if (auto s = job.model().saveState(state, job.dir() / kStreamSnapshot); !s)
        return s;
    Session& session = job.session();
    session.streamChunksDone = chunksDone;
    session.streamChunkTokensDone = tokensDone;
    session.hasSnapshot = true;
    return job.save();
}

}  // namespace

Result<std::string> runStream(SummaryJob& job) {
    Model& model = job.model();
    Session& session = job.session();
    const Prompts& prompts = job.prompts();
    const int64_t chunks = job.plan().chunks;
    State state;
    int64_t skipChunks = 0, skipTokens = 0;
    if (job.persistent() && session.hasSnapshot) {
        auto loaded = model.loadState(job.dir() / kStreamSnapshot);
        if (!loaded)
            return loaded.error();
        state = std::move(*loaded);
        skipChunks = session.streamChunksDone;
        skipTokens = session.streamChunkTokensDone;
    } else {
        state = model.newState();
        job.setPhase(SummaryPhase::Prefilling, 1, chunks);
        if (auto s = job.prefill(state, prompts.streamPrefix(), 0); !s)
            return s.error().code == ErrorCode::Cancelled ? job.cancelled() : s.error();
    }
    const std::vector<int32_t> join = prompts.chunkJoin();
    Chunker chunker = job.newChunker();
    auto lastSnapshot = Clock::now();
    for (int64_t i = 0;; ++i) {
        auto chunk = chunker.next();
        if (!chunk)
            return chunk.error();
        if (!*chunk)
            break;
        if (i < skipChunks) {
            job.addDocumentTokens((*chunk)->tokens, true);
            continue;
        }
        std::vector<int32_t> ids = i > 0 ? join : std::vector<int32_t>{};
        const std::vector<int32_t> text = prompts.encode((*chunk)->text);
        ids.insert(ids.end(), text.begin(), text.end());
        const int64_t from = i == skipChunks ? skipTokens : 0;
        if (from > static_cast<int64_t>(ids.size()))
            return makeError(ErrorCode::Corrupt, (job.dir() / kSessionFile).string() +
                                                     ": the snapshot does not match the document");
        if (from > 0)
            job.addDocumentTokens((*chunk)->tokens * from / static_cast<int64_t>(ids.size()), true);
        const int64_t startPosition = state.position() - from;
        job.setPhase(SummaryPhase::Prefilling, i + 1, chunks);
        const std::span<const int32_t> rest = std::span(ids).subspan(static_cast<size_t>(from));
        const int64_t restDocTokens =
            (*chunk)->tokens - (*chunk)->tokens * from / static_cast<int64_t>(ids.size());
        if (auto s = job.prefill(state, rest, restDocTokens); !s) {
            if (s.error().code != ErrorCode::Cancelled)
                return s.error();
            if (auto saved = saveSnapshot(job, state, i, state.position() - startPosition); !saved)
                return saved.error();
            return job.cancelled();
        }
        const double sinceSnapshot =
            std::chrono::duration<double>(Clock::now() - lastSnapshot).count();
        if (job.persistent() && sinceSnapshot >= job.options().snapshotIntervalS) {
            if (auto saved = saveSnapshot(job, state, i + 1, 0); !saved)
                return saved.error();
            lastSnapshot = Clock::now();
        }
    }
    job.setPhase(SummaryPhase::Finishing, 0, 0);
    State beforeAnswer = state.clone();
    auto answer = job.generate(state, prompts.streamSuffix(), job.options().maxTokens, 0, 0);
    if (!answer && answer.error().code == ErrorCode::Cancelled) {
        if (auto saved = saveSnapshot(job, beforeAnswer, chunks, 0); !saved)
            return saved.error();
        return job.cancelled();
    }
    if (answer && job.persistent()) {
        // For follow-up questions with the document still in the state: the request and the
        // summary, its turn closed, after the document (a short prefill; failures only lose
        // this convenience).
        std::vector<int32_t> ids = prompts.streamSuffix();
        const std::vector<int32_t> closed = prompts.closedAnswer(*answer);
        ids.insert(ids.end(), closed.begin(), closed.end());
        if (model.prefill(beforeAnswer, ids))
            (void)model.saveState(beforeAnswer, job.dir() / kStreamFinalState);
    }
    return answer;
}

}  // namespace griffin::detail
