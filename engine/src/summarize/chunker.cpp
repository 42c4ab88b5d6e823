// SPDX-License-Identifier: Apache-2.0
// Chunker: greedy packing of paragraph units into token budgets. Token counts are always of the
// exact text the chunk will hold (BPE is not additive at the joins), so `tokens <= budget` holds
// by construction; estimates only choose where to try cutting.
#include "griffin/chunker.h"

#include <algorithm>

#include "summarize/text_unit.h"

namespace griffin {
namespace {

const char* kSpace = " \t\n\r";

std::string_view rtrim(std::string_view s) {
    const size_t e = s.find_last_not_of(kSpace);
    return e == std::string_view::npos ? std::string_view() : s.substr(0, e + 1);
}

size_t skipSpace(const std::string& s, size_t from) {
    const size_t b = s.find_first_not_of(kSpace, from);
    return b == std::string::npos ? s.size() : b;
}

// The largest character boundary <= `offset` (never inside a UTF-8 sequence).
size_t floorToCharacter(std::string_view s, size_t offset) {
    offset = std::min(offset, s.size());
    while (offset > 0 && offset < s.size() &&
           (static_cast<unsigned char>(s[offset]) & 0xC0) == 0x80)
        --offset;
    return offset;
}

const char* separator(detail::Boundary boundary) {
    switch (boundary) {
        case detail::Boundary::Section:
        case detail::Boundary::Paragraph:
            return "\n\n";
        case detail::Boundary::Line:
            return "\n";
        case detail::Boundary::None:
            break;
    }
    return "";
}

bool endsSentence(std::string_view s, size_t i) {
    // `i` is white space; look back over closing quotes and brackets for . ! ?
    size_t j = i;
    while (j > 0 && std::string_view("\"')]").find(s[j - 1]) != std::string_view::npos) --j;
    if (j >= 3 && (s.substr(j - 3, 3) == "\u201d" || s.substr(j - 3, 3) == "\u2019"))
        j -= 3;
    return j > 0 && (s[j - 1] == '.' || s[j - 1] == '!' || s[j - 1] == '?' ||
                     (j >= 3 && s.substr(j - 3, 3) == "\u2026"));
}

// Where to cut `s` at or before `limit`: the last line end, else the last sentence end, else
// the last white space, else `limit` itself — each only if it keeps at least half of `limit`.
size_t bestCut(std::string_view s, size_t limit) {
    if (limit >= s.size())
        return s.size();
    const size_t half = limit / 2;
    const size_t nl = s.substr(0, limit + (limit < s.size() ? 1 : 0)).find_last_of('\n');
    if (nl != std::string_view::npos && nl > 0 && nl >= half)
        return nl;
    for (size_t i = std::min(limit, s.size() - 1); i > half; --i) {
        if ((s[i] == ' ' || s[i] == '\t' || s[i] == '\n') && endsSentence(s, i))
            return i;
        // Ideographic full stops need no space after them.
        if (i >= 3 && (s.substr(i - 3, 3) == "\u3002" || s.substr(i - 3, 3) == "\uff01" ||
                       s.substr(i - 3, 3) == "\uff1f"))
            return i;
    }
    const size_t space = s.substr(0, std::min(limit + 1, s.size())).find_last_of(" \t");
    if (space != std::string_view::npos && space > 0 && space >= half)
        return space;
    return floorToCharacter(s, limit);
}

}  // namespace

struct Chunker::Piece {
    detail::TextUnit unit;
    size_t offset = 0;     // text before it is consumed
    bool partial = false;  // an earlier chunk took the start of this unit
};

Chunker::Chunker(const Document& document, const Tokenizer& tokenizer, int64_t maxTokens)
    : m_document(document), m_tokenizer(tokenizer), m_maxTokens(std::max<int64_t>(maxTokens, 8)) {
    for (int32_t id = 0; id < tokenizer.vocabSize(); ++id)
        m_maxPieceBytes = std::max(m_maxPieceBytes, tokenizer.pieceBytes(id).size());
}

Chunker::~Chunker() = default;
Chunker::Chunker(Chunker&&) noexcept = default;

int64_t Chunker::countTokens(const std::string& text) const {
    return static_cast<int64_t>(m_tokenizer.encode(text).size());
}

int64_t Chunker::tokensUpTo(const std::string& text, int64_t limit) const {
    // A token covers at most m_maxPieceBytes bytes, so longer text surely exceeds `limit`; and
    // text averaging over kMaxBytesPerToken bytes a token is taken to exceed it too (at worst a
    // paragraph of long runs of one character is cut where it might have fit), which saves
    // tokenizing very long lines again for every chunk cut from them.
    constexpr size_t kMaxBytesPerToken = 24;
    if (text.size() > static_cast<size_t>(limit) * std::min(m_maxPieceBytes, kMaxBytesPerToken))
        return limit + 1;
    return countTokens(text);
}

Result<bool> Chunker::fillPiece() {
    if (m_piece)
        return true;
    if (m_eof)
        return false;
    if (!m_opened) {
        auto units = m_document.openUnits();
        if (!units)
            return units.error();
        m_units = std::move(*units);
        m_opened = true;
    }
    for (;;) {
        auto piece = std::make_unique<Piece>();
        auto got = m_units->next(piece->unit);
        if (!got)
            return got.error();
        if (!*got) {
            m_eof = true;
            m_units.reset();
            return false;
        }
        piece->offset = skipSpace(piece->unit.text, 0);
        m_bytesRead = piece->unit.endByte;
        if (piece->offset < piece->unit.text.size()) {
            m_piece = std::move(piece);
            return true;
        }
    }
}

// The longest prefix of `rest` (cut by bestCut) that still fits the budget after `head`.
size_t Chunker::splitPoint(const std::string& head, const std::string& rest) const {
    const int64_t headTokens = head.empty() ? 0 : countTokens(head);
    const int64_t avail = m_maxTokens - headTokens;
    if (avail <= 0)
        return 0;
    // Estimate the byte offset after `avail` tokens from the tokens of a window of `rest`.
    size_t window = std::min(rest.size(), static_cast<size_t>(avail) * 8 + 64);
    std::vector<int32_t> ids;
    for (;;) {
        ids = m_tokenizer.encode(std::string_view(rest).substr(0, window));
        if (static_cast<int64_t>(ids.size()) > avail || window == rest.size())
            break;
        window = std::min(rest.size(), window * 2);
    }
    size_t estimate = 0, covered = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        const size_t bytes = m_tokenizer.pieceBytes(ids[i]).size();
        if (static_cast<int64_t>(i) < avail)
            estimate += bytes;
        covered += bytes;
    }
    if (covered != window && !ids.empty())  // a normalising tokenizer: scale instead
        estimate = window * static_cast<size_t>(avail) / ids.size();
    estimate = floorToCharacter(rest, std::min(estimate, rest.size()));
    while (estimate > 0) {
        const size_t cut = bestCut(rest, estimate);
        if (cut == 0)
            return 0;
        if (countTokens(head + std::string(rtrim(std::string_view(rest).substr(0, cut)))) <=
            m_maxTokens)
            return cut;
        estimate = floorToCharacter(rest, cut - std::max<size_t>(1, cut / 10));
    }
    return 0;
}

Result<std::optional<Chunk>> Chunker::next() {
    Chunk chunk;
    bool empty = true;
    for (;;) {
        auto has = fillPiece();
        if (!has)
            return has.error();
        if (!*has)
            break;
        Piece& p = *m_piece;
        const detail::TextUnit& unit = p.unit;
        if (!empty && !p.partial && unit.before == detail::Boundary::Section &&
            chunk.tokens * 2 >= m_maxTokens)
            break;  // start sections on a fresh chunk when this one is half full
        const std::string sep = empty || p.partial ? "" : separator(unit.before);
        const std::string rest = unit.text.substr(p.offset);
        const std::string whole(rtrim(rest));
        const int64_t restTokens = tokensUpTo(whole, m_maxTokens);
        if (restTokens <= m_maxTokens) {
            std::string candidate = chunk.text + sep + whole;
            const int64_t tokens = empty ? restTokens : countTokens(candidate);
            if (tokens <= m_maxTokens) {
                if (empty) {
                    const detail::SourcePosition first = detail::positionAt(unit, p.offset);
                    chunk.firstLine = first.line;
                    chunk.beginByte = first.byte;
                }
                const size_t end = p.offset + whole.size();
                chunk.lastLine = detail::positionAt(unit, end - 1).line;
                chunk.endByte = detail::endByteAt(unit, end);
                chunk.text = std::move(candidate);
                chunk.tokens = tokens;
                empty = false;
                m_piece.reset();
                continue;
            }
        }
        const bool mustSplit =
            restTokens > m_maxTokens || (unit.before == detail::Boundary::None && !p.partial);
        if (!mustSplit)
            break;
        if (!empty && m_maxTokens - chunk.tokens < std::max<int64_t>(m_maxTokens / 8, 4))
            break;
        const size_t cut = splitPoint(chunk.text + sep, rest);
        if (cut == 0)
            break;  // nothing more fits (for an empty chunk this cannot happen: budget >= 8)
        const std::string piece(rtrim(std::string_view(rest).substr(0, cut)));
        if (empty) {
            const detail::SourcePosition first = detail::positionAt(unit, p.offset);
            chunk.firstLine = first.line;
            chunk.beginByte = first.byte;
        }
        const size_t end = p.offset + piece.size();
        chunk.lastLine = detail::positionAt(unit, end - 1).line;
        chunk.endByte = detail::endByteAt(unit, end);
        chunk.text += sep + piece;
        chunk.tokens = countTokens(chunk.text);
        empty = false;
        p.offset = skipSpace(unit.text, p.offset + cut);
        p.partial = true;
        if (p.offset >= unit.text.size())
            m_piece.reset();
        break;
    }
    if (empty)
        return std::optional<Chunk>();
    chunk.index = m_index++;
    return std::optional<Chunk>(std::move(chunk));
}

Result<std::vector<Chunk>> chunkDocument(const Document& document, const Tokenizer& tokenizer,
                                         int64_t maxTokens, std::stop_token stop) {
    Chunker chunker(document, tokenizer, maxTokens);
    std::vector<Chunk> chunks;
    for (;;) {
        if (stop.stop_requested())
            return makeError(ErrorCode::Cancelled, "chunking cancelled");
        auto chunk = chunker.next();
        if (!chunk)
            return chunk.error();
        if (!*chunk)
            return chunks;
        chunks.push_back(std::move(**chunk));
    }
}

}  // namespace griffin
