// SPDX-License-Identifier: Apache-2.0
#include "logging.h"

#include <cstdlib>
#include <vector>

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

void initLogging(const std::filesystem::path& logDir) {
    std::vector<spdlog::sink_ptr> sinks;
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(spdlog::level::warn);
    sinks.push_back(console);
    if (!logDir.empty()) {
        try {
            std::filesystem::create_directories(logDir);
            auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                (logDir / "griffin.log").string(), 5 * 1024 * 1024, 3);
            file->set_level(spdlog::level::debug);
            sinks.push_back(file);
        } catch (const std::exception& e) {
            console->log(spdlog::details::log_msg(
                "app", spdlog::level::warn, std::string("cannot open log file: ") + e.what()));
        }
    }
    for (const char* name : {"engine", "cpu", "vulkan", "tokenizer", "app", "store", "ui", "qt"}) {
        if (spdlog::get(name))
            continue;
        auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
        logger->set_level(spdlog::level::debug);
        spdlog::register_logger(logger);
    }
    // With SPDLOG_LEVEL set, the logger levels it names decide what reaches stderr.
    if (std::getenv("SPDLOG_LEVEL") != nullptr)
        console->set_level(spdlog::level::trace);
    spdlog::cfg::load_env_levels();
}
