// SPDX-License-Identifier: Apache-2.0
// `griffin generate --prompt TEXT [--chat] [--system TEXT] [--max-tokens N] [sampling flags]
// [--stop STR]... [--stats-json FILE] [--top-alternatives N] [--json]`: streams the continuation
// to stdout as it is generated, or with --json prints one object with every token's probability
// (and its top alternatives) once generation ends.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/npy.h"
#include "cli/session.h"
#include "griffin/chat_template.h"

namespace griffin::cli {
namespace {

nlohmann::json statsJson(const GenerationStats& s, uint64_t seed) {
    return {{"prompt_tokens", s.promptTokens},
            {"generated_tokens", s.generatedTokens},
            {"stop_reason", stopReasonName(s.stopReason)},
            {"ttft_ms", s.ttftMs},
            {"prefill_tokens_per_s", s.prefillTokensPerS},
            {"decode_tokens_per_s", s.decodeTokensPerS},
            {"seed", seed}};
}

}  // namespace

int runGenerate(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model", "--prompt",     "--system",          "--max-tokens",
                   "--stop",  "--stats-json", "--top-alternatives"};
    addLoadOptions(spec);
    spec.flags = {"--chat", "--json"};
    spec.repeatable = {"--stop"};
    addSamplingOptions(spec);
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("generate", args.error().message);
    auto prompt = args->get("--prompt");
    if (!prompt)
        return fail("generate", "--prompt TEXT is required");
    auto sampling = samplingFromArgs(*args);
    if (!sampling)
        return fail("generate", sampling.error().message);
    auto maxTokens = args->getInt("--max-tokens", 256, 1, 1 << 24);
    if (!maxTokens)
        return fail("generate", maxTokens.error().message);
    auto alternatives = args->getInt("--top-alternatives", 0, 0, 100);
    if (!alternatives)
        return fail("generate", alternatives.error().message);
    const bool json = args->has("--json");
    if (*alternatives > 0 && !json)
        return fail("generate", "--top-alternatives needs --json");
    sampling->topAlternatives = static_cast<int32_t>(*alternatives);

    InterruptWatcher interrupt;  // before the model's worker threads exist
    auto loaded = loadModelWithTokenizer(*args);
    if (!loaded)
        return fail("generate", loaded.error().message);
    Tokenizer& tokenizer = *loaded->tokenizer;

    std::vector<int32_t> ids;
    if (args->has("--chat")) {
        if (!ChatTemplate::supports(tokenizer)) {
            return fail("generate", "--chat: the tokenizer has no <start_of_turn>/<end_of_turn>");
        }
        const ChatMessage message{Role::User, *prompt};
        auto encoded = ChatTemplate(tokenizer).encode(std::span(&message, 1),
                                                      args->get("--system").value_or(""), true);
        if (!encoded)
            return fail("generate", encoded.error().message);
        ids = std::move(*encoded);
    } else {
        if (args->has("--system"))
            return fail("generate", "--system needs --chat");
        ids = tokenizer.encode(*prompt);
        ids.insert(ids.begin(), tokenizer.bosId());
    }

    GenerateOptions options;
    options.sampling = *sampling;
    options.maxTokens = *maxTokens;
    options.stopStrings = args->getAll("--stop");
    options.stopAtEndOfTurn = args->has("--chat");
    options.stop = interrupt.arm();
    // --json: one object at the end, {"text", "tokens": [{"id", "text", "prob",
    // "alternatives"}], "stats"}; otherwise the text streams as it is generated.
    nlohmann::json tokens = nlohmann::json::array();
    options.onToken = [&](const TokenEvent& e) {
        if (!json) {
            std::cout << e.text << std::flush;
            return;
        }
        if (e.id < 0) {  // held-back text released at the end belongs to the last token
            if (!tokens.empty())
                tokens.back()["text"] = tokens.back()["text"].get<std::string>() + e.text;
            return;
        }
        nlohmann::json token = {{"id", e.id}, {"text", e.text}, {"prob", e.probability}};
        if (*alternatives > 0) {
            nlohmann::json alts = nlohmann::json::array();
            for (const TokenProbability& a : e.alternatives) {
                alts.push_back(
                    {{"id", a.id}, {"text", tokenizer.pieceBytes(a.id)}, {"prob", a.probability}});
            }
            token["alternatives"] = std::move(alts);
        }
        tokens.push_back(std::move(token));
    };
    State state = loaded->model->newState();
    auto result = Generator(*loaded->model, tokenizer).generate(state, ids, options);
    if (!result)
        return fail("generate", result.error().message);
    if (json) {
        const nlohmann::json out = {{"text", result->text},
                                    {"tokens", std::move(tokens)},
                                    {"stats", statsJson(result->stats, sampling->seed)}};
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << "\n";
    }
    if (auto file = args->get("--stats-json")) {
        const std::string text = statsJson(result->stats, sampling->seed).dump(2) + "\n";
        if (auto s = writeFileAtomically(*file, text); !s)
            return fail("generate", s.error().message);
    }
    return 0;
}

}  // namespace griffin::cli
