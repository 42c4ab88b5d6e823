// SPDX-License-Identifier: Apache-2.0
#include "griffin/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace griffin {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

const char* stopReasonName(StopReason reason) {
    switch (reason) {
        case StopReason::Eos:
            return "eos";
        case StopReason::EndOfTurn:
            return "end_of_turn";
        case StopReason::MaxTokens:
            return "max_tokens";
        case StopReason::StopString:
            return "stop_string";
        case StopReason::Cancelled:
            return "cancelled";
    }
    return "?";
}

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
    for (std::string& s : stops) {
        if (!s.empty())
            m_stops.push_back(std::move(s));
    }
}

std::string StopStringMatcher::push(std::string_view text) {
    if (m_matched)
        return {};
    m_held += text;
    // A complete stop string: release what precedes the earliest one.
    size_t earliest = std::string::npos;
    for (const std::string& s : m_stops) earliest = std::min(earliest, m_held.find(s));
    if (earliest != std::string::npos) {
        m_matched = true;
        std::string out = m_held.substr(0, earliest);
        m_held.clear();
        return out;
    }
    // Otherwise hold back the longest suffix that is a prefix of some stop string.
    size_t hold = 0;
    for (const std::string& s : m_stops) {
        for (size_t len = std::min(s.size() - 1, m_held.size()); len > hold; --len) {
            if (m_held.compare(m_held.size() - len, len, s, 0, len) == 0) {
                hold = len;
                break;
            }
        }
    }
    std::string out = m_held.substr(0, m_held.size() - hold);
    m_held.erase(0, m_held.size() - hold);
    return out;
}

std::string StopStringMatcher::flush() {
    std::string out = m_matched ? std::string() : m_held;
    m_held.clear();
    return out;
}

Result<GenerationResult> Generator::generate(State& state, std::span<const int32_t> prompt,
                                             const GenerateOptions& options) {
    if (prompt.empty())
        return makeError(ErrorCode::InvalidArgument, "generate: empty prompt");
    if (m_tokenizer.vocabSize() > m_model.logitsSize()) {
        return makeError(ErrorCode::InvalidArgument,
                         "the tokenizer has " + std::to_string(m_tokenizer.vocabSize()) +
                             " pieces but the model only " + std::to_string(m_model.logitsSize()) +
                             " embedding rows: they do not belong together");
    }
    for (int32_t id : options.forced) {
        if (id < 0 || id >= m_tokenizer.vocabSize()) {
            return makeError(ErrorCode::InvalidArgument,
                             "generate: forced token id " + std::to_string(id) +
                                 " is outside the vocabulary (0.." +
                                 std::to_string(m_tokenizer.vocabSize() - 1) + ")");
        }
    }
    const auto started = Clock::now();
    GenerationResult result;
    GenerationStats& stats = result.stats;
    stats.promptTokens = static_cast<int64_t>(prompt.size());

    ForwardOptions forward;
    forward.chunkSize = options.prefillChunk;
    forward.progress = options.prefillProgress;
    forward.stop = options.stop;
    auto logits = m_model.prefill(state, prompt, forward);
    if (!logits) {
        if (logits.error().code != ErrorCode::Cancelled)
            return logits.error();
        stats.stopReason = StopReason::Cancelled;
        return result;
    }
    const double prefillSeconds = secondsSince(started);
    stats.prefillTokensPerS = static_cast<double>(prompt.size()) / std::max(prefillSeconds, 1e-9);

    Sampler sampler(options.sampling, m_tokenizer.vocabSize());
    IncrementalDecoder decoder(m_tokenizer);
    StopStringMatcher matcher(options.stopStrings);
    for (int32_t id : options.emitted) matcher.push(decoder.push(id));  // already shown
    std::vector<int32_t> recent(options.context.begin(), options.context.end());
    recent.insert(recent.end(), prompt.begin(), prompt.end());
    const auto endOfTurn = m_tokenizer.endOfTurnId();
    Clock::time_point firstTokenAt;
    // Greedy without penalty or alternatives needs only each step's argmax (Model::stepGreedy,
    // equal to the sampler's choice and probability).
    const SamplingParams& sp = options.sampling;
    const bool plainGreedy = sp.temperature <= 0.0f && sp.topAlternatives <= 0 &&
                             (sp.repeatPenalty == 1.0f || sp.repeatWindow <= 0) &&
                             m_tokenizer.vocabSize() <= m_model.logitsSize();
    std::optional<GreedyToken> greedyNext;
    stats.stopReason = StopReason::MaxTokens;

    for (int64_t n = 0; n < options.maxTokens; ++n) {
        if (options.stop.stop_requested()) {
            stats.stopReason = StopReason::Cancelled;
            break;
        }
        if (options.beforeToken)
            options.beforeToken(n, state);
        const size_t index = static_cast<size_t>(n);
        SampledToken token;
        if (greedyNext) {
            token.id = greedyNext->id;
            token.probability = greedyNext->probability;
            greedyNext.reset();
        } else {
            token = index < options.forced.size()
                        ? sampler.force(*logits, recent, options.forced[index])
                        : sampler.sample(*logits, recent);
        }
        ++stats.generatedTokens;
        if (n == 0) {
            firstTokenAt = Clock::now();
            stats.ttftMs = secondsSince(started) * 1000.0;
        }
        TokenEvent event{token.id, token.probability, std::move(token.alternatives), {}};
        const bool isEos = token.id == m_tokenizer.eosId();
        const bool isEot = options.stopAtEndOfTurn && endOfTurn && token.id == *endOfTurn;
        if (!isEos && !isEot) {
            result.tokens.push_back(token.id);
            event.text = matcher.push(decoder.push(token.id));
            result.text += event.text;
        }
        if (options.onToken)
            options.onToken(event);
        if (isEos || isEot) {
            stats.stopReason = isEos ? StopReason::Eos : StopReason::EndOfTurn;
            break;
        }
        result.pending = token.id;
        if (matcher.matched()) {
            stats.stopReason = StopReason::StopString;
            break;
        }
        if (n + 1 == options.maxTokens)
            break;  // the last token stays pending, not fed
        recent.push_back(token.id);
        if (plainGreedy && index + 1 >= options.forced.size()) {
            // Only the argmax is needed: the backend picks it without returning the logits.
            auto next = m_model.stepGreedy(state, token.id, m_tokenizer.vocabSize());
            if (!next)
                return next.error();
            greedyNext = *next;
        } else {
            logits = m_model.step(state, token.id);
            if (!logits)
                return logits.error();
        }
        result.pending.reset();
    }
    if (stats.stopReason != StopReason::StopString) {
        std::string tail = matcher.push(decoder.flush()) + matcher.flush();
        if (!tail.empty()) {
            result.text += tail;
            if (options.onToken)
                options.onToken(TokenEvent{-1, 0.0f, {}, tail});
        }
    }
    if (stats.generatedTokens > 1) {
        stats.decodeTokensPerS = static_cast<double>(stats.generatedTokens - 1) /
                                 std::max(secondsSince(firstTokenAt), 1e-9);
    }
    return result;
}

}  // namespace griffin
