// SPDX-License-Identifier: Apache-2.0
// The compiled form of a RuleSet (one entry per rule, same order).
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "griffin/safety.h"

namespace griffin::safety {

// Patterns are RE2 expressions over bytes (Latin-1 mode: one character per byte, as text is
// matched in its UTF-8 bytes). RE2 runs in time linear in the text and without recursion: with
// std::regex, before, a 50,000-character run of letters or digits overflowed the stack in the
// e-mail and card patterns, and a user pattern with nested repetition could take exponential
// time. Null, with `error` set, when the pattern is not valid RE2 syntax.
std::unique_ptr<re2::RE2> compilePattern(const std::string& pattern, bool caseSensitive,
                                         std::string& error);

// Calls fn(begin, end) with the byte range of capture `group` (0: the whole match) for each match
// of `re` in `text`, left to right. Each search resumes where the previous group ended, so
// characters a pattern matched after its group (to check what follows it) can begin the next
// match, and empty groups are skipped.
template <class Fn>
void forEachMatch(const re2::RE2& re, std::string_view text, int group, Fn&& fn) {
    const re2::StringPiece whole(text.data(), text.size());
    re2::StringPiece found[2];
    size_t pos = 0;
    while (pos <= text.size() &&
           re.Match(whole, pos, text.size(), re2::RE2::UNANCHORED, found, group + 1)) {
        const size_t matchBegin = static_cast<size_t>(found[0].data() - text.data());
        const re2::StringPiece& g = found[group];
        size_t next = matchBegin + 1;
        if (g.data() != nullptr && !g.empty()) {
            const size_t begin = static_cast<size_t>(g.data() - text.data());
            fn(begin, begin + g.size());
            next = std::max(next, begin + g.size());
        }
        pos = next;
    }
}

struct CompiledRule {
    std::vector<std::unique_ptr<re2::RE2>> expressions;  // on normalised text
    std::vector<std::string> allow;                      // normalised benign contexts
};

struct RuleSet::Compiled {
    std::vector<CompiledRule> rules;
};

// PII findings in the original text for the enabled types.
std::vector<Finding> findPii(std::string_view text, const std::vector<PiiType>& types);

}  // namespace griffin::safety
