// SPDX-License-Identifier: Apache-2.0
#include "default_model.h"

#include <system_error>

#include "griffin_version.h"

namespace griffin::app {
namespace {

std::filesystem::path executableDir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : exe.parent_path();
}

bool isModelFolder(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "config.json", ec) &&
           std::filesystem::is_regular_file(dir / "tokenizer.model", ec);
}

}  // namespace

std::optional<std::filesystem::path> defaultModelPath() {
    const std::filesystem::path exeDir = executableDir();
    const std::filesystem::path candidates[] = {
        // Installed: <prefix>/bin/griffin -> <prefix>/share/griffin-chat/models/demo
        exeDir / ".." / "share" / "griffin-chat" / "models" / "demo",
        std::filesystem::path(GRIFFIN_INSTALL_DATADIR) / "models" / "demo",
        // Build tree: the source checkout's copy.
        std::filesystem::path(GRIFFIN_SOURCE_DIR) / "resources" / "models" / "demo",
    };
    for (const auto& c : candidates) {
        if (isModelFolder(c))
            return std::filesystem::weakly_canonical(c);
    }
    return std::nullopt;
}

std::filesystem::path builtinSafetyRules() {
    const std::filesystem::path candidates[] = {
        executableDir() / ".." / "share" / "griffin-chat" / "safety" / "rules.json",
        std::filesystem::path(GRIFFIN_INSTALL_DATADIR) / "safety" / "rules.json",
        std::filesystem::path(GRIFFIN_SOURCE_DIR) / "resources" / "safety" / "rules.json",
    };
    std::error_code ec;
    for (const auto& c : candidates) {
        if (std::filesystem::is_regular_file(c, ec))
            return c;
    }
    return candidates[2];
}

std::optional<std::filesystem::path> resolveModelPath(const std::string& requested) {
    if (requested.empty() || requested == "default")
        return defaultModelPath();
    return std::filesystem::path(requested);
}

bool isDefaultModel(const std::filesystem::path& path) {
    const auto demo = defaultModelPath();
    std::error_code ec;
    return demo && std::filesystem::equivalent(*demo, path, ec);
}

const char* demoModelHint() {
    return "this is the small demo model that ships with Griffin Chat: it knows word meanings and "
           "little else. For real answers open a RecurrentGemma model (e.g. "
           "google/recurrentgemma-2b-it in Hugging Face layout) with --model PATH.";
}

}  // namespace griffin::app
