// SPDX-License-Identifier: Apache-2.0
// The visible text of an HTML document as paragraph units: a small streaming tag scanner (not a
// full HTML5 parser) that keeps text, drops markup, scripts and styles, and decodes entities.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <span>
#include <string_view>

#include "summarize/text_unit.h"

namespace griffin::detail {
namespace {

struct NamedEntity {
    const char* name;
    char32_t codePoint;
};
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},     {"nbsp", ' '},      {"mdash", 0x2014}, {"ndash", 0x2013},
    {"hellip", 0x2026}, {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"laquo", 0x00AB},  {"raquo", 0x00BB}, {"copy", 0x00A9},
    {"reg", 0x00AE},    {"trade", 0x2122},  {"deg", 0x00B0},   {"middot", 0x00B7},
    {"bull", 0x2022},   {"euro", 0x20AC},   {"pound", 0x00A3}, {"times", 0x00D7},
    {"eacute", 0x00E9}, {"egrave", 0x00E8}, {"auml", 0x00E4},  {"ouml", 0x00F6},
    {"uuml", 0x00FC},   {"szlig", 0x00DF},  {"shy", 0x00AD},   {"thinsp", 0x2009},
};

constexpr const char* kRawElements[] = {"script", "style",  "noscript", "template", "svg",
                                        "math",   "iframe", "object",   "textarea"};
constexpr const char* kBlockElements[] = {
    "p",      "div",        "ul",         "ol",      "dl",      "dt",      "dd",
    "tr",     "table",      "section",    "article", "header",  "footer",  "nav",
    "aside",  "main",       "blockquote", "pre",     "hr",      "form",    "fieldset",
    "figure", "figcaption", "address",    "details", "summary", "caption", "body",
    "html",   "head",       "li",         "tbody",   "thead",   "tfoot"};

bool isOneOf(const std::string& name, std::span<const char* const> names) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

bool isSpace(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0xA0;
}

char32_t decodeEntity(const std::string& name) {
    if (name.size() >= 2 && name[0] == '#') {
        const bool hex = name[1] == 'x' || name[1] == 'X';
        const std::string digits = name.substr(hex ? 2 : 1);
        if (digits.empty() || digits.size() > 8 ||
            digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") !=
                std::string::npos)
            return 0;
        const unsigned long v = std::stoul(digits, nullptr, hex ? 16 : 10);
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
            return 0xFFFD;
        return static_cast<char32_t>(v);
    }
    for (const NamedEntity& e : kEntities) {
        if (name == e.name)
            return e.codePoint;
    }
    return 0;
}

// Decodes one UTF-8 character of `s` at `i` (the text is valid UTF-8: LineDecoder made it).
char32_t utf8At(std::string_view s, size_t& i) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
    char32_t c = n == 1 ? b : b & (0x7F >> n);
    for (int k = 1; k < n && i + static_cast<size_t>(k) < s.size(); ++k)
        c = (c << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    i += static_cast<size_t>(n);
    return c;
}

class HtmlUnitReader : public UnitReader {
public:
    HtmlUnitReader(LineDecoder lines, TextEncoding encoding)
        : m_lines(std::move(lines)), m_encoding(encoding) {
        startUnit();
    }

    Result<bool> next(TextUnit& unit) override {
        while (m_ready.empty() && !m_eof) {
            SourceLine line;
            auto got = m_lines.next(line);
            if (!got)
                return got.error();
            if (!*got) {
                m_eof = true;
                endUnit(Boundary::Paragraph);
                break;
            }
            feedLine(line);
        }
        if (m_ready.empty())
            return false;
        unit = std::move(m_ready.front());
        m_ready.pop_front();
        return true;
    }

private:
    enum class Mode { Text, Entity, Tag, Comment, Raw, RawClose };

    void feedLine(const SourceLine& line) {
        int64_t byte = line.beginByte;
        m_anchorDue = true;
        for (size_t i = 0; i < line.text.size();) {
            const char32_t c = utf8At(line.text, i);
            feed(c, line.number, byte);
            byte += encodedLength(c, m_encoding);
        }
        if (!line.continues)
            feed('\n', line.number, line.endByte);
    }

    void feed(char32_t c, int64_t line, int64_t byte) {
        switch (m_mode) {
            case Mode::Text:
                if (c == '<') {
                    m_mode = Mode::Tag;
                    m_tag.clear();
                    m_quote = 0;
                } else if (c == '&') {
                    m_mode = Mode::Entity;
                    m_entity.clear();
                    m_entityLine = line;
                    m_entityByte = byte;
                } else {
                    text(c, line, byte);
                }
                return;
            case Mode::Entity:
                if (c == ';') {
                    m_mode = Mode::Text;
                    if (char32_t d = decodeEntity(m_entity)) {
                        text(d, m_entityLine, m_entityByte);
                    } else {
                        literal("&" + m_entity + ";");
                    }
                } else if (m_entity.size() < 32 && c < 0x80 &&
                           (std::isalnum(static_cast<int>(c)) || c == '#')) {
                    m_entity += static_cast<char>(c);
                } else {
                    m_mode = Mode::Text;
                    literal("&" + m_entity);
                    feed(c, line, byte);
                }
                return;
            case Mode::Tag:
                if (m_tag.empty() && !(c < 0x80 && (std::isalpha(static_cast<int>(c)) || c == '/' ||
                                                    c == '!' || c == '?'))) {
                    m_mode = Mode::Text;  // "a < b": a '<' that opens no tag is text
                    text('<', line, byte - encodedLength(U'<', m_encoding));
                    feed(c, line, byte);
                    return;
                }
                if (m_quote != 0) {
                    if (c == m_quote)
                        m_quote = 0;
                } else if (c == '"' || c == '\'') {
                    if (!m_tag.empty() && m_tag[0] != '!')
                        m_quote = c;
                } else if (c == '>') {
                    m_mode = Mode::Text;
                    tag();
                    return;
                }
                if (m_tag.size() < 64)
                    appendUtf8(m_tag, c);
                if (m_tag == "!--") {
                    m_mode = Mode::Comment;
                    m_tail.clear();
                }
                return;
            case Mode::Comment:
                m_tail += static_cast<char>(c < 0x80 ? c : '?');
                if (m_tail.size() > 3)
                    m_tail.erase(0, m_tail.size() - 3);
                if (m_tail == "-->")
                    m_mode = Mode::Text;
                return;
            case Mode::Raw: {
                m_tail += static_cast<char>(c < 0x80 ? std::tolower(static_cast<int>(c)) : '?');
                const std::string close = "</" + m_rawName;
                if (m_tail.size() > close.size())
                    m_tail.erase(0, m_tail.size() - close.size());
                if (m_tail == close)
                    m_mode = Mode::RawClose;
                return;
            }
            case Mode::RawClose:
                if (c == '>')
                    m_mode = Mode::Text;
                return;
        }
    }

    void tag() {
        m_anchorDue = true;
        if (m_tag.empty() || m_tag[0] == '!' || m_tag[0] == '?')
            return;  // a declaration or processing instruction
        const bool closing = m_tag[0] == '/';
        std::string name;
        for (size_t i = closing ? 1 : 0;
             i < m_tag.size() && std::isalnum(static_cast<unsigned char>(m_tag[i])); ++i)
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(m_tag[i])));
        if (!closing && !m_tag.ends_with("/") && isOneOf(name, kRawElements)) {
            m_mode = Mode::Raw;
            m_rawName = name;
            m_tail.clear();
            return;
        }
        const bool heading = name == "title" || (name.size() == 2 && name[0] == 'h' &&
                                                 name[1] >= '1' && name[1] <= '6');
        if (heading) {
            endUnit(closing ? Boundary::Paragraph : Boundary::Section);
            m_unit.heading = !closing;
            return;
        }
        if (name == "br") {
            if (!m_unit.text.empty()) {
                m_unit.text += '\n';
                m_space = false;
            }
            return;
        }
        if (name == "pre")
            m_pre = !closing;
        if (name == "td" || name == "th") {
            m_space = !m_unit.text.empty();
            return;
        }
        if (isOneOf(name, kBlockElements)) {
            endUnit(Boundary::Paragraph);
            if (name == "li" && !closing)
                m_prefix = "- ";
        }
    }

    void text(char32_t c, int64_t line, int64_t byte) {
        if (!m_pre && isSpace(c)) {
            m_space = !m_unit.text.empty();
            return;
        }
        if (m_unit.text.empty() && isSpace(c))
            return;
        if (m_space && !m_unit.text.empty())
            m_unit.text += ' ';
        m_space = false;
        if (m_anchorDue || m_unit.text.empty()) {
            m_unit.anchors.push_back({m_unit.text.size(), line, byte, false});
            m_anchorDue = false;
        }
        m_unit.text += m_prefix;
        m_prefix.clear();
        appendUtf8(m_unit.text, c == '\r' ? U'\n' : c);
        m_unit.endByte = byte + encodedLength(c, m_encoding);
        if (m_unit.text.size() >= kMaxUnitBytes)
            endUnit(Boundary::None);
    }

    void literal(const std::string& s) {
        for (char ch : s) text(static_cast<unsigned char>(ch), m_entityLine, m_entityByte);
    }

    void startUnit() {
        m_unit = TextUnit{};
        m_unit.encoding = m_encoding;
        m_unit.before = m_nextBoundary;
        m_space = false;
    }

    // Ends the current unit (if it has text); the next one starts after `boundary`.
    void endUnit(Boundary boundary) {
        if (m_unit.text.empty()) {
            m_nextBoundary = std::min(m_nextBoundary, boundary);
            m_unit.before = m_nextBoundary;
            return;
        }
        while (!m_unit.text.empty() && std::strchr(" \n", m_unit.text.back()))
            m_unit.text.pop_back();
        m_ready.push_back(std::move(m_unit));
        m_nextBoundary = boundary;
        startUnit();
    }

    LineDecoder m_lines;
    TextEncoding m_encoding;
    bool m_eof = false;
    std::deque<TextUnit> m_ready;
    TextUnit m_unit;
    Boundary m_nextBoundary = Boundary::Section;
    Mode m_mode = Mode::Text;
    std::string m_tag, m_entity, m_tail, m_rawName, m_prefix;
    char32_t m_quote = 0;
    int64_t m_entityLine = 0, m_entityByte = 0;
    bool m_space = false, m_pre = false, m_anchorDue = true;
};

}  // namespace

std::unique_ptr<UnitReader> makeHtmlUnitReader(LineDecoder lines, TextEncoding encoding) {
    return std::make_unique<HtmlUnitReader>(std::move(lines), encoding);
}

}  // namespace griffin::detail
