// SPDX-License-Identifier: Apache-2.0
// One setup point for the named spdlog loggers of the application and the engine.
#pragma once

#include <filesystem>

// Registers the loggers (engine, cpu, vulkan, tokenizer, app, store, ui, qt) with a stderr sink
// at warn (or SPDLOG_LEVEL) and, when `logDir` is not empty, a rotating file sink at debug.
// Call once, first thing in main().
void initLogging(const std::filesystem::path& logDir = {});
