// SPDX-License-Identifier: Apache-2.0
#include "summarize/prompts.h"

namespace griffin::detail {
namespace {

void append(std::vector<int32_t>& ids, const std::vector<int32_t>& more) {
    ids.insert(ids.end(), more.begin(), more.end());
}

}  // namespace

std::string Prompts::finalWording() const {
    switch (m_options.length) {
        case SummaryLength::Short:
            return "in two or three sentences";
        case SummaryLength::Page:
            return "in about one page";
        case SummaryLength::Bullets:
            return "as a bulleted list of its key points";
        case SummaryLength::Detailed:
            return "in detail, covering each part";
    }
    return "";
}

std::string Prompts::focusSentence() const {
    if (m_options.focus.empty())
        return "";
    return " Focus on this question: " + m_options.focus;
}

// Empty for English and an unknown language: those instructions read as they always did.
std::string Prompts::languageSentence() const {
    const std::string name = summaryLanguageInstructionName(m_options.language);
    return name.empty() ? "" : " Write the summary in " + name + ".";
}

std::vector<int32_t> Prompts::userTurn(std::string_view text) const {
    std::vector<int32_t> ids{m_tokenizer.bosId(), *m_tokenizer.startOfTurnId()};
    append(ids, m_tokenizer.encode("user\n" + std::string(text)));
    return ids;
}

std::vector<int32_t> Prompts::turnEnd() const {
    std::vector<int32_t> ids{*m_tokenizer.endOfTurnId()};
    append(ids, m_tokenizer.encode("\n"));
    ids.push_back(*m_tokenizer.startOfTurnId());
    append(ids, m_tokenizer.encode("model\n"));
    return ids;
}

std::vector<int32_t> Prompts::closedAnswer(std::string_view answer) const {
    std::vector<int32_t> ids = m_tokenizer.encode(answer);
    ids.push_back(*m_tokenizer.endOfTurnId());
    append(ids, m_tokenizer.encode("\n"));
    return ids;
}

std::vector<int32_t> Prompts::mapPrefix(bool final) const {
    const std::string part = m_options.length == SummaryLength::Bullets ? "as a few bullet points"
                                                                        : "in a few sentences";
    const std::string instruction = final ? "Summarize the following text " + finalWording() + "." +
                                                focusSentence() + languageSentence()
                                          : "Summarize the following part of a longer document " +
                                                part + "." + focusSentence() + languageSentence();
    return userTurn(instruction + "\n\n");
}

std::vector<int32_t> Prompts::streamPrefix() const {
    return userTurn("Read the following document.\n\n");
}

std::vector<int32_t> Prompts::streamSuffix() const {
    std::vector<int32_t> ids =
        m_tokenizer.encode("\n\nSummarize the document above " + finalWording() + "." +
                           focusSentence() + languageSentence());
    append(ids, turnEnd());
    return ids;
}

std::vector<int32_t> Prompts::chunkJoin() const {
    return m_tokenizer.encode("\n\n");
}

std::vector<int32_t> Prompts::combineEntry(const SummarySection& part, size_t number) const {
    return m_tokenizer.encode("Part " + std::to_string(number) + " (lines " +
                              std::to_string(part.firstLine) + "-" + std::to_string(part.lastLine) +
                              "):\n" + part.summary + "\n\n");
}

std::vector<int32_t> Prompts::combine(const std::vector<SummarySection>& parts, bool final) const {
    const std::string wording = final ? finalWording() : "in a few sentences";
    std::vector<int32_t> ids = userTurn(
        "The following are summaries of consecutive parts of one document. Combine them into "
        "one summary " +
        wording + "." + focusSentence() + languageSentence() + "\n\n");
    for (size_t i = 0; i < parts.size(); ++i) append(ids, combineEntry(parts[i], i + 1));
    append(ids, turnEnd());
    return ids;
}

std::vector<int32_t> Prompts::refinePrefix() const {
    return userTurn(
        "Below are a summary of the beginning of a document and the next part of that "
        "document. Rewrite the summary " +
        finalWording() + " so that it also covers the next part." + focusSentence() +
        languageSentence() + "\n\nSummary so far:\n");
}

std::vector<int32_t> Prompts::refineBody(std::string_view summary) const {
    return m_tokenizer.encode(std::string(summary) + "\n\nNext part:\n");
}

}  // namespace griffin::detail
