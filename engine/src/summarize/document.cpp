// SPDX-License-Identifier: Apache-2.0
// Document::open: one pass over the file for its SHA-256, encoding and the binary check.
#include "griffin/document.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "summarize/byte_source.h"
#include "summarize/line_decoder.h"
#include "summarize/sha256.h"
#include "summarize/text_unit.h"

namespace griffin {
namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kSniffBytes = 64 * 1024;

// Validates UTF-8 across block boundaries (overlongs, surrogates and values past U+10FFFF are
// invalid).
class Utf8Validator {
public:
    void feed(std::string_view bytes) {
        for (char ch : bytes) {
            if (!m_valid)
                return;
            const auto b = static_cast<unsigned char>(ch);
            if (m_need == 0) {
                if (b < 0x80)
                    continue;
                if (b >= 0xC2 && b <= 0xDF) {
                    m_need = 1, m_lo = 0x80, m_hi = 0xBF;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    m_need = 2;
                    m_lo = b == 0xE0 ? 0xA0 : 0x80;
                    m_hi = b == 0xED ? 0x9F : 0xBF;
                } else if (b >= 0xF0 && b <= 0xF4) {
                    m_need = 3;
                    m_lo = b == 0xF0 ? 0x90 : 0x80;
                    m_hi = b == 0xF4 ? 0x8F : 0xBF;
                } else {
                    m_valid = false;
                }
                continue;
            }
            if (b < m_lo || b > m_hi) {
                m_valid = false;
                return;
            }
            m_lo = 0x80, m_hi = 0xBF;
            --m_need;
        }
    }
    bool valid() const { return m_valid && m_need == 0; }

private:
    bool m_valid = true;
    int m_need = 0;
    unsigned char m_lo = 0x80, m_hi = 0xBF;
};

// Names a known binary signature at the start of a file, or returns null.
const char* binarySignature(std::string_view head) {
    struct Magic {
        std::string_view bytes;
        const char* what;
    };
    static const Magic kMagics[] = {
        {std::string_view("\x89PNG", 4), "a PNG image"},
        {std::string_view("\xFF\xD8\xFF", 3), "a JPEG image"},
        {"GIF8", "a GIF image"},
        {std::string_view("PK\x03\x04", 4), "a ZIP archive (e.g. .docx, .epub, .odt)"},
        {std::string_view("\x1F\x8B", 2), "a gzip archive"},
        {std::string_view("\x7F"
                          "ELF",
                          4),
         "an executable"},
        {std::string_view("\xD0\xCF\x11\xE0", 4), "an old Microsoft Office file"},
        {"{\\rtf", "an RTF document"},
    };
    for (const Magic& m : kMagics) {
        if (head.starts_with(m.bytes))
            return m.what;
    }
    return nullptr;
}

DocumentFormat formatOf(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".md" || ext == ".markdown")
        return DocumentFormat::Markdown;
    if (ext == ".html" || ext == ".htm" || ext == ".xhtml")
        return DocumentFormat::Html;
    return DocumentFormat::Text;
}

// What the whole-file pass found.
struct Scan {
    detail::Sha256 sha;
    Utf8Validator utf8;
    std::string head;  // the first kSniffBytes
    bool hasNul = false;
    int64_t bytes = 0;
};

void scanBlock(Scan& scan, std::string_view block) {
    scan.sha.update(block);
    scan.utf8.feed(block);
    scan.hasNul = scan.hasNul || block.find('\0') != std::string_view::npos;
    if (scan.head.size() < kSniffBytes)
        scan.head.append(block.substr(0, kSniffBytes - scan.head.size()));
    scan.bytes += static_cast<int64_t>(block.size());
}

// Decides the encoding, or why the file is not text.
Status classify(const Scan& scan, const std::string& name, TextEncoding& encoding,
                int64_t& bomBytes) {
    const std::string_view head = scan.head;
    if (head.starts_with("%PDF-")) {
        return makeError(ErrorCode::Unsupported,
                         name +
                             ": is a PDF file; PDF is not supported yet (convert it to text "
                             "first, e.g. with pdftotext)");
    }
    if (const char* what = binarySignature(head))
        return makeError(ErrorCode::Unsupported, name + ": is not a text file (" + what + ")");
    bomBytes = 0;
    if (head.starts_with(std::string_view("\xFF\xFE\x00\x00", 4)) ||
        head.starts_with(std::string_view("\x00\x00\xFE\xFF", 4))) {
        return makeError(ErrorCode::Unsupported, name + ": UTF-32 text is not supported");
    }
    if (head.starts_with("\xEF\xBB\xBF")) {
        encoding = TextEncoding::Utf8Bom;
        bomBytes = 3;
    } else if (head.starts_with("\xFF\xFE")) {
        encoding = TextEncoding::Utf16Le;
        bomBytes = 2;
    } else if (head.starts_with("\xFE\xFF")) {
        encoding = TextEncoding::Utf16Be;
        bomBytes = 2;
    } else if (scan.hasNul) {
        return makeError(ErrorCode::Unsupported,
                         name +
                             ": is a binary file (it contains NUL bytes; UTF-16 text needs a "
                             "byte-order mark)");
    } else {
        encoding = scan.utf8.valid() ? TextEncoding::Utf8 : TextEncoding::Latin1;
    }
    if (scan.bytes == bomBytes)
        return makeError(ErrorCode::InvalidArgument, name + ": is empty");
    if (encoding == TextEncoding::Utf8 || encoding == TextEncoding::Latin1 ||
        encoding == TextEncoding::Utf8Bom) {
        // Text has few control characters besides tab, line ends and form feed.
        int64_t control = 0;
        for (char ch : head) {
            const auto b = static_cast<unsigned char>(ch);
            control += (b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1B);
        }
        if (control * 10 > static_cast<int64_t>(head.size())) {
            return makeError(ErrorCode::Unsupported,
                             name + ": is a binary file (mostly control characters)");
        }
    }
    return {};
}

}  // namespace

const char* textEncodingName(TextEncoding encoding) {
    switch (encoding) {
        case TextEncoding::Utf8:
            return "utf-8";
        case TextEncoding::Utf8Bom:
            return "utf-8 (bom)";
        case TextEncoding::Utf16Le:
            return "utf-16le";
        case TextEncoding::Utf16Be:
            return "utf-16be";
        case TextEncoding::Latin1:
            return "latin-1";
    }
    return "?";
}

const char* documentFormatName(DocumentFormat format) {
    switch (format) {
        case DocumentFormat::Text:
            return "text";
        case DocumentFormat::Markdown:
            return "markdown";
        case DocumentFormat::Html:
            return "html";
    }
    return "?";
}

Result<Document> Document::open(const std::filesystem::path& file, const DocumentOptions& options) {
    const std::string name = file.string();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        return makeError(ErrorCode::NotFound, name + ": no such file");
    if (std::filesystem::is_directory(file, ec))
        return makeError(ErrorCode::InvalidArgument, name + ": is a folder, not a file");
    const auto size = std::filesystem::file_size(file, ec);
    if (ec)
        return makeError(ErrorCode::Io, name + ": cannot read (" + ec.message() + ")");
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::Io, name + ": cannot open for reading");

    Document doc;
    doc.m_info.path = file;
    doc.m_info.format = formatOf(file);
    doc.m_info.streamed = static_cast<int64_t>(size) >= options.streamThresholdBytes;
    auto bytes = std::make_shared<std::string>();
    if (!doc.m_info.streamed)
        bytes->reserve(size);
    Scan scan;
    std::string block(kBlock, '\0');
    while (in) {
        in.read(block.data(), static_cast<std::streamsize>(block.size()));
        const auto n = static_cast<size_t>(in.gcount());
        if (n == 0)
            break;
        const std::string_view view(block.data(), n);
        scanBlock(scan, view);
        if (!doc.m_info.streamed)
            bytes->append(view);
    }
    if (in.bad())
        return makeError(ErrorCode::Io, name + ": read failed");
    if (scan.bytes == 0)
        return makeError(ErrorCode::InvalidArgument, name + ": is empty");
    if (auto s = classify(scan, name, doc.m_info.encoding, doc.m_textOffset); !s)
        return s.error();
    doc.m_info.bytes = scan.bytes;
    doc.m_info.sha256 = scan.sha.hexDigest();
    if (!doc.m_info.streamed)
        doc.m_bytes = std::move(bytes);
    return doc;
}

Document Document::fromText(std::string text, const std::filesystem::path& name) {
    Document doc;
    doc.m_info.path = name;
    doc.m_info.format = formatOf(name);
    Scan scan;
    scanBlock(scan, text);
    doc.m_info.bytes = scan.bytes;
    doc.m_info.sha256 = scan.sha.hexDigest();
    doc.m_info.encoding = scan.utf8.valid() ? TextEncoding::Utf8 : TextEncoding::Latin1;
    doc.m_bytes = std::make_shared<const std::string>(std::move(text));
    return doc;
}

Result<std::unique_ptr<detail::UnitReader>> Document::openUnits() const {
    std::unique_ptr<detail::ByteSource> source;
    if (m_bytes) {
        source = std::make_unique<detail::ByteSource>(m_bytes, m_textOffset);
    } else {
        auto file =
            detail::ByteSource::openFile(m_info.path, m_textOffset, m_info.bytes, m_info.sha256);
        if (!file)
            return file.error();
        source = std::move(*file);
    }
    detail::LineDecoder lines(std::move(source), m_info.encoding, m_textOffset);
    if (m_info.format == DocumentFormat::Html)
        return detail::makeHtmlUnitReader(std::move(lines), m_info.encoding);
    return detail::makePlainUnitReader(std::move(lines), m_info.encoding);
}

}  // namespace griffin
