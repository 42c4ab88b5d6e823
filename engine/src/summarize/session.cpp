// SPDX-License-Identifier: Apache-2.0
#include "summarize/session.h"

#include <fstream>
#include <random>
#include <sstream>

#include "summarize/summary_json.h"

namespace griffin::detail {

Status writeFileAtomically(const std::filesystem::path& file, const std::string& bytes) {
    std::random_device rd;
    const std::filesystem::path tmp =
        file.parent_path() / ("." + file.filename().string() + ".tmp-" + std::to_string(rd()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            return makeError(ErrorCode::Io, file.string() + ": cannot write");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        return makeError(ErrorCode::Io, file.string() + ": cannot write (" + ec.message() + ")");
    }
    return {};
}

Result<std::optional<Session>> loadSession(const std::filesystem::path& dir) {
    const std::filesystem::path file = dir / kSessionFile;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        return std::optional<Session>();
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in)
        return makeError(ErrorCode::Io, file.string() + ": cannot read");
    try {
        const nlohmann::json j = nlohmann::json::parse(text.str());
        if (j.at("kind").get<std::string>() != "griffin-summary-session" ||
            j.at("schema").get<int>() != 1) {
            return makeError(ErrorCode::Corrupt,
                             file.string() + ": not a summary session of this version");
        }
        Session s;
        s.document = j.at("document");
        s.model = j.at("model").get<std::string>();
        s.options = j.at("options");
        s.strategy = j.at("strategy").get<std::string>();
        s.language = j.value("language", std::string());
        if (!s.language.empty() && s.language != "unknown" &&
            normalizeSummaryLanguage(s.language).value_or("auto") == "auto")
            return makeError(ErrorCode::Corrupt, file.string() + ": malformed language");
        s.done = j.at("status").get<std::string>() == "done";
        s.seconds = j.at("seconds").get<double>();
        s.interrupted = j.at("interrupted").get<bool>();
        for (const auto& c : j.at("chunks")) s.chunks.push_back(sectionFromJson(c));
        for (const auto& level : j.at("levels")) {
            s.levels.emplace_back();
            for (const auto& c : level) s.levels.back().push_back(sectionFromJson(c));
        }
        const nlohmann::json& stream = j.at("stream");
        s.streamChunksDone = stream.at("chunks_done").get<int64_t>();
        s.streamChunkTokensDone = stream.at("chunk_tokens_done").get<int64_t>();
        s.hasSnapshot = stream.at("snapshot").get<bool>();
        s.result = j.value("result", nlohmann::json());
        if (!s.document.is_object() || !s.options.is_object())
            return makeError(ErrorCode::Corrupt, file.string() + ": malformed document or options");
        if (s.done && s.result.is_null())
            return makeError(ErrorCode::Corrupt, file.string() + ": finished without a result");
        return std::optional<Session>(std::move(s));
    } catch (const nlohmann::json::exception& e) {
        return makeError(ErrorCode::Corrupt, file.string() + ": " + e.what());
    }
}

Status saveSession(const std::filesystem::path& dir, const Session& s) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return makeError(ErrorCode::Io, dir.string() + ": cannot create (" + ec.message() + ")");
    nlohmann::json chunks = nlohmann::json::array(), levels = nlohmann::json::array();
    for (const SummarySection& c : s.chunks) chunks.push_back(sectionJson(c));
    for (const auto& level : s.levels) {
        nlohmann::json entries = nlohmann::json::array();
        for (const SummarySection& c : level) entries.push_back(sectionJson(c));
        levels.push_back(entries);
    }
    nlohmann::json j = {{"schema", 1},
                        {"kind", "griffin-summary-session"},
                        {"document", s.document},
                        {"model", s.model},
                        {"options", s.options},
                        {"strategy", s.strategy},
                        {"status", s.done ? "done" : "running"},
                        {"seconds", s.seconds},
                        {"interrupted", s.interrupted},
                        {"chunks", chunks},
                        {"levels", levels},
                        {"stream",
                         {{"chunks_done", s.streamChunksDone},
                          {"chunk_tokens_done", s.streamChunkTokensDone},
                          {"snapshot", s.hasSnapshot}}}};
    if (!s.language.empty())
        j["language"] = s.language;
    if (!s.result.is_null())
        j["result"] = s.result;
    return writeFileAtomically(dir / kSessionFile,
                               j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace griffin::detail
