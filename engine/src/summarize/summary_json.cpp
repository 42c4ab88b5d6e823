// SPDX-License-Identifier: Apache-2.0
// JSON and Markdown renderings of a SummaryResult.
#include "summarize/summary_json.h"

namespace griffin {
namespace detail {
namespace {

std::optional<TextEncoding> parseEncoding(const std::string& name) {
    for (TextEncoding e : {TextEncoding::Utf8, TextEncoding::Utf8Bom, TextEncoding::Utf16Le,
                           TextEncoding::Utf16Be, TextEncoding::Latin1}) {
        if (name == textEncodingName(e))
            return e;
    }
    return std::nullopt;
}

std::optional<DocumentFormat> parseFormat(const std::string& name) {
    for (DocumentFormat f :
         {DocumentFormat::Text, DocumentFormat::Markdown, DocumentFormat::Html}) {
        if (name == documentFormatName(f))
            return f;
    }
    return std::nullopt;
}

nlohmann::json samplingJson(const SamplingParams& p) {
    return {{"temperature", p.temperature},
            {"top_k", p.topK},
            {"top_p", p.topP},
            {"min_p", p.minP},
            {"repeat_penalty", p.repeatPenalty},
            {"repeat_window", p.repeatWindow},
            {"seed", p.seed}};
}

}  // namespace

nlohmann::json documentJson(const DocumentInfo& info) {
    return {{"path", info.path.string()},
            {"bytes", info.bytes},
            {"sha256", info.sha256},
            {"encoding", textEncodingName(info.encoding)},
            {"format", documentFormatName(info.format)}};
}

nlohmann::json optionsJson(const SummaryOptions& options, SummaryStrategy requested) {
    nlohmann::json j = {{"strategy", summaryStrategyName(requested)},
                        {"length", summaryLengthName(options.length)},
                        {"focus", options.focus},
                        {"max_tokens", options.maxTokens},
                        {"chunk_tokens", options.chunkTokens},
                        {"sampling", samplingJson(options.sampling)}};
    // Only a language given explicitly: sessions of "auto" runs keep the identity (and folder
    // name) they had before languages were an option.
    const std::string language = normalizeSummaryLanguage(options.language).value_or("auto");
    if (language != "auto")
        j["language"] = language;
    return j;
}

nlohmann::json sectionJson(const SummarySection& s) {
    return {{"index", s.index},          {"first_line", s.firstLine}, {"last_line", s.lastLine},
            {"begin_byte", s.beginByte}, {"end_byte", s.endByte},     {"tokens", s.tokens},
            {"summary", s.summary}};
}

SummarySection sectionFromJson(const nlohmann::json& j) {
    SummarySection s;
    s.index = j.at("index").get<int64_t>();
    s.firstLine = j.at("first_line").get<int64_t>();
    s.lastLine = j.at("last_line").get<int64_t>();
    s.beginByte = j.at("begin_byte").get<int64_t>();
    s.endByte = j.at("end_byte").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.summary = j.at("summary").get<std::string>();
    return s;
}

nlohmann::json resultJson(const SummaryResult& r) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const SummarySection& s : r.sections) chunks.push_back(sectionJson(s));
    return {{"source", documentJson(r.source)},
            {"strategy", summaryStrategyName(r.strategy)},
            {"requested_strategy", summaryStrategyName(r.requested)},
            {"options",
             {{"length", summaryLengthName(r.options.length)},
              {"focus", r.options.focus},
              {"language", r.options.language},
              {"max_tokens", r.options.maxTokens},
              {"chunk_tokens", r.options.chunkTokens},
              {"sampling", samplingJson(r.options.sampling)}}},
            {"language", r.language},
            {"model", r.modelFingerprint},
            {"document_tokens", r.documentTokens},
            {"chunk_count", r.chunks},
            {"combine_levels", r.combineLevels},
            {"chunks", chunks},
            {"summary", r.summary},
            {"resumed", r.resumed},
            {"seconds", r.seconds}};
}

SummaryResult resultFromJson(const nlohmann::json& j) {
    SummaryResult r;
    const nlohmann::json& src = j.at("source");
    r.source.path = src.at("path").get<std::string>();
    r.source.bytes = src.at("bytes").get<int64_t>();
    r.source.sha256 = src.at("sha256").get<std::string>();
    r.source.encoding =
        parseEncoding(src.at("encoding").get<std::string>()).value_or(TextEncoding::Utf8);
    r.source.format =
        parseFormat(src.at("format").get<std::string>()).value_or(DocumentFormat::Text);
    r.strategy = parseSummaryStrategy(j.at("strategy").get<std::string>())
                     .value_or(SummaryStrategy::MapReduce);
    r.requested = parseSummaryStrategy(j.at("requested_strategy").get<std::string>())
                      .value_or(SummaryStrategy::Auto);
    const nlohmann::json& o = j.at("options");
    r.options.strategy = r.requested;
    r.options.length =
        parseSummaryLength(o.at("length").get<std::string>()).value_or(SummaryLength::Short);
    r.options.focus = o.at("focus").get<std::string>();
    r.options.language = o.value("language", std::string("auto"));  // absent before languages
    r.language = j.value("language", std::string("unknown"));
    r.options.maxTokens = o.at("max_tokens").get<int64_t>();
    r.options.chunkTokens = o.at("chunk_tokens").get<int64_t>();
    const nlohmann::json& s = o.at("sampling");
    r.options.sampling.temperature = s.at("temperature").get<float>();
    r.options.sampling.topK = s.at("top_k").get<int32_t>();
    r.options.sampling.topP = s.at("top_p").get<float>();
    r.options.sampling.minP = s.at("min_p").get<float>();
    r.options.sampling.repeatPenalty = s.at("repeat_penalty").get<float>();
    r.options.sampling.repeatWindow = s.at("repeat_window").get<int32_t>();
    r.options.sampling.seed = s.at("seed").get<uint64_t>();
    r.modelFingerprint = j.at("model").get<std::string>();
    r.documentTokens = j.at("document_tokens").get<int64_t>();
    r.chunks = j.at("chunk_count").get<int64_t>();
    r.combineLevels = j.at("combine_levels").get<int>();
    for (const nlohmann::json& c : j.at("chunks")) r.sections.push_back(sectionFromJson(c));
    r.summary = j.at("summary").get<std::string>();
    r.resumed = j.at("resumed").get<bool>();
    r.seconds = j.at("seconds").get<double>();
    return r;
}

}  // namespace detail

std::string summaryToJson(const SummaryResult& result) {
    return detail::resultJson(result).dump(2, ' ', false,
                                           nlohmann::json::error_handler_t::replace) +
           "\n";
}

std::string summaryToMarkdown(const SummaryResult& r) {
    const std::string name = r.source.path.filename().string();
    std::string out =
        "# Summary of " + (name.empty() ? std::string("the document") : name) + "\n\n";
    out += "- Source: " + r.source.path.string() + " (" + std::to_string(r.source.bytes) +
           " bytes, " + textEncodingName(r.source.encoding) + ", " +
           documentFormatName(r.source.format) + ")\n";
    out += "- SHA-256: " + r.source.sha256 + "\n";
    out += "- Strategy: " + std::string(summaryStrategyName(r.strategy)) +
           (r.requested == SummaryStrategy::Auto ? " (auto)" : "") + "; length " +
           summaryLengthName(r.options.length) + "; " + std::to_string(r.documentTokens) +
           " tokens in " + std::to_string(r.chunks) + (r.chunks == 1 ? " chunk" : " chunks") + "\n";
    if (!r.options.focus.empty())
        out += "- Focus: " + r.options.focus + "\n";
    if (r.language == "unknown")
        out += "- Language: not detected\n";
    else
        out += "- Language: " + r.language + (r.options.language == "auto" ? " (detected)" : "") +
               "\n";
    out += "\n## Summary\n\n" + r.summary + "\n";
    if (!r.sections.empty()) {
        out += r.strategy == SummaryStrategy::Refine ? "\n## Summary after each part\n"
                                                     : "\n## Parts\n";
        for (const SummarySection& s : r.sections) {
            out += "\n### Part " + std::to_string(s.index + 1) + " (lines " +
                   std::to_string(s.firstLine) + "-" + std::to_string(s.lastLine) + ")\n\n" +
                   s.summary + "\n";
        }
    }
    return out;
}

}  // namespace griffin
