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
    // A model reply in a `summary` conversation: the sections (SummarySectionData::index) the
    // app chose as relevant to the question and gave the model with it, most relevant first.
    // Empty otherwise, and in files written before it existed.
    std::vector<qint64> sources;
    // Branches: the other versions of the conversation from this message on (an earlier reply
    // before Regenerate, the question before an Edit), each a list of messages that starts with
    // a sibling of this one and may branch again. This message's own version is number
    // branchIndex among otherBranches.size() + 1, in the order they were made.
    std::vector<std::vector<ChatMessageData>> otherBranches;
    int branchIndex = 0;

    int branchCount() const { return static_cast<int>(otherBranches.size()) + 1; }
    bool operator==(const ChatMessageData&) const = default;
};

// The versions of a conversation as a tree, kept in the active path `messages`:
// Moves messages[i..] out as an older version and returns every version at i (the caller
// appends the new version's first message at i and hands it these with attachVersions).
std::vector<std::vector<ChatMessageData>> detachVersions(QVector<ChatMessageData>& messages,
                                                         qsizetype i);
// Makes `first` the newest version at its position, after `versions`.
void attachVersions(ChatMessageData& first, std::vector<std::vector<ChatMessageData>> versions);
// Shows version v (0-based) at position i; false when there is no such version.
bool switchVersion(QVector<ChatMessageData>& messages, qsizetype i, int version);
// Drops the version shown at i (a reply that failed before any text) and shows the newest of
// the others; false when it is the only one.
bool dropVersion(QVector<ChatMessageData>& messages, qsizetype i);

// Where a `summary` conversation came from: the document and each chunk's summary with its
// source range (lines, or pages for a PDF).
struct SummarySectionData {
    qint64 index = 0;
    qint64 firstLine = 0, lastLine = 0;
    int firstPage = 0, lastPage = 0;  // 0 = not a PDF
    qint64 tokens = 0;
    QString summary;

    bool operator==(const SummarySectionData&) const = default;
};

struct SummarySourceData {
    QString path;
    qint64 bytes = 0;
    QString sha256;
    QString encoding;
    QString language;  // the summary's language ("german", "unknown"); empty in older files
    QString strategy;
    QString length;
    QString focus;
    qint64 documentTokens = 0;
    QVector<SummarySectionData> sections;
    QString summary;

    bool operator==(const SummarySourceData&) const = default;
};

struct Conversation {
    // 2: messages may carry "branches" (older versions from that message on); files of schema 1
    // are linear and load unchanged.
    static constexpr int kSchema = 2;

    QString id;  // file name stem: [A-Za-z0-9-]{1,64}
    QString title;
    QDateTime created;
    QDateTime updated;
    QString modelName;
    QString modelFingerprint;
    QString systemPrompt;
    GenerationParams params;
    QVector<ChatMessageData> messages;
    // The safety filters for this conversation (turned off only after a confirmation). Files
    // without the key load as on.
    bool safetyEnabled = true;
    // "chat", or "summary" for a document summary kept open for follow-up questions (then
    // `source` says what was summarised). Files without the key are chats.
    QString kind = QStringLiteral("chat");
    std::optional<SummarySourceData> source;

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
// Whether the input filter refused this (user) message: it stays in the conversation, marked,
// but is never sent to the model.
bool isRefusedBySafety(const ChatMessageData& message);

Q_DECLARE_METATYPE(MessageStats)
Q_DECLARE_METATYPE(Conversation)
