// SPDX-License-Identifier: Apache-2.0
// The `griffin` command line: dispatches to one subcommand (architecture.md, CLI contract).
#include <cstring>
#include <iostream>
#include <string>
#include <utility>

#include "cli/commands.h"
#include "logging.h"
#include "version.h"

namespace {

constexpr const char* kUsage = R"(usage: griffin <command> [options]

commands:
  info    --model PATH [--json]             configuration, parameters, weights, state size
  logits  --model PATH --tokens 2,651,...   logits of every token as float32 [T, vocab] .npy
          [--mode prefill|step|split:K] --out FILE.npy
  tokenize --model PATH --text TEXT [--json] ids and pieces of TEXT
  generate --model PATH --prompt TEXT       stream a continuation to stdout
          [--chat] [--system TEXT] [--max-tokens N] [--stop STR]... [--stats-json FILE]
          [--temperature T] [--top-k K] [--top-p P] [--min-p M] [--repeat-penalty R]
          [--seed S] [--top-alternatives N] [--json]  (--json: one object with every
                                            token's probability and its top N alternatives)
  perplexity --model PATH --file TEXT [--json]
                                            token count, negative log-likelihood, perplexity
  chat    --model PATH [--system TEXT] [--max-tokens N] [sampling flags]
                                            terminal chat (/help inside for commands)
  summarize [--model PATH] FILE [--strategy auto|stream|map-reduce|refine]
          [--length short|page|bullets|detailed] [--focus TEXT] [--out FILE] [--json]
          [--language auto|NAME] [--session DIR] [--restart] [--max-tokens N]
          [--chunk-tokens N] [sampling flags]
                                            summarize a .txt, .md or .html file (greedy by
                                            default; in the document's language unless
                                            --language names one); Ctrl-C keeps the
                                            session, rerun resumes
  safety  [--rules FILE] [--direction input|output] [--stream] --in FILE.jsonl [--out FILE]
                                            safety decisions for {"text": ...} lines
  bench   (--model PATH | --synthetic 2b|9b|demo) [--type f32|bf16|f16|q8_0|q4_0]
          [--backend cpu|vulkan] [--threads N] [--decode-tokens N] [--contexts 16,1024,...]
          [--prefill 512,4096|none] [--reach auto|prefill|synthetic] [--json]
                                            decode/prefill speed vs measured bandwidth and peak
  quantize --model PATH --type q8_0|q4_0|bf16|f16 --out FILE.gguf [--threads N]
                                            one GGUF file: matrices converted, tokenizer embedded
  --version                                 print the version and exit

model loading (info, logits, generate, chat, summarize, perplexity): [--backend cpu|vulkan|auto]
  [--device N|NAME] [--threads N] [--quantize f32|bf16|f16|q8_0|q4_0]  (convert the matrices
  while loading)

PATH is a Hugging Face model folder (config.json, model.safetensors or a sharded index,
tokenizer.model for the text commands) or a .gguf file made by `griffin quantize`.
)";

}  // namespace

int main(int argc, char** argv) {
    initLogging();
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string command = argv[1];
    if (command == "--version" || command == "version") {
        std::cout << griffin::app::versionLine("griffin") << '\n';
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    using Command = int (*)(int, char**);
    const std::pair<const char*, Command> commands[] = {
        {"info", griffin::cli::runInfo},           {"logits", griffin::cli::runLogits},
        {"tokenize", griffin::cli::runTokenize},   {"generate", griffin::cli::runGenerate},
        {"chat", griffin::cli::runChat},           {"safety", griffin::cli::runSafety},
        {"quantize", griffin::cli::runQuantize},   {"bench", griffin::cli::runBench},
        {"summarize", griffin::cli::runSummarize}, {"perplexity", griffin::cli::runPerplexity},
    };
    for (const auto& [name, run] : commands) {
        if (command == name)
            return run(argc, argv);
    }
    std::cerr << "griffin: unknown command '" << command << "'\n" << kUsage;
    return 2;
}
