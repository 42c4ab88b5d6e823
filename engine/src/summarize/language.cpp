// SPDX-License-Identifier: Apache-2.0
// The language of a document, from its most common function words: enough to ask for the
// summary in the document's language. A score per language sums the function words found (a
// word shared by several languages counts for each, divided among them); the best language must
// cover a fair share of the words and lead the next one clearly, else the answer is "unknown".
#include <algorithm>
#include <bit>
#include <unordered_map>

#include "griffin/summarize.h"
#include "summarize/text_unit.h"
#include "summarize/words.h"

namespace griffin {
namespace detail {
namespace {

struct LanguageWords {
    const char* name;
    const char* native;  // the language's own name, accepted by normalizeSummaryLanguage
    const char* code;    // ISO 639-1
    std::vector<std::string_view> words;
};

// Very common function words (articles, pronouns, prepositions, conjunctions, auxiliaries).
const std::vector<LanguageWords>& languageTable() {
    static const std::vector<LanguageWords> kTable = {
        {"english", "english", "en", {"the",   "and",   "of",   "to",    "is",    "in",   "that",
                                      "it",    "was",   "for",  "with",  "as",    "on",   "are",
                                      "be",    "this",  "by",   "not",   "have",  "from", "at",
                                      "which", "but",   "they", "you",   "were",  "has",  "been",
                                      "their", "an",    "or",   "would", "there", "will", "its",
                                      "can",   "these", "than", "into",  "a"}},
        {"german", "deutsch", "de", {"der",    "die",  "und",  "das",   "ist",  "nicht", "ein",
                                     "eine",   "zu",   "den",  "von",   "mit",  "sich",  "des",
                                     "auf",    "für",  "im",   "dem",   "auch", "es",    "an",
                                     "werden", "aus",  "er",   "sie",   "nach", "bei",   "einer",
                                     "wird",   "sind", "wie",  "noch",  "über", "oder",  "wir",
                                     "aber",   "ich",  "dass", "einen", "zum"}},
        {"french", "français", "fr", {"le",   "la",   "les",   "et",  "des",   "est",   "un",
                                      "une",  "du",   "que",   "qui", "dans",  "pour",  "pas",
                                      "sur",  "au",   "avec",  "ne",  "se",    "sont",  "plus",
                                      "par",  "il",   "elle",  "ce",  "cette", "mais",  "ou",
                                      "nous", "vous", "aux",   "été", "être",  "était", "à",
                                      "leur", "ont",  "comme", "où",  "de"}},
        {"spanish", "español", "es", {"el",    "la",      "los", "las",  "y",     "que",   "de",
                                      "en",    "es",      "un",  "una",  "por",   "con",   "para",
                                      "del",   "se",      "no",  "al",   "lo",    "como",  "más",
                                      "pero",  "sus",     "su",  "está", "son",   "fue",   "este",
                                      "esta",  "también", "muy", "hay",  "ha",    "entre", "cuando",
                                      "sobre", "todo",    "ya",  "le",   "porque"}},
        {"italian",
         "italiano",
         "it",
         {"il",    "la",  "di",    "che",  "e",      "è",      "un",    "una",   "per", "non",
          "con",   "del", "della", "le",   "gli",    "si",     "sono",  "da",    "nel", "alla",
          "anche", "più", "ma",    "come", "questo", "questa", "dei",   "delle", "al",  "lo",
          "ha",    "ci",  "suo",   "era",  "essere", "nella",  "degli", "alle",  "dal", "perché"}},
        {"portuguese",
         "português",
         "pt",
         {"o",   "a",    "os",   "as",  "de",  "que",  "e",     "do",   "da",     "em",
          "um",  "uma",  "para", "com", "não", "no",   "na",    "dos",  "das",    "se",
          "por", "mais", "ao",   "é",   "foi", "como", "mas",   "são",  "também", "seu",
          "sua", "pelo", "pela", "ele", "ela", "está", "muito", "isso", "nos",    "quando"}},
        {"dutch", "nederlands", "nl", {"de",   "het",   "een",  "en",     "van",  "is",   "dat",
                                       "op",   "te",    "in",   "niet",   "zijn", "met",  "voor",
                                       "die",  "er",    "aan",  "ook",    "als",  "bij",  "door",
                                       "maar", "om",    "dan",  "wordt",  "nog",  "naar", "ze",
                                       "uit",  "heeft", "was",  "worden", "werd", "deze", "hij",
                                       "zij",  "wij",   "geen", "tot",    "kan"}},
    };
    return kTable;
}

const std::unordered_map<std::string_view, uint32_t>& functionWordIndex() {
    static const std::unordered_map<std::string_view, uint32_t> kIndex = [] {
        std::unordered_map<std::string_view, uint32_t> index;
        const auto& table = languageTable();
        for (size_t i = 0; i < table.size(); ++i) {
            for (std::string_view w : table[i].words) index[w] |= 1u << i;
        }
        return index;
    }();
    return kIndex;
}

bool isWordByte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Bytes that continue a UTF-8 sequence started at `lead`, or 0 for a stray byte.
size_t continuationBytes(unsigned char lead) {
    if (lead >= 0xC2 && lead <= 0xDF)
        return 1;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 2;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 3;
    return 0;
}

// Non-letter characters above ASCII that separate words: general punctuation (U+2000-U+206F:
// dashes, typographic quotes and apostrophes), « » and the no-break space.
bool isSeparatorCharacter(std::string_view ch) {
    if (ch.size() == 2) {
        const auto b = static_cast<unsigned char>(ch[1]);
        return static_cast<unsigned char>(ch[0]) == 0xC2 && (b == 0xA0 || b == 0xAB || b == 0xBB);
    }
    return ch.size() == 3 && static_cast<unsigned char>(ch[0]) == 0xE2 &&
           static_cast<unsigned char>(ch[1]) >= 0x80 && static_cast<unsigned char>(ch[1]) <= 0x81;
}

}  // namespace

std::vector<std::string> lowercaseWords(std::string_view text, size_t maxBytes) {
    text = text.substr(0, std::min(text.size(), maxBytes));
    std::vector<std::string> words;
    std::string word;
    auto flush = [&] {
        if (!word.empty())
            words.push_back(std::move(word));
        word.clear();
    };
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (!isWordByte(c)) {
            flush();
            ++i;
            continue;
        }
        if (c < 0x80) {
            word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            ++i;
            continue;
        }
        const size_t more = continuationBytes(c);
        if (more == 0 || i + more >= text.size()) {  // a stray byte, or a character cut off
            flush();
            i = more == 0 ? i + 1 : text.size();
            continue;
        }
        std::string ch(text.substr(i, more + 1));
        if (isSeparatorCharacter(ch)) {
            flush();
        } else {
            // Latin-1 capitals À..Þ (U+00C0-U+00DE, not ×) to their small letters.
            if (ch.size() == 2 && static_cast<unsigned char>(ch[0]) == 0xC3 &&
                static_cast<unsigned char>(ch[1]) >= 0x80 &&
                static_cast<unsigned char>(ch[1]) <= 0x9E &&
                static_cast<unsigned char>(ch[1]) != 0x97)
                ch[1] = static_cast<char>(static_cast<unsigned char>(ch[1]) + 0x20);
            word += ch;
        }
        i += more + 1;
    }
    flush();
    return words;
}

uint32_t functionWordLanguages(std::string_view word) {
    const auto& index = functionWordIndex();
    const auto it = index.find(word);
    return it == index.end() ? 0 : it->second;
}

}  // namespace detail

const std::vector<std::string>& knownSummaryLanguages() {
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> names;
        for (const auto& l : detail::languageTable()) names.emplace_back(l.name);
        return names;
    }();
    return kNames;
}

std::string detectLanguage(std::string_view text) {
    const std::vector<std::string> words = detail::lowercaseWords(text, kMaxLanguageSampleBytes);
    const size_t languages = detail::languageTable().size();
    std::vector<double> score(languages, 0.0);
    int64_t hits = 0;
    for (const std::string& w : words) {
        const uint32_t mask = detail::functionWordLanguages(w);
        if (mask == 0)
            continue;
        ++hits;
        const double share = 1.0 / static_cast<double>(std::popcount(mask));
        for (size_t i = 0; i < languages; ++i) {
            if (mask & (1u << i))
                score[i] += share;
        }
    }
    const auto total = static_cast<int64_t>(words.size());
    // Function words are a quarter to a half of ordinary prose; a tenth is the least we accept.
    if (total < kMinLanguageWords || hits * 10 < total)
        return "unknown";
    size_t best = 0;
    for (size_t i = 1; i < languages; ++i) {
        if (score[i] > score[best])
            best = i;
    }
    double second = 0.0;
    for (size_t i = 0; i < languages; ++i) {
        if (i != best)
            second = std::max(second, score[i]);
    }
    // A clear winner: half as much evidence again as the runner-up, and at least five words.
    if (score[best] < 5.0 || score[best] < 1.5 * second)
        return "unknown";
    return detail::languageTable()[best].name;
}

Result<std::string> detectDocumentLanguage(const Document& document) {
    auto units = document.openUnits();
    if (!units)
        return units.error();
    std::string sample;
    detail::TextUnit unit;
    while (sample.size() < kMaxLanguageSampleBytes) {
        auto got = (*units)->next(unit);
        if (!got)
            return got.error();
        if (!*got)
            break;
        sample += unit.text;
        sample += "\n\n";
    }
    return detectLanguage(sample);
}

std::optional<std::string> normalizeSummaryLanguage(std::string_view name) {
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.empty() || name.size() > 40)
        return std::nullopt;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        const bool letter = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
        if (!letter && c != ' ' && c != '-')
            return std::nullopt;
    }
    const std::vector<std::string> lowered = detail::lowercaseWords(name);
    const std::string key = lowered.size() == 1 ? lowered.front() : std::string();
    if (key == "auto")
        return "auto";
    for (const auto& l : detail::languageTable()) {
        if (key == l.name || key == l.native || key == l.code)
            return std::string(l.name);
    }
    return std::string(name);
}

std::string summaryLanguageInstructionName(std::string_view language) {
    if (language.empty() || language == "english" || language == "unknown" || language == "auto")
        return "";
    std::string name(language);
    if (name[0] >= 'a' && name[0] <= 'z')
        name[0] = static_cast<char>(name[0] - 'a' + 'A');
    return name;
}

}  // namespace griffin
