// SPDX-License-Identifier: Apache-2.0
// The `griffin` command line: dispatches to one subcommand (architecture.md, CLI contract).
#include <cstring>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "griffin_version.h"
#include "logging.h"

namespace {

constexpr const char* kUsage = R"(usage: griffin <command> [options]

commands:
  info    --model PATH [--json]             configuration, parameters, weights, state size
  logits  --model PATH --tokens 2,651,...   logits of every token as float32 [T, vocab] .npy
          [--mode prefill|step|split:K] --out FILE.npy
  --version                                 print the version and exit

PATH is a Hugging Face model folder (config.json, model.safetensors or a sharded index).
)";

}  // namespace

namespace griffin::cli {

int fail(const char* command, const std::string& message) {
    std::cerr << "griffin " << command << ": " << message << "\n";
    return 1;
}

}  // namespace griffin::cli

int main(int argc, char** argv) {
    initLogging();
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string command = argv[1];
    if (command == "--version" || command == "version") {
        std::cout << "griffin " << GRIFFIN_VERSION << " (" << GRIFFIN_GIT_COMMIT << ")\n";
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    if (command == "info")
        return griffin::cli::runInfo(argc, argv);
    if (command == "logits")
        return griffin::cli::runLogits(argc, argv);
    std::cerr << "griffin: unknown command '" << command << "'\n" << kUsage;
    return 2;
}
