// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace griffin {

std::shared_ptr<spdlog::logger> logger(Component component) {
    static const char* kNames[] = {"engine", "cpu", "vulkan", "tokenizer"};
    if (auto found = spdlog::get(kNames[static_cast<int>(component)]))
        return found;
    static const auto kNull =
        std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
    return kNull;
}

}  // namespace griffin
