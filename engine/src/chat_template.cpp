// SPDX-License-Identifier: Apache-2.0
#include "griffin/chat_template.h"

namespace griffin {
namespace {

const char* roleName(Role role) {
    return role == Role::User ? "user" : "model";
}

Status checkAlternation(std::span<const ChatMessage> messages) {
    for (size_t i = 0; i < messages.size(); ++i) {
        const Role expected = i % 2 == 0 ? Role::User : Role::Model;
        if (messages[i].role != expected) {
            return makeError(ErrorCode::InvalidArgument, "chat template: message " +
                                                             std::to_string(i + 1) + " has role '" +
                                                             roleName(messages[i].role) +
                                                             "'; roles must alternate user, "
                                                             "model, ... starting with user");
        }
    }
    return {};
}

// The content of message i with the system prompt folded into the first user turn.
std::string contentOf(std::span<const ChatMessage> messages, size_t i, std::string_view system) {
    std::string text = ChatTemplate::trim(messages[i].content);
    const std::string sys = ChatTemplate::trim(system);
    if (i == 0 && !sys.empty())
        text = sys + "\n\n" + text;
    return text;
}

}  // namespace

std::string ChatTemplate::trim(std::string_view text) {
    const char* ws = " \t\n\r\f\v";
    const size_t b = text.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    const size_t e = text.find_last_not_of(ws);
    return std::string(text.substr(b, e - b + 1));
}

Result<std::string> ChatTemplate::render(std::span<const ChatMessage> messages,
                                         std::string_view system, bool addGenerationPrompt) {
    if (auto s = checkAlternation(messages); !s)
        return s.error();
    std::string out = "<bos>";
    for (size_t i = 0; i < messages.size(); ++i) {
        out += std::string("<start_of_turn>") + roleName(messages[i].role) + "\n" +
               contentOf(messages, i, system) + "<end_of_turn>\n";
    }
    if (addGenerationPrompt)
        out += "<start_of_turn>model\n";
    return out;
}

void ChatTemplate::appendTurn(std::vector<int32_t>& ids, std::string_view role,
                              std::string_view text) const {
    ids.push_back(*m_tokenizer.startOfTurnId());
    const auto encoded = m_tokenizer.encode(std::string(role) + "\n" + std::string(text));
    ids.insert(ids.end(), encoded.begin(), encoded.end());
}

Result<std::vector<int32_t>> ChatTemplate::encode(std::span<const ChatMessage> messages,
                                                  std::string_view system,
                                                  bool addGenerationPrompt) const {
    if (auto s = checkAlternation(messages); !s)
        return s.error();
    std::vector<int32_t> ids{m_tokenizer.bosId()};
    for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i].role == Role::Model && !messages[i].tokens.empty()) {
            appendTurn(ids, "model", "");
            ids.insert(ids.end(), messages[i].tokens.begin(), messages[i].tokens.end());
        } else {
            appendTurn(ids, roleName(messages[i].role), contentOf(messages, i, system));
        }
        ids.push_back(*m_tokenizer.endOfTurnId());
        const auto newline = m_tokenizer.encode("\n");
        ids.insert(ids.end(), newline.begin(), newline.end());
    }
    if (addGenerationPrompt)
        appendTurn(ids, "model", "");
    return ids;
}

std::vector<int32_t> ChatTemplate::continuation(std::optional<int32_t> pending,
                                                std::string_view userText) const {
    std::vector<int32_t> ids;
    if (pending)
        ids.push_back(*pending);
    ids.push_back(*m_tokenizer.endOfTurnId());
    const std::string user = trim(userText);
    if (user.empty()) {
        const auto newline = m_tokenizer.encode("\n");
        ids.insert(ids.end(), newline.begin(), newline.end());
        return ids;
    }
    const auto head = m_tokenizer.encode("\n");
    ids.insert(ids.end(), head.begin(), head.end());
    appendTurn(ids, "user", user);
    ids.push_back(*m_tokenizer.endOfTurnId());
    const auto newline = m_tokenizer.encode("\n");
    ids.insert(ids.end(), newline.begin(), newline.end());
    appendTurn(ids, "model", "");
    return ids;
}

}  // namespace griffin
