// SPDX-License-Identifier: Apache-2.0
// The `griffin` subcommands. Each returns the process exit code; results go to stdout, errors
// to stderr.
#pragma once

#include <string>

namespace griffin::cli {

// argv[0] is the program, argv[1] the subcommand name; options start at argv[2].
int runInfo(int argc, char** argv);
int runLogits(int argc, char** argv);
int runGenerate(int argc, char** argv);
int runChat(int argc, char** argv);
int runTokenize(int argc, char** argv);
int runSafety(int argc, char** argv);
int runQuantize(int argc, char** argv);
int runBench(int argc, char** argv);
int runSummarize(int argc, char** argv);
int runPerplexity(int argc, char** argv);

// Prints "griffin: <message>" to stderr and returns the exit code for an error.
int fail(const char* command, const std::string& message);

}  // namespace griffin::cli
