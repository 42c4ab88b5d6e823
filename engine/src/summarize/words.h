// SPDX-License-Identifier: Apache-2.0
// Words of a text for the language detector and the section ranking: lowercased tokens and the
// common function words of the languages the detector knows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace griffin::detail {

// The words of `text`: runs of ASCII letters and digits and of non-ASCII UTF-8 characters
// (accented letters), lowercased (ASCII and the Latin-1 capitals À-Þ); everything else
// separates words. Only the first `maxBytes` bytes are looked at; a character cut there is
// dropped.
std::vector<std::string> lowercaseWords(std::string_view text, size_t maxBytes = SIZE_MAX);

// Bit i set: `word` (lowercase) is a common function word of knownSummaryLanguages()[i].
uint32_t functionWordLanguages(std::string_view word);

}  // namespace griffin::detail
