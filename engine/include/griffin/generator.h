// SPDX-License-Identifier: Apache-2.0
// Generator: prompt ids -> streamed text, with stop conditions, cancellation and statistics.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/model.h"
#include "griffin/result.h"
#include "griffin/sampler.h"
#include "griffin/tokenizer.h"

namespace griffin {

enum class StopReason { Eos, EndOfTurn, MaxTokens, StopString, Cancelled };
// "eos", "end_of_turn", "max_tokens", "stop_string", "cancelled" (the --stats-json spelling).
const char* stopReasonName(StopReason reason);

struct GenerationStats {
    int64_t promptTokens = 0;
    int64_t generatedTokens = 0;  // sampled tokens, the stop token included
    StopReason stopReason = StopReason::MaxTokens;
    double ttftMs = 0.0;  // from the call until the first token was sampled
    double prefillTokensPerS = 0.0;
    double decodeTokensPerS = 0.0;  // over the tokens after the first
};

// One sampled token as the caller sees it. At the end of generation, text still held back (an
// incomplete character, a partial stop string that did not complete) arrives in a last event
// with id -1.
struct TokenEvent {
    int32_t id = 0;
    float probability = 0.0f;
    std::vector<TokenProbability> alternatives;  // when SamplingParams::topAlternatives > 0
    std::string text;  // text released with this token (may be empty while held back)
};

struct GenerateOptions {
    SamplingParams sampling;
    int64_t maxTokens = 512;
    // Generation stops at the first occurrence of any of these; the stop string itself and
    // anything after it are not emitted.
    std::vector<std::string> stopStrings;
    bool stopAtEndOfTurn = true;  // also stop on <end_of_turn> when the tokenizer has it
    std::stop_token stop;         // checked between prefill chunks and before every token
    int64_t prefillChunk = 256;
    std::function<void(int64_t, int64_t)> prefillProgress;  // (tokens done, total)
    std::function<void(const TokenEvent&)> onToken;         // every sampled token, in order
    // Tokens already in the state before `prompt` (earlier turns, the part of a reply a branch
    // keeps): the repetition penalty sees them as if they were part of the prompt.
    std::vector<int32_t> context;
    // The reply's first tokens, taken instead of sampled (no random number is drawn for them;
    // their events report their probability). Sampling continues after them, so a generation
    // with a forced prefix equals a branch that restores the state at that point.
    std::vector<int32_t> forced;
    // Reply tokens already shown before this call (a branch continuing a reply from a restored
    // state): the text decoder and the stop-string matcher continue after them, so the text of
    // the new tokens is what one uninterrupted generation would have released.
    std::vector<int32_t> emitted;
    // Called before reply token n is chosen, with the state that holds the prompt and reply
    // tokens [0, n): where snapshots for branching are taken. May be empty.
    std::function<void(int64_t, const State&)> beforeToken;
};

struct GenerationResult {
    GenerationStats stats;
    std::string text;             // everything emitted
    std::vector<int32_t> tokens;  // sampled ids, the stop token excluded
    // The last sampled token when the State has not consumed it and it is part of the reply
    // (stop reason max_tokens, stop_string or cancelled); ChatTemplate::continuation feeds it.
    std::optional<int32_t> pending;
};

// Not thread-safe. Keeps references to the model and tokenizer.
class Generator {
public:
    Generator(Model& model, const Tokenizer& tokenizer) : m_model(model), m_tokenizer(tokenizer) {}

    // Feeds `prompt` into `state` (which may already hold a conversation) and samples until a
    // stop condition. Errors: InvalidArgument for an empty prompt or a tokenizer larger than the
    // model's vocabulary; a model error aborts generation. Cancellation is not an error: the
    // result has stopReason Cancelled and the text produced so far.
    Result<GenerationResult> generate(State& state, std::span<const int32_t> prompt,
                                      const GenerateOptions& options);

private:
    Model& m_model;
    const Tokenizer& m_tokenizer;
};

// Holds back text that might be the start of a stop string. Not thread-safe.
class StopStringMatcher {
public:
    explicit StopStringMatcher(std::vector<std::string> stops);
    // Adds text; returns what can be released. Sets matched() when a stop string completes (the
    // released text then ends right before it).
    std::string push(std::string_view text);
    // The held-back text (after generation ended without a match).
    std::string flush();
    bool matched() const { return m_matched; }

private:
    std::vector<std::string> m_stops;
    std::string m_held;
    bool m_matched = false;
};

}  // namespace griffin
