// SPDX-License-Identifier: Apache-2.0
// The model-judged safety filter: the loaded instruction-tuned model is asked, in the chat
// template, whether a text violates a policy, and the probability of its first answer token being
// "Yes" is read from the logits. It runs on a copy of the given State (or on a fresh one), so the
// conversation's State is never changed. Off by default in the app; a judged finding only flags.
// Not thread-safe: call it on the thread that owns the Model.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"

namespace griffin {
class Model;
class State;
class Tokenizer;
}  // namespace griffin

namespace griffin::safety {

struct JudgeOptions {
    // What the model is asked about, in words (e.g. "hate speech and slurs").
    std::string policy;
    // The text violates the policy when P("Yes") >= threshold. Must lie in [0, 1].
    double threshold = 0.5;
};

struct JudgeResult {
    double yesProbability = 0.0;  // softmax over the whole logits row, at the "Yes" token
    double noProbability = 0.0;   // the same at the "No" token
    int32_t yesToken = -1;
    int32_t noToken = -1;
    bool violates = false;  // yesProbability >= threshold
};

// The user turn the model answers: the question, then the text.
std::string judgeQuestion(std::string_view text, std::string_view policy);

// The id of the piece a reply starting with `word` begins with: the piece spelled exactly `word`,
// else "▁" + `word`, else the first id of encoding `word` (a prefix such as "Y" in a small
// vocabulary). -1 when the vocabulary has none.
int32_t answerToken(const Tokenizer& tokenizer, std::string_view word);

// The ids fed to the judge's state: the question as a user turn and the generation prompt, with
// <bos> first when `freshState` (a forked conversation state already has it).
// REQUIRES: ChatTemplate::supports(tokenizer).
Result<std::vector<int32_t>> judgePrompt(const Tokenizer& tokenizer, std::string_view text,
                                         std::string_view policy, bool freshState);

// P(`token`) under a softmax over `logits` (computed in double, max-subtracted).
double softmaxAt(std::span<const float> logits, int32_t token);

// Asks the model about `text`. `from` is the State to fork (it is cloned and not modified; it
// should end at a turn boundary); null = a fresh state. Errors: InvalidArgument for a tokenizer
// without turn markers or answer pieces, or a threshold outside [0, 1]; the model's errors.
Result<JudgeResult> judge(Model& model, const Tokenizer& tokenizer, const State* from,
                          std::string_view text, const JudgeOptions& options);

}  // namespace griffin::safety
