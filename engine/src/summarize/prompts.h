// SPDX-License-Identifier: Apache-2.0
// The instructions of each summarisation step, as token ids in the Gemma chat format. Pieces
// are encoded separately (instruction, document text, closing) so that a chunk's ids are always
// tokenizer.encode(chunk.text) and a prefix state can be prefilled once and forked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/summarize.h"
#include "griffin/tokenizer.h"

namespace griffin::detail {

// Thread-compatible. Requires: ChatTemplate::supports(tokenizer). `options.language` is the
// language to ask for as resolved (not "auto"): each instruction then ends with "Write the
// summary in <Language>." unless it is English or unknown.
class Prompts {
public:
    Prompts(const Tokenizer& tokenizer, const SummaryOptions& options)
        : m_tokenizer(tokenizer), m_options(options) {}

    // "<bos><start_of_turn>user\n" + instruction + "\n\n": then the chunk text and turnEnd().
    // `final`: the summary asked for (length, focus); otherwise a part of a longer document.
    std::vector<int32_t> mapPrefix(bool final) const;
    // Stream: the document comes first, the instruction after it (near the answer, inside the
    // attention window): streamPrefix(), the chunks joined by chunkJoin(), streamSuffix().
    std::vector<int32_t> streamPrefix() const;
    std::vector<int32_t> streamSuffix() const;
    std::vector<int32_t> chunkJoin() const;
    // Combining: the whole prompt for these part summaries. `final` as for mapPrefix.
    std::vector<int32_t> combine(const std::vector<SummarySection>& parts, bool final) const;
    // Refine: the prefix (instruction, "Summary so far:"), then refineBody(summary) and the
    // chunk text and turnEnd().
    std::vector<int32_t> refinePrefix() const;
    std::vector<int32_t> refineBody(std::string_view summary) const;
    // "<end_of_turn>\n<start_of_turn>model\n"
    std::vector<int32_t> turnEnd() const;
    // `answer` as the model's finished turn: its text, <end_of_turn>, "\n".
    std::vector<int32_t> closedAnswer(std::string_view answer) const;
    // Ids of one combine entry ("Part k (lines a-b):\n" + summary + "\n\n"), for budgeting.
    std::vector<int32_t> combineEntry(const SummarySection& part, size_t number) const;

    std::vector<int32_t> encode(std::string_view text) const { return m_tokenizer.encode(text); }

private:
    std::string finalWording() const;
    std::string focusSentence() const;
    std::string languageSentence() const;
    std::vector<int32_t> userTurn(std::string_view text) const;
    const Tokenizer& m_tokenizer;
    SummaryOptions m_options;
};

}  // namespace griffin::detail
