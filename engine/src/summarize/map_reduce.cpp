// SPDX-License-Identifier: Apache-2.0
// Map-reduce: every chunk is summarised on a fork (State::clone) of one state that holds the
// instruction, so the instruction is prefilled once; the summaries are then combined in groups
// that fit the attention window, level by level, until one group holds them all.
#include "summarize/strategies.h"

namespace griffin::detail {
namespace {

// Consecutive groups whose combine entries fit `budget` tokens; at least two parts per group.
std::vector<std::vector<SummarySection>> groupParts(const Prompts& prompts,
                                                    const std::vector<SummarySection>& parts,
                                                    int64_t budget) {
    std::vector<std::vector<SummarySection>> groups;
    int64_t used = 0;
    for (const SummarySection& part : parts) {
        const bool open = !groups.empty();
        const int64_t tokens =
            open ? static_cast<int64_t>(prompts.combineEntry(part, groups.back().size() + 1).size())
                 : 0;
        if (!open || (groups.back().size() >= 2 && used + tokens > budget)) {
            groups.emplace_back();
            used = static_cast<int64_t>(prompts.combineEntry(part, 1).size());
        } else {
            used += tokens;
        }
        groups.back().push_back(part);
    }
    // A lone last part joins the group before it, so that every level halves the count.
    if (groups.size() >= 2 && groups.back().size() == 1) {
        groups[groups.size() - 2].push_back(groups.back().front());
        groups.pop_back();
    }
    return groups;
}

SummarySection combined(const std::vector<SummarySection>& group, int64_t index,
                        std::string summary) {
    SummarySection s;
    s.index = index;
    s.firstLine = group.front().firstLine;
    s.lastLine = group.back().lastLine;
    s.beginByte = group.front().beginByte;
    s.endByte = group.back().endByte;
    for (const SummarySection& part : group) s.tokens += part.tokens;
    s.summary = std::move(summary);
    return s;
}

Result<std::string> orCancel(SummaryJob& job, Result<std::string> r) {
    if (!r && r.error().code == ErrorCode::Cancelled)
        return job.cancelled();
    return r;
}

}  // namespace

SummarySection sectionOf(const Chunk& chunk, std::string summary) {
    SummarySection s;
    s.index = chunk.index;
    s.firstLine = chunk.firstLine;
    s.lastLine = chunk.lastLine;
    s.beginByte = chunk.beginByte;
    s.endByte = chunk.endByte;
    s.tokens = chunk.tokens;
    s.summary = std::move(summary);
    return s;
}

Status checkSameChunk(const SummaryJob& job, const SummarySection& saved, const Chunk& chunk) {
    if (saved.index == chunk.index && saved.beginByte == chunk.beginByte &&
        saved.endByte == chunk.endByte && saved.tokens == chunk.tokens)
        return {};
    return makeError(ErrorCode::Corrupt,
                     (job.dir() / kSessionFile).string() + ": chunk " +
                         std::to_string(chunk.index + 1) +
                         " differs from the saved one (another tokenizer or program version?); "
                         "delete the session folder to start over");
}

Result<std::string> runMapReduce(SummaryJob& job, int& levels) {
    Session& session = job.session();
    const Prompts& prompts = job.prompts();
    const JobPlan& plan = job.plan();
    const bool single = plan.chunks == 1;
    std::vector<SummarySection>& done = session.chunks;
    levels = 0;

    if (static_cast<int64_t>(done.size()) < plan.chunks) {
        State prefix = job.model().newState();
        job.setPhase(SummaryPhase::Summarizing, static_cast<int64_t>(done.size()) + 1, plan.chunks);
        if (auto s = job.prefill(prefix, prompts.mapPrefix(single), 0); !s)
            return s.error().code == ErrorCode::Cancelled ? job.cancelled() : s.error();
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
            State state = prefix.clone();
            std::vector<int32_t> ids = prompts.encode(c.text);
            ids.insert(ids.end(), turnEnd.begin(), turnEnd.end());
            auto summary =
                job.generate(state, ids, single ? job.options().maxTokens : plan.partTokens,
                             c.tokens, static_cast<uint64_t>(c.index));
            if (!summary)
                return orCancel(job, summary.error());
            done.push_back(sectionOf(c, std::move(*summary)));
            if (auto s = job.checkpoint(); !s)
                return s.error();
        }
        if (static_cast<int64_t>(done.size()) != plan.chunks)
            return makeError(ErrorCode::Internal, "map-reduce: chunk count changed while reading");
    } else {
        job.addDocumentTokens(plan.documentTokens, true);
    }
    if (single)
        return done.front().summary;

    std::vector<SummarySection> items = done;
    for (int level = 1;; ++level) {
        const auto groups = groupParts(prompts, items, plan.combineTokens);
        if (groups.size() == 1) {
            levels = level;
            job.setPhase(SummaryPhase::Combining, 1, 1, level);
            State state = job.model().newState();
            return orCancel(
                job, job.generate(state, prompts.combine(items, true), job.options().maxTokens, 0,
                                  static_cast<uint64_t>(level) << 32));
        }
        if (session.levels.size() < static_cast<size_t>(level))
            session.levels.emplace_back();
        std::vector<SummarySection>& out = session.levels[static_cast<size_t>(level - 1)];
        for (size_t g = out.size(); g < groups.size(); ++g) {
            job.setPhase(SummaryPhase::Combining, static_cast<int64_t>(g + 1),
                         static_cast<int64_t>(groups.size()), level);
            State state = job.model().newState();
            auto summary = job.generate(state, prompts.combine(groups[g], false), plan.partTokens,
                                        0, (static_cast<uint64_t>(level) << 32) | g);
            if (!summary)
                return orCancel(job, summary.error());
            out.push_back(combined(groups[g], static_cast<int64_t>(g), std::move(*summary)));
            if (auto s = job.checkpoint(); !s)
                return s.error();
        }
        items = out;
    }
}

}  // namespace griffin::detail
