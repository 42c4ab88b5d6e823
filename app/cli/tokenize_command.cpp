// SPDX-License-Identifier: Apache-2.0
// `griffin tokenize --model PATH --text TEXT [--json]`: the ids and pieces of TEXT (no BOS).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"

namespace griffin::cli {

int runTokenize(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model", "--text"};
    spec.flags = {"--json"};
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("tokenize", args.error().message);
    auto text = args->get("--text");
    if (!text)
        return fail("tokenize", "--text TEXT is required");
    auto model = resolveModel(*args);
    if (!model)
        return fail("tokenize", model.error().message);
    auto tokenizer = Tokenizer::loadForModel(*model);
    if (!tokenizer)
        return fail("tokenize", tokenizer.error().message);
    const auto ids = (*tokenizer)->encode(*text);
    if (args->has("--json")) {
        nlohmann::json out = nlohmann::json::array();
        for (int32_t id : ids) out.push_back({{"id", id}, {"piece", (*tokenizer)->piece(id)}});
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    for (int32_t id : ids) std::cout << id << "\t" << (*tokenizer)->piece(id) << "\n";
    std::cout << ids.size() << " tokens\n";
    return 0;
}

}  // namespace griffin::cli
