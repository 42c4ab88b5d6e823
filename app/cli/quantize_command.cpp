// SPDX-License-Identifier: Apache-2.0
// `griffin quantize --model PATH --type q8_0|q4_0|bf16|f16 --out FILE.gguf [--threads N]`: one
// GGUF file with the matrices converted and the tokenizer embedded. Ctrl-C stops it (exit 130)
// and leaves no file behind.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/session.h"
#include "griffin/gguf.h"

namespace griffin::cli {
namespace {

constexpr int kInterruptedExitCode = 130;  // 128 + SIGINT, as shells report it

std::optional<WeightType> parseTargetType(const std::string& name) {
    for (WeightType t :
         {WeightType::Q8_0, WeightType::Q4_0, WeightType::BF16, WeightType::F16, WeightType::F32}) {
        if (name == weightTypeName(t))
            return t;
    }
    return std::nullopt;
}

// "quantize: 42%" on stderr at each whole percent (one line each when stderr is not a terminal,
// then only every 10%).
class ProgressPrinter {
public:
    ProgressPrinter() : m_terminal(::isatty(STDERR_FILENO) != 0) {}
    void operator()(double fraction) {
        const int percent = static_cast<int>(fraction * 100.0);
        const int step = m_terminal ? 1 : 10;
        if (percent / step == m_last / step)
            return;
        m_last = percent;
        std::cerr << (m_terminal ? "\rquantize: " : "quantize: ") << percent << "%"
                  << (m_terminal ? "" : "\n") << std::flush;
        m_open = m_terminal;
    }
    void finish() {
        if (m_open)
            std::cerr << "\n";
        m_open = false;
    }

private:
    bool m_terminal;
    bool m_open = false;
    int m_last = -1;
};

}  // namespace

int runQuantize(int argc, char** argv) {
    InterruptWatcher interrupt;  // before the conversion's worker threads exist
    ArgSpec spec;
    spec.valued = {"--model", "--type", "--out", "--threads", "--name"};
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("quantize", args.error().message);
    auto typeName = args->get("--type");
    if (!typeName)
        return fail("quantize", "--type q8_0|q4_0|bf16|f16 is required");
    const auto type = parseTargetType(*typeName);
    if (!type) {
        return fail("quantize",
                    "--type must be q8_0, q4_0, bf16, f16 or f32 (got '" + *typeName + "')");
    }
    auto out = args->get("--out");
    if (!out)
        return fail("quantize", "--out FILE.gguf is required");
    auto threads = args->getInt("--threads", 0, 0, 4096);
    if (!threads)
        return fail("quantize", threads.error().message);
    auto model = resolveModel(*args);
    if (!model)
        return fail("quantize", model.error().message);

    ProgressPrinter printer;
    QuantizeOptions options;
    options.threads = static_cast<int>(*threads);
    options.name = args->get("--name").value_or("");
    options.progress = [&printer](double f) { printer(f); };
    options.stop = interrupt.arm();
    const auto started = std::chrono::steady_clock::now();
    auto summary = quantizeModel(*model, *type, *out, options);
    printer.finish();
    if (!summary) {
        if (summary.error().code == ErrorCode::Cancelled) {
            std::cerr << "griffin quantize: interrupted; no file was written\n";
            return kInterruptedExitCode;
        }
        return fail("quantize", summary.error().message);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char time[32];
    std::snprintf(time, sizeof time, "%.2f s", seconds);
    std::cerr << "quantize: wrote " << *out << ": " << summary->tensors << " tensors ("
              << summary->weightTypes << "), " << summary->fileBytes << " bytes in " << time
              << "\n";
    return 0;
}

}  // namespace griffin::cli
