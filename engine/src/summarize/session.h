// SPDX-License-Identifier: Apache-2.0
// The summarisation session folder: how far a run got, so that the next run resumes.
//
//   session.json   (written atomically: temporary file, flush, rename)
//     schema 1, kind "griffin-summary-session", document {path, bytes, sha256, encoding,
//     format}, model (fingerprint), options {strategy (as requested), length, focus,
//     [language (unless "auto")], max_tokens, chunk_tokens, sampling}, strategy (as run),
//     language (as used: detected or given; absent in sessions older than it, which ran
//     without a language sentence, i.e. as "unknown"), status "running"|"done",
//     seconds (wall time of the runs so far), interrupted (a run was stopped),
//     chunks [{index, first_line, last_line, begin_byte, end_byte, tokens, summary}]
//       (finished chunk summaries, in order),
//     levels [[...same entries...]] (map-reduce: finished combined summaries per level),
//     stream {chunks_done, chunk_tokens_done, snapshot} (what stream.state holds, if it
//     exists), result (when done: the summaryToJson object).
//   stream.state   Model::saveState snapshot (stream strategy; removed when done).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "griffin/summarize.h"

namespace griffin::detail {

struct Session {
    nlohmann::json document;
    std::string model;
    nlohmann::json options;
    std::string strategy;
    std::string language;  // as used; empty = not recorded (an older session: "unknown")
    bool done = false;
    double seconds = 0.0;
    bool interrupted = false;
    std::vector<SummarySection> chunks;
    std::vector<std::vector<SummarySection>> levels;
    int64_t streamChunksDone = 0;
    int64_t streamChunkTokensDone = 0;
    bool hasSnapshot = false;
    nlohmann::json result;
};

inline constexpr const char* kSessionFile = "session.json";
inline constexpr const char* kStreamSnapshot = "stream.state";
// Stream, once finished: the state after the document, the request and the summary with its turn
// closed, so follow-up questions can continue with the document still in the state.
inline constexpr const char* kStreamFinalState = "final.state";

// The session in `dir`, or nullopt when it has none. Corrupt names the file.
Result<std::optional<Session>> loadSession(const std::filesystem::path& dir);
// Writes `dir`/session.json atomically (creating `dir`).
Status saveSession(const std::filesystem::path& dir, const Session& session);

// Writes `bytes` to `file` through a temporary file in the same folder and a rename.
Status writeFileAtomically(const std::filesystem::path& file, const std::string& bytes);

}  // namespace griffin::detail
