// SPDX-License-Identifier: Apache-2.0
// Which sections of a summarised document a follow-up question is about: BM25 over the words of
// the question and of each section's summary.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "griffin/summarize.h"
#include "summarize/words.h"

namespace griffin {
namespace {

// BM25's usual constants: term-frequency saturation and length normalisation.
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

// Words of questions about a document that say nothing about its content.
bool isQuestionWord(std::string_view w) {
    static const std::set<std::string_view> kWords = {
        "what",      "does",      "do",      "did",      "say",     "says",     "said",
        "about",     "how",       "why",     "when",     "where",   "who",      "whom",
        "whose",     "tell",      "me",      "my",       "we",      "our",      "your",
        "please",    "document",  "section", "sections", "part",    "parts",    "chunk",
        "chunks",    "text",      "mention", "mentions", "explain", "describe", "summary",
        "summarise", "summarize", "any",     "some"};
    return kWords.contains(w);
}

// The words that count: no function or question words, no single letters, "costs" -> "cost".
std::vector<std::string> terms(std::string_view text) {
    std::vector<std::string> out;
    for (std::string& w : detail::lowercaseWords(text)) {
        if (w.size() < 2 || detail::functionWordLanguages(w) != 0 || isQuestionWord(w))
            continue;
        if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's')
            w.pop_back();
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace

std::vector<size_t> rankSectionsForQuestion(std::string_view question,
                                            const std::vector<std::string>& sections, size_t k) {
    const std::vector<std::string> queryList = terms(question);
    const std::set<std::string> query(queryList.begin(), queryList.end());
    if (query.empty() || sections.empty() || k == 0)
        return {};
    std::vector<std::map<std::string, int>> counts(sections.size());
    std::vector<double> lengths(sections.size(), 0.0);
    std::map<std::string, int> documentFrequency;
    double totalLength = 0.0;
    for (size_t i = 0; i < sections.size(); ++i) {
        for (std::string& w : terms(sections[i])) {
            lengths[i] += 1.0;
            if (query.contains(w) && counts[i][w]++ == 0)
                ++documentFrequency[w];
        }
        totalLength += lengths[i];
    }
    const auto n = static_cast<double>(sections.size());
    const double averageLength = std::max(totalLength / n, 1.0);
    std::vector<std::pair<double, size_t>> scored;
    for (size_t i = 0; i < sections.size(); ++i) {
        double score = 0.0;
        for (const auto& [term, tf] : counts[i]) {
            const double df = documentFrequency[term];
            const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
            const double f = tf;
            score +=
                idf * f * (kK1 + 1.0) / (f + kK1 * (1.0 - kB + kB * lengths[i] / averageLength));
        }
        if (score > 0.0)
            scored.emplace_back(score, i);
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<size_t> out;
    for (size_t i = 0; i < scored.size() && i < k; ++i) out.push_back(scored[i].second);
    return out;
}

}  // namespace griffin
