// SPDX-License-Identifier: Apache-2.0
// TextUnit: a paragraph or heading of a document's visible text, with anchors that map offsets
// in its text back to source lines and bytes; UnitReader yields them in document order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "griffin/document.h"
#include "griffin/result.h"
#include "summarize/line_decoder.h"

namespace griffin::detail {

// What separates a unit from the one before it, strongest first.
enum class Boundary {
    Section,    // a heading starts here (and the document's first unit)
    Paragraph,  // a blank line, or a block element in HTML
    Line,       // a unit cut at a line end because it grew too long
    None,       // a unit cut inside a very long line: the text runs on
};

// Maps text from `offset` on to the source. When `linear`, every character up to the next anchor
// is one source character (so bytes can be counted); otherwise (HTML markup, entities, collapsed
// white space) positions up to the next anchor resolve to this anchor.
struct Anchor {
    size_t offset = 0;
    int64_t line = 0;
    int64_t byte = 0;
    bool linear = true;
};

struct TextUnit {
    std::string text;  // UTF-8; lines joined by \n
    Boundary before = Boundary::Paragraph;
    bool heading = false;
    std::vector<Anchor> anchors;  // sorted by offset; anchors[0].offset == 0
    int64_t endByte = 0;          // source offset after the last character
    TextEncoding encoding = TextEncoding::Utf8;
};

struct SourcePosition {
    int64_t line = 0;
    int64_t byte = 0;
};

// Where text offset `offset` of `unit` comes from. Requires: !unit.anchors.empty().
SourcePosition positionAt(const TextUnit& unit, size_t offset);
// The source offset right after the text before `offset` (inside a non-linear run: the run's
// end, so that a range always covers its text).
int64_t endByteAt(const TextUnit& unit, size_t offset);

inline constexpr size_t kMaxUnitBytes = 256 * 1024;

// Not thread-safe.
class UnitReader {
public:
    virtual ~UnitReader() = default;
    // The next unit with visible text; false at the end.
    virtual Result<bool> next(TextUnit& unit) = 0;
};

// Paragraphs of plain text and Markdown: blank lines separate them, "#" headings stand alone.
std::unique_ptr<UnitReader> makePlainUnitReader(LineDecoder lines, TextEncoding encoding);
// The visible text of HTML: block elements separate paragraphs, h1..h6 are headings; script,
// style, template and comments are skipped; entities decoded; white space collapsed.
std::unique_ptr<UnitReader> makeHtmlUnitReader(LineDecoder lines, TextEncoding encoding);

}  // namespace griffin::detail
