// SPDX-License-Identifier: Apache-2.0
#include "services/conversation.h"

#include <QRegularExpression>
#include <QUuid>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

std::string iso(const QDateTime& t) {
    return t.toUTC().toString(Qt::ISODateWithMs).toStdString();
}

QDateTime parseTime(const json& j, const char* key) {
    const QDateTime t = QDateTime::fromString(QString::fromStdString(j.at(key).get<std::string>()),
                                              Qt::ISODateWithMs);
    if (!t.isValid())
        throw std::runtime_error(std::string("'") + key + "' is not an ISO time");
    return t;
}

QString str(const json& j, const char* key) {
    return QString::fromStdString(j.at(key).get<std::string>());
}

template <class T>
T bounded(const json& j, const char* key, T lo, T hi) {
    const T v = j.at(key).get<T>();
    if (!(v >= lo && v <= hi))
        throw std::runtime_error(std::string("'") + key + "' out of range");
    return v;
}

json statsToJson(const MessageStats& s) {
    return {{"prompt_tokens", s.promptTokens},
            {"generated_tokens", s.generatedTokens},
            {"ttft_ms", s.ttftMs},
            {"prefill_tokens_per_s", s.prefillTokensPerS},
            {"decode_tokens_per_s", s.decodeTokensPerS},
            {"stop_reason", s.stopReason.toStdString()},
            {"seed", s.seed}};
}

MessageStats statsFromJson(const json& j) {
    MessageStats s;
    s.promptTokens = j.at("prompt_tokens").get<int>();
    s.generatedTokens = j.at("generated_tokens").get<int>();
    s.ttftMs = j.at("ttft_ms").get<double>();
    s.prefillTokensPerS = j.at("prefill_tokens_per_s").get<double>();
    s.decodeTokensPerS = j.at("decode_tokens_per_s").get<double>();
    s.stopReason = str(j, "stop_reason");
    s.seed = j.value("seed", qint64{0});
    return s;
}

}  // namespace

bool isValidConversationId(const QString& id) {
    static const QRegularExpression kPattern("^[A-Za-z0-9-]{1,64}$");
    return kPattern.match(id).hasMatch();
}

Conversation Conversation::create(const GenerationParams& params, const QString& systemPrompt) {
    Conversation c;
    c.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    c.title = QStringLiteral("New conversation");
    c.created = c.updated = QDateTime::currentDateTimeUtc();
    c.params = params;
    c.systemPrompt = systemPrompt;
    return c;
}

QString Conversation::titleFrom(const QString& text) {
    QString line = text.trimmed().section('\n', 0, 0).simplified();
    if (line.size() > 60)
        line = line.left(57) + QStringLiteral("…");
    return line.isEmpty() ? QStringLiteral("New conversation") : line;
}

std::string conversationToJson(const Conversation& c) {
    json messages = json::array();
    for (const ChatMessageData& m : c.messages) {
        json jm = {{"role", m.role == ChatMessageData::Role::User ? "user" : "model"},
                   {"text", m.text.toStdString()},
                   {"time", iso(m.time)},
                   {"safety", m.safety}};
        if (m.stats)
            jm["stats"] = statsToJson(*m.stats);
        if (!m.tokens.empty())
            jm["tokens"] = m.tokens;
        messages.push_back(std::move(jm));
    }
    const GenerationParams& p = c.params;
    json j = {
        {"schema", Conversation::kSchema},
        {"id", c.id.toStdString()},
        {"title", c.title.toStdString()},
        {"created", iso(c.created)},
        {"updated", iso(c.updated)},
        {"model",
         {{"name", c.modelName.toStdString()}, {"fingerprint", c.modelFingerprint.toStdString()}}},
        {"system_prompt", c.systemPrompt.toStdString()},
        {"params",
         {{"temperature", p.temperature},
          {"top_k", p.topK},
          {"top_p", p.topP},
          {"min_p", p.minP},
          {"repeat_penalty", p.repeatPenalty},
          {"max_tokens", p.maxTokens},
          {"seed", p.seed}}},
        {"messages", messages}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

griffin::Result<Conversation> conversationFromJson(const std::string& text) {
    using griffin::ErrorCode;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        return griffin::makeError(ErrorCode::Corrupt,
                                  std::string("not valid JSON (") + e.what() + ")");
    }
    try {
        if (!j.is_object())
            throw std::runtime_error("not a JSON object");
        const int schema = j.at("schema").get<int>();
        if (schema > Conversation::kSchema || schema < 1) {
            return griffin::makeError(ErrorCode::Unsupported,
                                      "schema version " + std::to_string(schema) +
                                          " is not supported by this version (it reads 1)");
        }
        Conversation c;
        c.id = str(j, "id");
        if (!isValidConversationId(c.id))
            throw std::runtime_error("'id' is not a valid id");
        c.title = str(j, "title");
        c.created = parseTime(j, "created");
        c.updated = parseTime(j, "updated");
        c.modelName = str(j.at("model"), "name");
        c.modelFingerprint = str(j.at("model"), "fingerprint");
        c.systemPrompt = str(j, "system_prompt");
        const json& p = j.at("params");
        c.params.temperature = bounded(p, "temperature", 0.0, 100.0);
        c.params.topK = bounded(p, "top_k", 0, 1 << 30);
        c.params.topP = bounded(p, "top_p", 0.0, 1.0);
        c.params.minP = bounded(p, "min_p", 0.0, 1.0);
        c.params.repeatPenalty = bounded(p, "repeat_penalty", 0.01, 100.0);
        c.params.maxTokens = bounded(p, "max_tokens", 1, 1 << 24);
        c.params.seed = p.at("seed").get<qint64>();
        for (const json& m : j.at("messages")) {
            ChatMessageData d;
            const std::string role = m.at("role").get<std::string>();
            if (role != "user" && role != "model")
                throw std::runtime_error("bad role '" + role + "'");
            d.role = role == "user" ? ChatMessageData::Role::User : ChatMessageData::Role::Model;
            d.text = str(m, "text");
            d.time = parseTime(m, "time");
            if (m.contains("stats"))
                d.stats = statsFromJson(m.at("stats"));
            if (m.contains("tokens"))
                d.tokens = m.at("tokens").get<std::vector<int32_t>>();
            d.safety = m.value("safety", std::vector<std::string>{});
            c.messages.push_back(std::move(d));
        }
        return c;
    } catch (const std::exception& e) {
        return griffin::makeError(ErrorCode::Corrupt, e.what());
    }
}

QString conversationToMarkdown(const Conversation& c) {
    QString out = QStringLiteral("# %1\n\n").arg(c.title);
    out += QStringLiteral("*Model: %1 — exported %2*\n\n")
               .arg(c.modelName.isEmpty() ? QStringLiteral("unknown") : c.modelName,
                    QDateTime::currentDateTime().toString(Qt::ISODate));
    if (!c.systemPrompt.isEmpty())
        out += QStringLiteral("**System prompt:** %1\n\n").arg(c.systemPrompt);
    for (const ChatMessageData& m : c.messages) {
        out += m.role == ChatMessageData::Role::User ? QStringLiteral("## You\n\n")
                                                     : QStringLiteral("## Model\n\n");
        out += m.text + QStringLiteral("\n\n");
    }
    return out;
}
