// SPDX-License-Identifier: Apache-2.0
// JSON forms of the summarisation types, shared by summaryToJson and the session file.
#pragma once

#include <nlohmann/json.hpp>

#include "griffin/summarize.h"

namespace griffin::detail {

nlohmann::json documentJson(const DocumentInfo& info);
// The options that decide the output (not snapshot timing or prefill chunking), canonically.
nlohmann::json optionsJson(const SummaryOptions& options, SummaryStrategy requested);
nlohmann::json sectionJson(const SummarySection& section);
// Throws nlohmann::json::exception on a missing or mistyped key.
SummarySection sectionFromJson(const nlohmann::json& j);

nlohmann::json resultJson(const SummaryResult& result);
// Throws nlohmann::json::exception on a missing or mistyped key. The options come back as far
// as resultJson keeps them (length, focus, token counts, strategy).
SummaryResult resultFromJson(const nlohmann::json& j);

}  // namespace griffin::detail
