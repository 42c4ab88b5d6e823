// SPDX-License-Identifier: Apache-2.0
#include "griffin/tokenizer.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include <sentencepiece_processor.h>

#include "io/gguf.h"

namespace griffin {
namespace {

constexpr size_t kMaxTokenizerBytes = size_t{256} << 20;
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space
constexpr std::string_view kStartOfTurn = "<start_of_turn>";
constexpr std::string_view kEndOfTurn = "<end_of_turn>";

// Reads a protobuf varint at bytes[pos]; false at the end or on an overlong one.
bool readVarint(std::string_view bytes, size_t& pos, uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
        const auto b = static_cast<uint8_t>(bytes[pos++]);
        value |= static_cast<uint64_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0)
            return true;
    }
    return false;
}

// Calls visit(field, wireType, varint, payload) for each field of a protobuf message; false if
// the encoding is broken.
template <class Visit>
bool scanFields(std::string_view message, Visit visit) {
    size_t pos = 0;
    while (pos < message.size()) {
        uint64_t tag = 0, value = 0;
        if (!readVarint(message, pos, tag))
            return false;
        std::string_view payload;
        switch (tag & 7) {
            case 0:
                if (!readVarint(message, pos, value))
                    return false;
                break;
            case 1:
            case 5: {
                const size_t n = (tag & 7) == 1 ? 8 : 4;
                if (message.size() - pos < n)
                    return false;
                pos += n;
                break;
            }
            case 2:
                if (!readVarint(message, pos, value) || value > message.size() - pos)
                    return false;
                payload = message.substr(pos, static_cast<size_t>(value));
                pos += static_cast<size_t>(value);
                break;
            default:
                return false;
        }
        visit(tag >> 3, tag & 7, value, payload);
    }
    return true;
}

// The type of every piece in a serialized ModelProto (field 1: repeated SentencePiece, whose
// field 3 is the type, NORMAL = 1 when absent).
std::vector<uint8_t> pieceTypes(std::string_view modelProto) {
    std::vector<uint8_t> types;
    bool ok = scanFields(
        modelProto, [&](uint64_t field, uint64_t wire, uint64_t, std::string_view piece) {
            if (field != 1 || wire != 2)
                return;
            uint8_t type = 1;
            (void)scanFields(piece, [&](uint64_t f, uint64_t w, uint64_t value, std::string_view) {
                if (f == 3 && w == 0 && value <= 6)
                    type = static_cast<uint8_t>(value);
            });
            types.push_back(type);
        });
    return ok ? types : std::vector<uint8_t>{};
}

}  // namespace

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
    std::string serialized;  // the model bytes as given
    // SentencePiece::Type of each piece (1 normal ... 6 byte), read from the proto because this
    // sentencepiece version has no IsUserDefined(); empty if the scan failed.
    std::vector<uint8_t> protoTypes;
};

Tokenizer::Tokenizer() : m_impl(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return makeError(ErrorCode::NotFound,
                         file.string() + ": cannot open the tokenizer (tokenizer.model missing?)");
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().size() > kMaxTokenizerBytes) {
        return makeError(ErrorCode::Corrupt,
                         file.string() + ": larger than 256 MiB; not a tokenizer");
    }
    return fromSerialized(bytes.str(), file.string());
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::loadForModel(const std::filesystem::path& modelPath) {
    std::error_code ec;
    if (modelPath.extension() == ".gguf" && !std::filesystem::is_directory(modelPath, ec)) {
        auto archive = io::GgufArchive::open(modelPath);
        if (!archive)
            return archive.error();
        auto bytes = (*archive)->tokenizerBytes();
        if (!bytes)
            return bytes.error();
        return fromSerialized(*bytes, modelPath.string() + " (embedded tokenizer)");
    }
    const std::filesystem::path dir =
        std::filesystem::is_directory(modelPath, ec)
            ? modelPath
            : (modelPath.parent_path().empty() ? std::filesystem::path(".")
                                               : modelPath.parent_path());
    const std::filesystem::path file = dir / "tokenizer.model";
    if (!std::filesystem::exists(file, ec)) {
        return makeError(ErrorCode::NotFound,
                         dir.string() +
                             ": no tokenizer.model here; copy it from the model's download into "
                             "the folder");
    }
    return load(file);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::fromSerialized(std::string_view bytes,
                                                             std::string_view sourceName) {
    const std::string source(sourceName);
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    sentencepiece::SentencePieceProcessor& sp = t->m_impl->sp;
    if (bytes.empty())
        return makeError(ErrorCode::Corrupt, source + ": empty tokenizer file");
    const auto status = sp.LoadFromSerializedProto(bytes);
    if (!status.ok()) {
        return makeError(ErrorCode::Corrupt,
                         source + ": not a SentencePiece model (" + status.ToString() + ")");
    }
    auto special = [&](std::string_view piece) -> std::optional<int32_t> {
        const int id = sp.PieceToId(piece);
        if (id < 0 || id >= sp.GetPieceSize() || sp.IdToPiece(id) != piece)
            return std::nullopt;
        return id;
    };
    auto bos = special("<bos>"), eos = special("<eos>");
    if (!bos || !eos) {
        // Not Gemma's spelling: fall back to the ids the trainer declared, if they are control.
        if (!bos && sp.bos_id() >= 0 && sp.IsControl(sp.bos_id()))
            bos = sp.bos_id();
        if (!eos && sp.eos_id() >= 0 && sp.IsControl(sp.eos_id()))
            eos = sp.eos_id();
    }
    if (!bos || !eos) {
        return makeError(ErrorCode::Unsupported,
                         source + ": the tokenizer has no <bos>/<eos> control pieces");
    }
    t->m_impl->serialized = std::string(bytes);
    t->m_impl->protoTypes = pieceTypes(bytes);
    t->m_bos = *bos;
    t->m_eos = *eos;
    t->m_pad = special("<pad>");
    t->m_startOfTurn = special(kStartOfTurn);
    t->m_endOfTurn = special(kEndOfTurn);
    std::vector<std::string> pieces;
    (void)sp.Encode("a", &pieces);
    t->m_dummyPrefix = !pieces.empty() && pieces.front().starts_with(kSpace);
    return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool allowSpecial) const {
    std::vector<int32_t> out;
    auto append = [&](std::string_view part) {
        std::vector<int> ids;
        (void)m_impl->sp.Encode(part, &ids);
        out.insert(out.end(), ids.begin(), ids.end());
    };
    if (allowSpecial || (!m_startOfTurn && !m_endOfTurn)) {
        append(text);
        return out;
    }
    // Break every literal turn marker after its '<' so it is encoded as ordinary text.
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const std::string_view rest = text.substr(i);
        if (rest.starts_with(kStartOfTurn) || rest.starts_with(kEndOfTurn)) {
            append(text.substr(start, i + 1 - start));
            start = i + 1;
        }
    }
    append(text.substr(start));
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
    IncrementalDecoder decoder(*this);
    std::string text;
    for (int32_t id : ids) text += decoder.push(id);
    return text + decoder.flush();
}

int32_t Tokenizer::vocabSize() const {
    return m_impl->sp.GetPieceSize();
}

std::string Tokenizer::piece(int32_t id) const {
    if (id < 0 || id >= vocabSize())
        return {};
    return m_impl->sp.IdToPiece(id);
}

bool Tokenizer::isControl(int32_t id) const {
    return id >= 0 && id < vocabSize() && m_impl->sp.IsControl(id);
}

Tokenizer::PieceKind Tokenizer::pieceKind(int32_t id) const {
    const auto& sp = m_impl->sp;
    if (id < 0 || id >= vocabSize())
        return PieceKind::Normal;
    if (static_cast<size_t>(vocabSize()) == m_impl->protoTypes.size()) {
        switch (m_impl->protoTypes[static_cast<size_t>(id)]) {
            case 2:
                return PieceKind::Unknown;
            case 3:
                return PieceKind::Control;
            case 4:
                return PieceKind::UserDefined;
            case 5:
                return PieceKind::Unused;
            case 6:
                return PieceKind::Byte;
            default:
                return PieceKind::Normal;
        }
    }
    if (sp.IsUnknown(id))
        return PieceKind::Unknown;
    if (sp.IsControl(id))
        return PieceKind::Control;
    if (sp.IsByte(id))
        return PieceKind::Byte;
    if (sp.IsUnused(id))
        return PieceKind::Unused;
    return PieceKind::Normal;
}

float Tokenizer::score(int32_t id) const {
    return id >= 0 && id < vocabSize() ? m_impl->sp.GetScore(id) : 0.0f;
}

std::optional<int32_t> Tokenizer::unknownId() const {
    const int id = m_impl->sp.unk_id();
    if (id < 0 || id >= vocabSize() || !m_impl->sp.IsUnknown(id))
        return std::nullopt;
    return id;
}

const std::string& Tokenizer::serialized() const {
    return m_impl->serialized;
}

std::string Tokenizer::pieceBytes(int32_t id) const {
    const auto& sp = m_impl->sp;
    if (id < 0 || id >= vocabSize() || sp.IsControl(id) || sp.IsUnused(id))
        return {};
    if (id == m_startOfTurn || id == m_endOfTurn)
        return {};
    std::string p = sp.IdToPiece(id);
    if (sp.IsByte(id)) {  // "<0xAB>"
        if (p.size() == 6)
            return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
        return {};
    }
    if (sp.IsUnknown(id))
        return "\xEF\xBF\xBD";  // U+FFFD
    std::string out;
    for (size_t i = 0; i < p.size();) {
        if (std::string_view(p).substr(i).starts_with(kSpace)) {
            out += ' ';
            i += kSpace.size();
        } else {
            out += p[i++];
        }
    }
    return out;
}

std::string takeCompleteUtf8(std::string& bytes) {
    std::string out;
    size_t i = 0;
    while (i < bytes.size()) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        size_t len = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
        if (len == 0 || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4)) {
            out += "\xEF\xBF\xBD";  // a byte that cannot start a character
            ++i;
            continue;
        }
        size_t have = 1;
        bool bad = false;
        for (; have < len && i + have < bytes.size(); ++have) {
            const unsigned char cc = static_cast<unsigned char>(bytes[i + have]);
            bool ok = (cc & 0xC0) == 0x80;
            // Overlong, surrogate and out-of-range forms (second byte constraints).
            if (ok && have == 1) {
                if (c == 0xE0)
                    ok = cc >= 0xA0;
                if (c == 0xED)
                    ok = cc < 0xA0;
                if (c == 0xF0)
                    ok = cc >= 0x90;
                if (c == 0xF4)
                    ok = cc < 0x90;
            }
            if (!ok) {
                bad = true;
                break;
            }
        }
        if (bad) {
            out += "\xEF\xBF\xBD";
            i += have;  // skip the lead and the valid continuations seen so far
            continue;
        }
        if (have < len)
            break;  // incomplete: wait for more bytes
        out.append(bytes, i, len);
        i += len;
    }
    bytes.erase(0, i);
    return out;
}

std::string IncrementalDecoder::push(int32_t id) {
    std::string bytes = m_tokenizer.pieceBytes(id);
    if (!m_started && !bytes.empty()) {
        m_started = true;
        // SentencePiece drops the space its normaliser put in front of the text.
        if (m_tokenizer.addsDummyPrefix() && bytes.front() == ' ')
            bytes.erase(0, 1);
    }
    m_pending += bytes;
    return takeCompleteUtf8(m_pending);
}

std::string IncrementalDecoder::flush() {
    std::string out = takeCompleteUtf8(m_pending);
    if (!m_pending.empty())
        out += "\xEF\xBF\xBD";
    m_pending.clear();
    return out;
}

void IncrementalDecoder::reset() {
    m_pending.clear();
    m_started = false;
}

}  // namespace griffin
