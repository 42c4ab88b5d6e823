// SPDX-License-Identifier: Apache-2.0
// Refine: the first chunk is summarised like a one-chunk map-reduce; every later chunk is given
// with the summary so far, on a fork of a state holding the refine instruction.
#include "summarize/strategies.h"

namespace griffin::detail {

Result<std::string> runRefine(SummaryJob& job) {
    Session& session = job.session();
    const Prompts& prompts = job.prompts();
    const JobPlan& plan = job.plan();
    std::vector<SummarySection>& done = session.chunks;
    std::string summary = done.empty() ? std::string() : done.back().summary;
    if (static_cast<int64_t>(done.size()) >= plan.chunks) {
        job.addDocumentTokens(plan.documentTokens, true);
        return summary;
    }
    // Each prefix is prefilled once, when first needed.
    State firstPrefix, refinePrefix;
    bool haveFirst = false, haveRefine = false;
    const std::vector<int32_t> turnEnd = prompts.turnEnd();
    Chunker chunker = job.newChunker();
    for (;;) {
        auto chunk = chunker.next();
        if (!chunk)
            return chunk.error();
        if (!*chunk)
            break;
        const Chunk& c = **chunk;
        const auto i = static_cast<size_t>(c.index);
        if (i < done.size()) {
            if (auto s = checkSameChunk(job, done[i], c); !s)
                return s.error();
            job.addDocumentTokens(c.tokens, true);
            continue;
        }
        job.setPhase(SummaryPhase::Summarizing, c.index + 1, plan.chunks);
        State* prefix = i == 0 ? &firstPrefix : &refinePrefix;
        bool& have = i == 0 ? haveFirst : haveRefine;
        if (!have) {
            *prefix = job.model().newState();
            const auto ids = i == 0 ? prompts.mapPrefix(true) : prompts.refinePrefix();
            if (auto s = job.prefill(*prefix, ids, 0); !s)
                return s.error().code == ErrorCode::Cancelled ? job.cancelled() : s.error();
            have = true;
        }
        State state = prefix->clone();
        std::vector<int32_t> ids = i == 0 ? std::vector<int32_t>{} : prompts.refineBody(summary);
        const std::vector<int32_t> text = prompts.encode(c.text);
        ids.insert(ids.end(), text.begin(), text.end());
        ids.insert(ids.end(), turnEnd.begin(), turnEnd.end());
        auto updated = job.generate(state, ids, job.options().maxTokens, c.tokens,
                                    static_cast<uint64_t>(c.index));
        if (!updated) {
            if (updated.error().code == ErrorCode::Cancelled)
                return job.cancelled();
            return updated.error();
        }
        // An empty rewrite would lose everything so far: keep the previous summary then.
        if (!updated->empty())
            summary = std::move(*updated);
        done.push_back(sectionOf(c, summary));
        if (auto s = job.checkpoint(); !s)
            return s.error();
    }
    return summary;
}

}  // namespace griffin::detail
