// SPDX-License-Identifier: Apache-2.0
// Chunker: splits a Document's text into pieces of at most N tokens, cutting at the strongest
// boundary that fits: a section (heading), a paragraph, a line, a sentence, a word, and only as
// a last resort between two characters (never inside a UTF-8 character).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "griffin/document.h"
#include "griffin/result.h"
#include "griffin/tokenizer.h"

namespace griffin {

namespace detail {
class UnitReader;
}

struct Chunk {
    int64_t index = 0;      // 0-based, in document order
    std::string text;       // UTF-8; paragraphs joined by a blank line, ends trimmed
    int64_t firstLine = 0;  // 1-based source line of the first character
    int64_t lastLine = 0;   // 1-based source line of the last character
    int64_t beginByte = 0;  // source byte offset of the first character
    int64_t endByte = 0;    // source byte offset after the last character (exact for text and
                            // Markdown; for HTML widened to whole text runs, so neighbouring
                            // chunks may share one)
    int64_t tokens = 0;     // tokenizer.encode(text).size(), at most the chunker's budget
};

// Not thread-safe. Keeps references to the tokenizer; copies the Document (cheap). The same
// document, tokenizer and budget always give the same chunks.
class Chunker {
public:
    // Requires: maxTokens >= 8.
    Chunker(const Document& document, const Tokenizer& tokenizer, int64_t maxTokens);
    ~Chunker();
    Chunker(Chunker&&) noexcept;
    Chunker& operator=(Chunker&&) = delete;

    // The next chunk, or nullopt after the last one. Errors come from reading the document
    // (Io, or Corrupt when a large file changed since Document::open).
    Result<std::optional<Chunk>> next();
    // Bytes of the source read so far (for progress).
    int64_t bytesRead() const { return m_bytesRead; }

private:
    struct Piece;
    Result<bool> fillPiece();
    size_t splitPoint(const std::string& head, const std::string& rest) const;
    int64_t countTokens(const std::string& text) const;
    int64_t tokensUpTo(const std::string& text, int64_t limit) const;

    Document m_document;
    const Tokenizer& m_tokenizer;
    int64_t m_maxTokens;
    size_t m_maxPieceBytes = 1;
    std::unique_ptr<detail::UnitReader> m_units;
    std::unique_ptr<Piece> m_piece;  // the unit being consumed, or null
    bool m_opened = false;
    bool m_eof = false;
    int64_t m_index = 0;
    int64_t m_bytesRead = 0;
};

// Every chunk of `document` (holding all of its text: for long documents prefer Chunker).
// Cancelled when `stop` fires.
Result<std::vector<Chunk>> chunkDocument(const Document& document, const Tokenizer& tokenizer,
                                         int64_t maxTokens, std::stop_token stop = {});

}  // namespace griffin
