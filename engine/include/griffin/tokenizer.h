// SPDX-License-Identifier: Apache-2.0
// Tokenizer: SentencePiece encode/decode with the Gemma special tokens looked up by piece
// (griffin-spec.md §5), and IncrementalDecoder for streaming text that never splits a character.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"

namespace griffin {

// Not thread-safe for loading; const methods may be called concurrently.
class Tokenizer {
public:
    // Loads a SentencePiece `tokenizer.model`. Refuses files that are not a SentencePiece model or
    // lack the control pieces <bos> and <eos>; errors name the file.
    static Result<std::unique_ptr<Tokenizer>> load(const std::filesystem::path& file);
    // The same from the serialized model bytes (e.g. embedded in a GGUF); `sourceName` prefixes
    // error messages.
    static Result<std::unique_ptr<Tokenizer>> fromSerialized(std::string_view bytes,
                                                             std::string_view sourceName);
    // The tokenizer of the model at `modelPath`, as Model::load takes it: for a folder its
    // tokenizer.model; for config.json or a .safetensors file the tokenizer.model beside it; for
    // a .gguf file the SentencePiece model embedded in it. Errors name the file and say what is
    // missing (NotFound when the folder has no tokenizer.model or the GGUF embeds none).
    static Result<std::unique_ptr<Tokenizer>> loadForModel(const std::filesystem::path& modelPath);
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Ids of `text`, without BOS. The turn markers <start_of_turn>/<end_of_turn> written in the
    // text are encoded as plain characters unless `allowSpecial` (so user text cannot inject
    // turns).
    std::vector<int32_t> encode(std::string_view text, bool allowSpecial = false) const;
    // Text of `ids`; control pieces and turn markers are dropped, byte pieces joined as UTF-8.
    std::string decode(std::span<const int32_t> ids) const;

    int32_t vocabSize() const;
    // The piece string of `id` as stored (e.g. "▁the", "<0x0A>"); empty if out of range.
    std::string piece(int32_t id) const;
    // Raw bytes `id` contributes to decoded text: "▁" becomes a space, byte pieces their byte,
    // control pieces, turn markers and unknown ids nothing.
    std::string pieceBytes(int32_t id) const;
    bool isControl(int32_t id) const;

    // SentencePiece's piece types.
    enum class PieceKind { Normal, Unknown, Control, UserDefined, Unused, Byte };
    // The type of piece `id`; Normal when out of range.
    PieceKind pieceKind(int32_t id) const;
    // The piece's score (a log probability in unigram models); 0 when out of range.
    float score(int32_t id) const;
    // The id of the unknown piece, if the vocabulary has one.
    std::optional<int32_t> unknownId() const;
    // The serialized SentencePiece model this tokenizer was made from, byte for byte (what
    // load() read or fromSerialized() was given). Valid while the tokenizer lives.
    const std::string& serialized() const;

    int32_t bosId() const { return m_bos; }
    int32_t eosId() const { return m_eos; }
    std::optional<int32_t> padId() const { return m_pad; }
    // Present in Gemma-style vocabularies; required for the chat template.
    std::optional<int32_t> startOfTurnId() const { return m_startOfTurn; }
    std::optional<int32_t> endOfTurnId() const { return m_endOfTurn; }
    // Whether the normaliser prepends a space to the input (then decoding drops it again).
    bool addsDummyPrefix() const { return m_dummyPrefix; }

private:
    struct Impl;
    Tokenizer();
    std::unique_ptr<Impl> m_impl;
    int32_t m_bos = -1, m_eos = -1;
    std::optional<int32_t> m_pad, m_startOfTurn, m_endOfTurn;
    bool m_dummyPrefix = false;
};

// Turns a stream of ids into text pieces that are always complete, valid UTF-8: bytes of a
// character split across ids are held back until it is complete; invalid sequences become
// U+FFFD. Not thread-safe. Keeps a reference to the tokenizer.
class IncrementalDecoder {
public:
    explicit IncrementalDecoder(const Tokenizer& tokenizer) : m_tokenizer(tokenizer) {}
    // Text that became complete with `id` (possibly empty).
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete character becomes U+FFFD).
    std::string flush();
    void reset();

private:
    const Tokenizer& m_tokenizer;
    std::string m_pending;
    bool m_started = false;
};

// The longest prefix of `bytes` that is valid UTF-8 followed only by an incomplete (but so far
// valid) sequence; invalid bytes are replaced by U+FFFD. Moves the complete part out of `bytes`.
std::string takeCompleteUtf8(std::string& bytes);

}  // namespace griffin
