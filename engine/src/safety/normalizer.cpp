// SPDX-License-Identifier: Apache-2.0
#include "safety/normalizer.h"

#include <cstdint>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace griffin::safety {
namespace {

struct Piece {
    std::string text;  // normalised form of one original code point
    size_t begin;      // its byte offset in the original
};

bool isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z');
}

// Digits and symbols commonly used for letters, applied only between letters of a word.
char leet(char c) {
    switch (c) {
        case '0':
            return 'o';
        case '1':
            return 'i';
        case '3':
            return 'e';
        case '4':
            return 'a';
        case '5':
            return 's';
        case '7':
            return 't';
        case '@':
            return 'a';
        case '$':
            return 's';
        default:
            return 0;
    }
}

bool isSeparator(const std::string& s) {
    return s == "." || s == "-" || s == "_" || s == "*" || s == "\xC2\xB7" || s == "/" || s == "|";
}

}  // namespace

NormalizedText normalizeForMatching(std::string_view original) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkcCf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    std::vector<Piece> pieces;
    int32_t i = 0;
    const int32_t n = static_cast<int32_t>(original.size());
    const auto* bytes = reinterpret_cast<const uint8_t*>(original.data());
    while (i < n) {
        const int32_t start = i;
        UChar32 c = 0;
        U8_NEXT(bytes, i, n, c);
        std::string out;
        if (c < 0) {
            out = "\xEF\xBF\xBD";  // invalid UTF-8
        } else if (U_SUCCESS(status)) {
            UErrorCode s = U_ZERO_ERROR;
            icu::UnicodeString normalized = nfkcCf->normalize(icu::UnicodeString(c), s);
            if (U_SUCCESS(s))
                normalized.toUTF8String(out);
        }
        pieces.push_back({std::move(out), static_cast<size_t>(start)});
    }

    // Runs of whitespace count as one ("zorgle  wibble", tabs): a run becomes one space, or one
    // newline when it holds a line break (patterns treat line ends as sentence ends).
    auto isSpace = [](const std::string& t) {
        return t == " " || t == "\t" || t == "\n" || t == "\r" || t == "\v" || t == "\f";
    };
    {
        std::vector<Piece> collapsed;
        collapsed.reserve(pieces.size());
        for (Piece& p : pieces) {
            if (isSpace(p.text) && !collapsed.empty() && isSpace(collapsed.back().text)) {
                if (p.text == "\n")
                    collapsed.back().text = "\n";
                continue;
            }
            if (p.text == "\t" || p.text == "\r" || p.text == "\v" || p.text == "\f")
                p.text = " ";
            collapsed.push_back(std::move(p));
        }
        pieces = std::move(collapsed);
    }

    auto letterAt = [&](size_t k) {
        return k < pieces.size() && pieces[k].text.size() == 1 && isAsciiLetter(pieces[k].text[0]);
    };
    auto candidateAt = [&](size_t k) {
        return k < pieces.size() && pieces[k].text.size() == 1 && leet(pieces[k].text[0]) != 0;
    };

    // Letter/digit substitutions: inside a run of letters and substitutes that has a real letter
    // ("b0mb", "t0", "h3ll0"), the substitutes become letters. "4 apples" and "1488" stay.
    for (size_t k = 0; k < pieces.size();) {
        size_t end = k, letters = 0;
        while (letterAt(end) || candidateAt(end)) {
            letters += letterAt(end) ? 1 : 0;
            ++end;
        }
        if (end == k) {
            ++k;
            continue;
        }
        if (letters >= 1 && end - k >= 2) {
            for (size_t j = k; j < end; ++j) {
                if (candidateAt(j))
                    pieces[j].text = std::string(1, leet(pieces[j].text[0]));
            }
        }
        k = end;
    }

    // Separators between single letters ("k.i.l.l", "k i l l"): dropped when at least three
    // single letters are joined by the same separator.
    auto separatorAt = [&](size_t k, const std::string& sep) {
        return k < pieces.size() && pieces[k].text == sep;
    };
    std::vector<bool> drop(pieces.size(), false);
    for (size_t k = 0; k < pieces.size(); ++k) {
        const bool single = letterAt(k) && !(k > 0 && letterAt(k - 1)) && !letterAt(k + 1);
        if (!single || k + 1 >= pieces.size())
            continue;
        const std::string sep = pieces[k + 1].text;
        if (!isSeparator(sep) && sep != " ")
            continue;
        size_t j = k, count = 1;
        std::vector<size_t> seps;
        while (separatorAt(j + 1, sep) && letterAt(j + 2) && !letterAt(j + 3)) {
            seps.push_back(j + 1);
            j += 2;
            ++count;
        }
        if (count >= 3) {
            for (size_t at : seps) drop[at] = true;
            k = j;
        }
    }

    NormalizedText result;
    for (size_t k = 0; k < pieces.size(); ++k) {
        if (drop[k])
            continue;
        for (size_t b = 0; b < pieces[k].text.size(); ++b) result.origin.push_back(pieces[k].begin);
        result.text += pieces[k].text;
    }
    result.origin.push_back(original.size());
    return result;
}

}  // namespace griffin::safety
