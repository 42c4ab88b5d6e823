// SPDX-License-Identifier: Apache-2.0
// Paragraph units of plain text and Markdown, and the anchor arithmetic shared by all units.
#include <algorithm>
#include <iterator>
#include <optional>

#include "summarize/text_unit.h"

namespace griffin::detail {

SourcePosition positionAt(const TextUnit& unit, size_t offset) {
    auto it = std::upper_bound(unit.anchors.begin(), unit.anchors.end(), offset,
                               [](size_t o, const Anchor& a) { return o < a.offset; });
    const Anchor& a = *(it == unit.anchors.begin() ? it : std::prev(it));
    if (!a.linear || offset <= a.offset)
        return {a.line, a.byte};
    const size_t end = std::min(offset, unit.text.size());
    return {a.line,
            a.byte + encodedLength(std::string_view(unit.text).substr(a.offset, end - a.offset),
                                   unit.encoding)};
}

int64_t endByteAt(const TextUnit& unit, size_t offset) {
    if (offset >= unit.text.size())
        return unit.endByte;
    auto next = std::upper_bound(unit.anchors.begin(), unit.anchors.end(), offset,
                                 [](size_t o, const Anchor& a) { return o < a.offset; });
    const Anchor& a = *(next == unit.anchors.begin() ? next : std::prev(next));
    if (a.linear || offset == a.offset)
        return positionAt(unit, offset).byte;
    // Inside a non-linear run: widen to its end (the next anchor), so the range covers the text.
    return next == unit.anchors.end() ? unit.endByte : next->byte;
}

namespace {

bool isBlank(const std::string& text) {
    return text.find_first_not_of(" \t") == std::string::npos;
}

// An ATX heading: up to three spaces, 1-6 '#', then a space or the end of the line.
bool isHeading(const std::string& text) {
    size_t i = text.find_first_not_of(' ');
    if (i == std::string::npos || i > 3 || text[i] != '#')
        return false;
    const size_t hashes = text.find_first_not_of('#', i);
    const size_t n = (hashes == std::string::npos ? text.size() : hashes) - i;
    return n <= 6 && (hashes == std::string::npos || text[hashes] == ' ' || text[hashes] == '\t');
}

class PlainUnitReader : public UnitReader {
public:
    PlainUnitReader(LineDecoder lines, TextEncoding encoding)
        : m_lines(std::move(lines)), m_encoding(encoding) {}

    Result<bool> next(TextUnit& unit) override {
        unit = TextUnit{};
        unit.encoding = m_encoding;
        unit.before = m_boundary;
        bool joinWithoutNewline = false;
        for (;;) {
            SourceLine line;
            if (m_peek) {
                line = std::move(*m_peek);
                m_peek.reset();
            } else {
                auto got = m_lines.next(line);
                if (!got)
                    return got.error();
                if (!*got)
                    return !unit.text.empty();
            }
            if (isBlank(line.text) && !joinWithoutNewline) {
                if (!unit.text.empty()) {
                    m_boundary = Boundary::Paragraph;
                    return true;
                }
                if (unit.before != Boundary::Section)
                    unit.before = Boundary::Paragraph;
                continue;
            }
            if (!joinWithoutNewline && isHeading(line.text)) {
                if (!unit.text.empty()) {
                    m_peek = std::move(line);
                    m_boundary = Boundary::Section;
                    return true;
                }
                unit.before = Boundary::Section;
                unit.heading = true;
                append(unit, line, false);
                if (!line.continues) {
                    m_boundary = Boundary::Paragraph;
                    return true;
                }
                joinWithoutNewline = true;
                continue;
            }
            append(unit, line, joinWithoutNewline);
            joinWithoutNewline = line.continues;
            if (unit.text.size() >= kMaxUnitBytes) {
                m_boundary = line.continues ? Boundary::None : Boundary::Line;
                return true;
            }
        }
    }

private:
    static void append(TextUnit& unit, const SourceLine& line, bool joinWithoutNewline) {
        if (!unit.text.empty() && !joinWithoutNewline)
            unit.text += '\n';
        unit.anchors.push_back({unit.text.size(), line.number, line.beginByte, true});
        unit.text += line.text;
        unit.endByte = line.endByte;
    }

    LineDecoder m_lines;
    TextEncoding m_encoding;
    std::optional<SourceLine> m_peek;
    Boundary m_boundary = Boundary::Section;
};

}  // namespace

std::unique_ptr<UnitReader> makePlainUnitReader(LineDecoder lines, TextEncoding encoding) {
    return std::make_unique<PlainUnitReader>(std::move(lines), encoding);
}

}  // namespace griffin::detail
