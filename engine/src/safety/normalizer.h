// SPDX-License-Identifier: Apache-2.0
// Normalisation of text for rule matching: NFKC with case folding (which also drops default
// ignorable characters such as zero-width spaces), common letter/digit substitutions inside
// words ("b0mb"), separators between single letters ("k.i.l.l", "k i l l") removed, and runs
// of whitespace collapsed to one space (or one newline). Keeps a map from every normalised byte
// back to the original text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace griffin::safety {

struct NormalizedText {
    std::string text;            // normalised UTF-8
    std::vector<size_t> origin;  // [text.size() + 1] byte offset in the original text
};

NormalizedText normalizeForMatching(std::string_view original);

}  // namespace griffin::safety
