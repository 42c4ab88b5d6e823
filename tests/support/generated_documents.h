// SPDX-License-Identifier: Apache-2.0
// Seeded generated documents for the summarisation tests: Markdown with sections, plain text
// with long one-line paragraphs, and text in scripts without spaces (CJK, emoji).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace griffin::test {

// Words the demo model knows; sentences of 4-12 of them.
inline std::string generatedSentence(std::mt19937& rng) {
    static const std::vector<std::string> kWords = {
        "the",   "river",  "runs",  "past",   "an",      "old",   "house",  "where",
        "a",     "friend", "keeps", "bright", "light",   "music", "water",  "garden",
        "stone", "bird",   "sings", "every",  "morning", "story", "window", "tree",
        "café",  "naïve",  "city",  "small",  "quiet",   "of",    "and",    "mountain"};
    std::uniform_int_distribution<size_t> word(0, kWords.size() - 1);
    std::uniform_int_distribution<int> count(4, 12);
    std::string s;
    const int n = count(rng);
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + kWords[word(rng)];
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s + (rng() % 5 == 0 ? "!" : ".");
}

inline std::string generatedParagraph(std::mt19937& rng, int sentences) {
    std::string p;
    for (int i = 0; i < sentences; ++i) p += (i ? " " : "") + generatedSentence(rng);
    return p;
}

// Markdown: `sections` sections of a heading and 1-4 paragraphs of 1-6 sentences; some
// paragraphs wrap over several lines, some are one long line.
inline std::string generatedMarkdown(uint32_t seed, int sections) {
    std::mt19937 rng(seed);
    std::string doc = "# Generated document " + std::to_string(seed) + "\n\n";
    for (int s = 0; s < sections; ++s) {
        doc += "## Section " + std::to_string(s + 1) + "\n\n";
        const int paragraphs = 1 + static_cast<int>(rng() % 4);
        for (int p = 0; p < paragraphs; ++p) {
            std::string para = generatedParagraph(rng, 1 + static_cast<int>(rng() % 6));
            if (rng() % 2 == 0) {  // wrap at ~60 columns
                for (size_t at = 60; at < para.size(); at += 60) {
                    const size_t space = para.find(' ', at);
                    if (space == std::string::npos)
                        break;
                    para[space] = '\n';
                    at = space;
                }
            }
            doc += para + "\n\n";
        }
    }
    return doc;
}

// Plain text of `paragraphs` one-line paragraphs of `sentences` sentences each.
inline std::string generatedPlainText(uint32_t seed, int paragraphs, int sentences) {
    std::mt19937 rng(seed);
    std::string doc;
    for (int p = 0; p < paragraphs; ++p) doc += generatedParagraph(rng, sentences) + "\n\n";
    return doc;
}

// Text without spaces in multi-byte characters (2-, 3- and 4-byte UTF-8), with 。 sentence ends.
inline std::string generatedWideText(uint32_t seed, int characters) {
    static const std::vector<std::string> kChars = {"日", "本", "語", "文", "章", "é", "ß",
                                                    "😀",  "🌍",  "한", "국", "ü",  "ж", "中"};
    std::mt19937 rng(seed);
    std::string doc;
    for (int i = 0; i < characters; ++i) {
        doc += kChars[rng() % kChars.size()];
        if (rng() % 17 == 0)
            doc += "。";
    }
    return doc + "\n";
}

}  // namespace griffin::test
