// SPDX-License-Identifier: Apache-2.0
// Conversation: what a chat is made of (messages, parameters, model), as stored in its JSON file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QVector>

#include "generation_params.h"
#include "griffin/result.h"

struct MessageStats {
    int promptTokens = 0;
    int generatedTokens = 0;
    double ttftMs = 0.0;
    double prefillTokensPerS = 0.0;
    double decodeTokensPerS = 0.0;
    QString stopReason;  // eos, end_of_turn, max_tokens, stop_string, cancelled
    qint64 seed = 0;

    bool operator==(const MessageStats&) const = default;
};

struct ChatMessageData {
    enum class Role { User, Model };
    Role role = Role::User;
    QString text;
    QDateTime time;
    std::optional<MessageStats> stats;  // model messages
    // Exact token ids of a model reply as sampled (lets the engine continue without drift).
    std::vector<int32_t> tokens;
    // Safety annotations (filled by the safety filters; an empty list until then).
    std::vector<std::string> safety;

    bool operator==(const ChatMessageData&) const = default;
};

struct Conversation {
    static constexpr int kSchema = 1;

    QString id;  // file name stem: [A-Za-z0-9-]{1,64}
    QString title;
    QDateTime created;
    QDateTime updated;
    QString modelName;
    QString modelFingerprint;
    QString systemPrompt;
    GenerationParams params;
    QVector<ChatMessageData> messages;

    // A new empty conversation with a fresh id.
    static Conversation create(const GenerationParams& params, const QString& systemPrompt);
    // The title for a conversation whose first user message is `text` (first line, shortened).
    static QString titleFrom(const QString& text);

    bool operator==(const Conversation&) const = default;
};

// JSON (de)serialisation; parse errors name the problem (the caller adds the file name).
std::string conversationToJson(const Conversation& conversation);
griffin::Result<Conversation> conversationFromJson(const std::string& text);
// Markdown export: a title, then each message under a heading.
QString conversationToMarkdown(const Conversation& conversation);
bool isValidConversationId(const QString& id);

Q_DECLARE_METATYPE(MessageStats)
Q_DECLARE_METATYPE(Conversation)
