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

bool isRefusedBySafety(const ChatMessageData& message) {
    if (message.role != ChatMessageData::Role::User)
        return false;
    for (const std::string& note : message.safety) {
        const json j = json::parse(note, nullptr, false);
        if (j.is_object() && j.value("action", std::string()) == "refuse")
            return true;
    }
    return false;
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

std::vector<std::vector<ChatMessageData>> detachVersions(QVector<ChatMessageData>& messages,
                                                         qsizetype i) {
    std::vector<std::vector<ChatMessageData>> versions;
    if (i < 0 || i >= messages.size())
        return versions;
    std::vector<ChatMessageData> current(messages.begin() + i, messages.end());
    versions = std::move(current.front().otherBranches);
    const size_t at =
        std::min(static_cast<size_t>(std::max(0, current.front().branchIndex)), versions.size());
    current.front().otherBranches.clear();
    current.front().branchIndex = 0;
    versions.insert(versions.begin() + static_cast<ptrdiff_t>(at), std::move(current));
    messages.resize(i);
    return versions;
}

void attachVersions(ChatMessageData& first, std::vector<std::vector<ChatMessageData>> versions) {
    first.branchIndex = static_cast<int>(versions.size());
    first.otherBranches = std::move(versions);
}

bool switchVersion(QVector<ChatMessageData>& messages, qsizetype i, int version) {
    if (i < 0 || i >= messages.size() || version < 0 || version >= messages[i].branchCount())
        return false;
    if (version == messages[i].branchIndex)
        return true;
    auto versions = detachVersions(messages, i);
    std::vector<ChatMessageData> chosen = std::move(versions[static_cast<size_t>(version)]);
    versions.erase(versions.begin() + version);
    chosen.front().otherBranches = std::move(versions);
    chosen.front().branchIndex = version;
    for (ChatMessageData& m : chosen) messages.push_back(std::move(m));
    return true;
}

bool dropVersion(QVector<ChatMessageData>& messages, qsizetype i) {
    if (i < 0 || i >= messages.size() || messages[i].branchCount() < 2)
        return false;
    const int shown = messages[i].branchIndex;
    auto versions = detachVersions(messages, i);
    versions.erase(versions.begin() + shown);
    std::vector<ChatMessageData> chosen = std::move(versions.back());
    versions.pop_back();
    attachVersions(chosen.front(), std::move(versions));
    for (ChatMessageData& m : chosen) messages.push_back(std::move(m));
    return true;
}

namespace {

json messagesToJson(const std::vector<ChatMessageData>& list);

json messageToJson(const ChatMessageData& m) {
    json jm = {{"role", m.role == ChatMessageData::Role::User ? "user" : "model"},
               {"text", m.text.toStdString()},
               {"time", iso(m.time)},
               {"safety", m.safety}};
    if (m.stats)
        jm["stats"] = statsToJson(*m.stats);
    if (!m.tokens.empty())
        jm["tokens"] = m.tokens;
    if (!m.sources.empty())
        jm["sources"] = m.sources;
    if (!m.otherBranches.empty()) {
        json branches = json::array();
        for (const auto& version : m.otherBranches) branches.push_back(messagesToJson(version));
        jm["branches"] = std::move(branches);
        jm["branch_index"] = m.branchIndex;
    }
    return jm;
}

json messagesToJson(const std::vector<ChatMessageData>& list) {
    json out = json::array();
    for (const ChatMessageData& m : list) out.push_back(messageToJson(m));
    return out;
}

}  // namespace

std::string conversationToJson(const Conversation& c) {
    json messages = json::array();
    for (const ChatMessageData& m : c.messages) messages.push_back(messageToJson(m));
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
        {"safety_filters", c.safetyEnabled},
        {"params",
         {{"temperature", p.temperature},
          {"top_k", p.topK},
          {"top_p", p.topP},
          {"min_p", p.minP},
          {"repeat_penalty", p.repeatPenalty},
          {"max_tokens", p.maxTokens},
          {"seed", p.seed}}},
        {"messages", messages}};
    if (c.kind != QLatin1String("chat"))
        j["kind"] = c.kind.toStdString();
    if (c.source) {
        const SummarySourceData& src = *c.source;
        json sections = json::array();
        for (const SummarySectionData& sec : src.sections) {
            sections.push_back({{"index", sec.index},
                                {"first_line", sec.firstLine},
                                {"last_line", sec.lastLine},
                                {"first_page", sec.firstPage},
                                {"last_page", sec.lastPage},
                                {"tokens", sec.tokens},
                                {"summary", sec.summary.toStdString()}});
        }
        j["source"] = {
            {"path", src.path.toStdString()},         {"bytes", src.bytes},
            {"sha256", src.sha256.toStdString()},     {"encoding", src.encoding.toStdString()},
            {"strategy", src.strategy.toStdString()}, {"length", src.length.toStdString()},
            {"focus", src.focus.toStdString()},       {"document_tokens", src.documentTokens},
            {"chunks", std::move(sections)},          {"summary", src.summary.toStdString()}};
        if (!src.language.isEmpty())
            j["source"]["language"] = src.language.toStdString();
    }
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

// Branches nest (a version may branch again); the depth is bounded so a hostile file cannot
// exhaust the stack.
constexpr int kMaxBranchDepth = 64;

ChatMessageData messageFromJson(const json& m, int depth) {
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
    if (m.contains("sources")) {
        d.sources = m.at("sources").get<std::vector<qint64>>();
        for (qint64 index : d.sources) {
            if (index < 0 || index > (qint64{1} << 40))
                throw std::runtime_error("'sources' holds a section index out of range");
        }
    }
    if (m.contains("branches")) {
        if (depth >= kMaxBranchDepth)
            throw std::runtime_error("branches nested too deeply");
        for (const json& version : m.at("branches")) {
            std::vector<ChatMessageData> list;
            for (const json& vm : version) list.push_back(messageFromJson(vm, depth + 1));
            if (list.empty() || list.front().role != d.role)
                throw std::runtime_error("a branch must start with a message of the same role");
            d.otherBranches.push_back(std::move(list));
        }
        d.branchIndex = m.at("branch_index").get<int>();
        if (d.branchIndex < 0 || d.branchIndex > static_cast<int>(d.otherBranches.size()))
            throw std::runtime_error("'branch_index' out of range");
    }
    return d;
}

}  // namespace

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
                                          " is not supported by this version (it reads 1 and 2)");
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
        c.safetyEnabled = j.value("safety_filters", true);
        c.kind = QString::fromStdString(j.value("kind", std::string("chat")));
        if (c.kind != QLatin1String("chat") && c.kind != QLatin1String("summary"))
            throw std::runtime_error("unknown kind '" + c.kind.toStdString() + "'");
        if (j.contains("source")) {
            const json& src = j.at("source");
            SummarySourceData d;
            d.path = str(src, "path");
            d.bytes = src.at("bytes").get<qint64>();
            d.sha256 = str(src, "sha256");
            d.encoding = str(src, "encoding");
            d.language = QString::fromStdString(src.value("language", std::string()));
            d.strategy = str(src, "strategy");
            d.length = str(src, "length");
            d.focus = str(src, "focus");
            d.documentTokens = src.at("document_tokens").get<qint64>();
            for (const json& sec : src.at("chunks")) {
                SummarySectionData e;
                e.index = sec.at("index").get<qint64>();
                e.firstLine = sec.at("first_line").get<qint64>();
                e.lastLine = sec.at("last_line").get<qint64>();
                e.firstPage = sec.value("first_page", 0);
                e.lastPage = sec.value("last_page", 0);
                e.tokens = sec.at("tokens").get<qint64>();
                e.summary = str(sec, "summary");
                d.sections.push_back(std::move(e));
            }
            d.summary = str(src, "summary");
            c.source = std::move(d);
        }
        const json& p = j.at("params");
        c.params.temperature = bounded(p, "temperature", 0.0, 100.0);
        c.params.topK = bounded(p, "top_k", 0, 1 << 30);
        c.params.topP = bounded(p, "top_p", 0.0, 1.0);
        c.params.minP = bounded(p, "min_p", 0.0, 1.0);
        c.params.repeatPenalty = bounded(p, "repeat_penalty", 0.01, 100.0);
        c.params.maxTokens = bounded(p, "max_tokens", 1, 1 << 24);
        c.params.seed = p.at("seed").get<qint64>();
        for (const json& m : j.at("messages")) c.messages.push_back(messageFromJson(m, 0));
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
