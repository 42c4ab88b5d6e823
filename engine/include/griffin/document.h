// SPDX-License-Identifier: Apache-2.0
// Document: a text file to summarise (.txt, .md, .html) — its encoding detected, its SHA-256
// computed, binary files refused — and the reading of its visible text as UTF-8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "griffin/result.h"

namespace griffin {

namespace detail {
class UnitReader;
}

enum class TextEncoding { Utf8, Utf8Bom, Utf16Le, Utf16Be, Latin1 };
// "utf-8", "utf-8 (bom)", "utf-16le", "utf-16be", "latin-1".
const char* textEncodingName(TextEncoding encoding);

enum class DocumentFormat { Text, Markdown, Html };
// "text", "markdown", "html".
const char* documentFormatName(DocumentFormat format);

struct DocumentOptions {
    // Files at least this large are re-read from disk whenever their text is needed instead of
    // being held in memory (default 50 MB).
    int64_t streamThresholdBytes = 50'000'000;
};

struct DocumentInfo {
    std::filesystem::path path;  // as given (empty for Document::fromText)
    int64_t bytes = 0;           // size of the file
    std::string sha256;          // 64 hex digits of the file's bytes
    TextEncoding encoding = TextEncoding::Utf8;
    DocumentFormat format = DocumentFormat::Text;
    bool streamed = false;  // read from disk on demand (>= streamThresholdBytes)
};

// A value type; copies share the in-memory bytes (immutable). Thread-compatible: const methods
// may be called from several threads.
class Document {
public:
    // Reads `file` once: SHA-256, encoding (a UTF-8 / UTF-16LE / UTF-16BE byte-order mark; else
    // UTF-8 when every byte sequence is valid UTF-8; else Latin-1) and the binary check. The
    // format comes from the extension (.md/.markdown, .html/.htm/.xhtml; anything else is text).
    // Errors, each naming the file: NotFound, Io; Unsupported for PDF files and for binary files
    // (NUL bytes outside UTF-16, known binary signatures such as PNG or ZIP, or mostly control
    // characters); InvalidArgument for an empty file.
    static Result<Document> open(const std::filesystem::path& file,
                                 const DocumentOptions& options = {});
    // A document from UTF-8 text held in memory (for tests and pasted text). `name` decides the
    // format by its extension and appears in messages. Invalid UTF-8 is read as Latin-1.
    static Document fromText(std::string text, const std::filesystem::path& name = "text.txt");

    const DocumentInfo& info() const { return m_info; }

    // Engine internals: a fresh reader of the document's text units (paragraphs, headings).
    // Reading a streamed document reopens the file; a changed file is an error (Corrupt).
    Result<std::unique_ptr<detail::UnitReader>> openUnits() const;

private:
    DocumentInfo m_info;
    std::shared_ptr<const std::string> m_bytes;  // the whole file, unless streamed
    int64_t m_textOffset = 0;                    // bytes of the byte-order mark
};

}  // namespace griffin
