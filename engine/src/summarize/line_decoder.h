// SPDX-License-Identifier: Apache-2.0
// LineDecoder: a document's bytes in its encoding -> UTF-8 lines, each with its line number and
// the source bytes it came from. Line ends \n, \r\n and \r; control characters become spaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "griffin/document.h"
#include "summarize/byte_source.h"

namespace griffin::detail {

// One line of the source, or a piece of one longer than kMaxLinePieceBytes.
struct SourceLine {
    std::string text;        // UTF-8, without the line end
    int64_t number = 0;      // 1-based
    int64_t beginByte = 0;   // source offset of the first character
    int64_t endByte = 0;     // source offset after the last character (before the line end)
    bool continues = false;  // the line goes on in the next piece (cut at a character boundary)
};

inline constexpr size_t kMaxLinePieceBytes = 256 * 1024;

// Bytes `codePoint` takes in `encoding` (Latin-1: 1; UTF-16: 2 or 4; UTF-8: 1 to 4).
int encodedLength(char32_t codePoint, TextEncoding encoding);
// Source bytes of the UTF-8 `text` when written in `encoding`.
int64_t encodedLength(std::string_view text, TextEncoding encoding);
// Appends `codePoint` to `out` as UTF-8.
void appendUtf8(std::string& out, char32_t codePoint);

// Not thread-safe.
class LineDecoder {
public:
    // `firstByte`: the source offset of the first byte `source` returns (after a byte-order mark).
    LineDecoder(std::unique_ptr<ByteSource> source, TextEncoding encoding, int64_t firstByte);

    // The next line (piece); false at the end of the text.
    Result<bool> next(SourceLine& line);

private:
    // Decodes one code point; false at the end. `length`: its source bytes.
    Result<bool> nextCodePoint(char32_t& codePoint, int& length);
    Result<bool> ensure(size_t bytes);

    std::unique_ptr<ByteSource> m_source;
    TextEncoding m_encoding;
    std::string m_buffer;
    size_t m_pos = 0;
    bool m_eof = false;
    int64_t m_offset;  // source offset of m_buffer[m_pos]
    int64_t m_line = 1;
    bool m_afterCr = false;  // the last line ended with \r: a following \n belongs to it
};

}  // namespace griffin::detail
