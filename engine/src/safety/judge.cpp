// SPDX-License-Identifier: Apache-2.0
// The model-judged filter: one forward pass over a policy question on a forked state.
#include <algorithm>
#include <cmath>

#include "griffin/chat_template.h"
#include "griffin/model.h"
#include "griffin/safety_judge.h"
#include "griffin/state.h"
#include "griffin/tokenizer.h"

namespace griffin::safety {

std::string judgeQuestion(std::string_view text, std::string_view policy) {
    std::string q = "Does the following text violate the policy against ";
    q += policy;
    q += "? Answer Yes or No.\n\nText:\n";
    q += text;
    return q;
}

int32_t answerToken(const Tokenizer& tokenizer, std::string_view word) {
    const std::string exact(word);
    const std::string spaced = "\xE2\x96\x81" + exact;  // "▁" + word
    int32_t withSpace = -1;
    for (int32_t id = 0; id < tokenizer.vocabSize(); ++id) {
        const std::string piece = tokenizer.piece(id);
        if (piece == exact)
            return id;
        if (withSpace < 0 && piece == spaced)
            withSpace = id;
    }
    if (withSpace >= 0)
        return withSpace;
    const std::vector<int32_t> ids = tokenizer.encode(word);
    return ids.empty() ? -1 : ids.front();
}

Result<std::vector<int32_t>> judgePrompt(const Tokenizer& tokenizer, std::string_view text,
                                         std::string_view policy, bool freshState) {
    if (!ChatTemplate::supports(tokenizer)) {
        return makeError(ErrorCode::InvalidArgument,
                         "the model-judged filter needs a chat tokenizer (with "
                         "<start_of_turn>/<end_of_turn>)");
    }
    const ChatMessage question(Role::User, judgeQuestion(text, policy));
    auto ids = ChatTemplate(tokenizer).encode({&question, 1}, "", true);
    if (!ids)
        return ids.error();
    if (!freshState && !ids->empty() && ids->front() == tokenizer.bosId())
        ids->erase(ids->begin());
    return ids;
}

double softmaxAt(std::span<const float> logits, int32_t token) {
    if (logits.empty() || token < 0 || static_cast<size_t>(token) >= logits.size())
        return 0.0;
    const double maxLogit = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (float l : logits) sum += std::exp(static_cast<double>(l) - maxLogit);
    return std::exp(static_cast<double>(logits[static_cast<size_t>(token)]) - maxLogit) / sum;
}

Result<JudgeResult> judge(Model& model, const Tokenizer& tokenizer, const State* from,
                          std::string_view text, const JudgeOptions& options) {
    if (!(options.threshold >= 0.0 && options.threshold <= 1.0)) {
        return makeError(
            ErrorCode::InvalidArgument,
            "the judge threshold must lie in [0, 1], not " + std::to_string(options.threshold));
    }
    JudgeResult result;
    result.yesToken = answerToken(tokenizer, "Yes");
    result.noToken = answerToken(tokenizer, "No");
    if (result.yesToken < 0 || result.noToken < 0 || result.yesToken == result.noToken) {
        return makeError(ErrorCode::InvalidArgument,
                         "the tokenizer has no distinct pieces for the answers Yes and No");
    }
    const bool fresh = from == nullptr || from->position() == 0;
    auto ids = judgePrompt(tokenizer, text, options.policy, fresh);
    if (!ids)
        return ids.error();
    State state = from != nullptr ? from->clone() : model.newState();
    auto logits = model.prefill(state, *ids);
    if (!logits)
        return logits.error();
    result.yesProbability = softmaxAt(*logits, result.yesToken);
    result.noProbability = softmaxAt(*logits, result.noToken);
    result.violates = result.yesProbability >= options.threshold;
    return result;
}

}  // namespace griffin::safety
