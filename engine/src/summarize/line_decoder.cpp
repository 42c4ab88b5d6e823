// SPDX-License-Identifier: Apache-2.0
#include "summarize/line_decoder.h"

namespace griffin::detail {
namespace {

constexpr size_t kReadBlock = 1 << 20;
constexpr char32_t kReplacement = 0xFFFD;

// Windows-1252 for 0x80..0x9F: what browsers do with text labelled Latin-1, and what such
// files almost always mean (curly quotes, dashes). 0 = undefined (kept as the C1 control).
constexpr char16_t kCp1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                  0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

bool isControl(char32_t c) {
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7F && c < 0xA0);
}

}  // namespace

int encodedLength(char32_t c, TextEncoding encoding) {
    switch (encoding) {
        case TextEncoding::Latin1:
            return 1;
        case TextEncoding::Utf16Le:
        case TextEncoding::Utf16Be:
            return c >= 0x10000 ? 4 : 2;
        case TextEncoding::Utf8:
        case TextEncoding::Utf8Bom:
            break;
    }
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

int64_t encodedLength(std::string_view text, TextEncoding encoding) {
    if (encoding == TextEncoding::Utf8 || encoding == TextEncoding::Utf8Bom)
        return static_cast<int64_t>(text.size());
    int64_t n = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if ((b & 0xC0) == 0x80)
            continue;  // continuation byte
        n += encoding == TextEncoding::Latin1 ? 1 : (b >= 0xF0 ? 4 : 2);
    }
    return n;
}

void appendUtf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

LineDecoder::LineDecoder(std::unique_ptr<ByteSource> source, TextEncoding encoding,
                         int64_t firstByte)
    : m_source(std::move(source)), m_encoding(encoding), m_offset(firstByte) {}

Result<bool> LineDecoder::ensure(size_t bytes) {
    while (m_buffer.size() - m_pos < bytes && !m_eof) {
        m_buffer.erase(0, m_pos);
        m_pos = 0;
        auto n = m_source->read(m_buffer, kReadBlock);
        if (!n)
            return n.error();
        m_eof = *n == 0;
    }
    return m_buffer.size() - m_pos >= bytes;
}

Result<bool> LineDecoder::nextCodePoint(char32_t& c, int& length) {
    auto have = ensure(4);
    if (!have)
        return have.error();
    const size_t avail = m_buffer.size() - m_pos;
    if (avail == 0)
        return false;
    const auto* p = reinterpret_cast<const unsigned char*>(m_buffer.data() + m_pos);
    switch (m_encoding) {
        case TextEncoding::Latin1:
            c = p[0];
            if (c >= 0x80 && c < 0xA0 && kCp1252[c - 0x80] != 0)
                c = kCp1252[c - 0x80];
            length = 1;
            break;
        case TextEncoding::Utf16Le:
        case TextEncoding::Utf16Be: {
            auto unit = [&](size_t i) -> char32_t {
                return m_encoding == TextEncoding::Utf16Le ? (p[i] | (p[i + 1] << 8))
                                                           : ((p[i] << 8) | p[i + 1]);
            };
            if (avail < 2) {
                // An odd last byte is no code unit: skipped, so that the text's byte offsets,
                // counted back from its characters, stay within the file.
                m_pos += avail;
                m_offset += static_cast<int64_t>(avail);
                return false;
            }
            c = unit(0);
            length = 2;
            if (c >= 0xD800 && c < 0xDC00 && avail >= 4) {
                const char32_t low = unit(2);
                if (low >= 0xDC00 && low < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    length = 4;
                }
            }
            if (c >= 0xD800 && c < 0xE000)
                c = kReplacement;  // an unpaired surrogate
            break;
        }
        case TextEncoding::Utf8:
        case TextEncoding::Utf8Bom: {
            // Document::open checked the whole file unless it starts with a UTF-8 byte-order
            // mark. A byte that does not start a well-formed sequence (overlong, surrogate, past
            // U+10FFFF, cut short) becomes '?', one byte for one byte, so that byte offsets
            // counted back from the text (encodedLength) stay exact; decoding goes on at the
            // next byte.
            const unsigned char b = p[0];
            const int n = b < 0x80         ? 1
                          : (b >> 5) == 6  ? 2
                          : (b >> 4) == 14 ? 3
                          : (b >> 3) == 30 ? 4
                                           : 0;
            c = U'?';
            length = 1;
            if (n == 0 || static_cast<size_t>(n) > avail)
                break;
            char32_t value = n == 1 ? b : b & (0x7F >> n);
            bool wellFormed = true;
            for (int i = 1; i < n && wellFormed; ++i) {
                wellFormed = (p[i] & 0xC0) == 0x80;
                value = (value << 6) | (p[i] & 0x3F);
            }
            const char32_t least = n == 1 ? 0 : n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
            if (wellFormed && value >= least && value <= 0x10FFFF &&
                (value < 0xD800 || value >= 0xE000)) {
                c = value;
                length = n;
            }
            break;
        }
    }
    m_pos += static_cast<size_t>(length);
    m_offset += length;
    return true;
}

Result<bool> LineDecoder::next(SourceLine& line) {
    line.text.clear();
    line.continues = false;
    bool any = false;
    for (;;) {
        const int64_t at = m_offset;
        char32_t c = 0;
        int length = 0;
        auto got = nextCodePoint(c, length);
        if (!got)
            return got.error();
        if (!*got) {
            if (!any)
                return false;
            break;
        }
        if (m_afterCr) {
            m_afterCr = false;
            if (c == '\n')
                continue;  // the \n of a \r\n
        }
        if (!any) {
            any = true;
            line.number = m_line;
            line.beginByte = at;
            line.endByte = at;
        }
        if (c == '\n' || c == '\r') {
            m_afterCr = c == '\r';
            ++m_line;
            return true;
        }
        // A control character becomes a space of the same encoded length (a C1 control in
        // UTF-8 takes two bytes: a no-break space), so that byte offsets counted back from the
        // text (encodedLength) stay exact.
        const char32_t standIn =
            encodedLength(c, m_encoding) == encodedLength(U' ', m_encoding) ? U' ' : U'\u00A0';
        appendUtf8(line.text, isControl(c) ? standIn : c);
        line.endByte = m_offset;
        if (line.text.size() >= kMaxLinePieceBytes) {
            line.continues = true;
            return true;
        }
    }
    return true;
}

}  // namespace griffin::detail
