// SPDX-License-Identifier: Apache-2.0
// The engine's loggers. The engine never creates sinks: the application registers loggers named
// "engine", "cpu", ... (app/logging.cpp); until it does, messages go to a null sink.
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace griffin {

enum class Component { Engine, Cpu, Vulkan, Tokenizer };

// The registered logger of that name, or a shared null logger. Thread-safe.
std::shared_ptr<spdlog::logger> logger(Component component);

}  // namespace griffin
