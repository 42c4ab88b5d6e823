// SPDX-License-Identifier: Apache-2.0
// ChatTemplate: the Gemma instruction-tuned turn format (griffin-spec.md §5.4), rendered as text
// and as token ids, for whole conversations and for incremental continuation of a State.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "griffin/result.h"
#include "griffin/tokenizer.h"

namespace griffin {

enum class Role { User, Model };

struct ChatMessage {
    ChatMessage() = default;
    ChatMessage(Role r, std::string c, std::vector<int32_t> t = {})
        : role(r), content(std::move(c)), tokens(std::move(t)) {}

    Role role = Role::User;
    std::string content;
    // For model messages: the reply's token ids exactly as sampled. When present they are used
    // instead of encoding `content`, so a State that generated them continues without drift.
    std::vector<int32_t> tokens;
};

// Stateless apart from the tokenizer it keeps a reference to; thread-compatible.
class ChatTemplate {
public:
    // Requires: the tokenizer has <start_of_turn> and <end_of_turn> (check with supports()).
    explicit ChatTemplate(const Tokenizer& tokenizer) : m_tokenizer(tokenizer) {}
    static bool supports(const Tokenizer& tokenizer) {
        return tokenizer.startOfTurnId().has_value() && tokenizer.endOfTurnId().has_value();
    }

    // The conversation as text: "<bos>" then per message "<start_of_turn>{role}\n{trimmed
    // content}<end_of_turn>\n", then "<start_of_turn>model\n" if `addGenerationPrompt`. A non-empty
    // `system` prompt is put, followed by a blank line, at the start of the first user turn.
    // Roles must alternate starting with the user: otherwise InvalidArgument.
    static Result<std::string> render(std::span<const ChatMessage> messages,
                                      std::string_view system, bool addGenerationPrompt);

    // The same as token ids: BOS and the turn markers are inserted as ids, message text is
    // encoded without special tokens (a literal "<end_of_turn>" typed by the user stays text).
    Result<std::vector<int32_t>> encode(std::span<const ChatMessage> messages,
                                        std::string_view system, bool addGenerationPrompt) const;

    // Ids that continue a State which has just generated a model reply: `pending` is the last
    // sampled token the State has not consumed yet when it belongs to the reply (stop reason
    // max_tokens), closing <end_of_turn>\n, then the next user turn and the generation prompt.
    // With an empty `userText` only the reply is closed (ending after "<end_of_turn>\n").
    std::vector<int32_t> continuation(std::optional<int32_t> pending,
                                      std::string_view userText) const;

    // Whitespace trimmed at both ends (as the template does with every message).
    static std::string trim(std::string_view text);

private:
    void appendTurn(std::vector<int32_t>& ids, std::string_view role, std::string_view text) const;
    const Tokenizer& m_tokenizer;
};

}  // namespace griffin
