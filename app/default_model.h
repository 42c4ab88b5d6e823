// SPDX-License-Identifier: Apache-2.0
// Where the embedded demo model lives: installed under share/griffin-chat/models/demo, or in the
// source tree's resources/models/demo when running from a build folder. Qt-free.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace griffin::app {

// The demo model's folder, or nullopt when neither location has one. `executable` is the path of
// the running program (argv[0] or /proc/self/exe).
std::optional<std::filesystem::path> defaultModelPath();

// "default" or empty -> the demo model; anything else is returned as given.
std::optional<std::filesystem::path> resolveModelPath(const std::string& requested);

// Whether `path` is the demo model's folder.
bool isDefaultModel(const std::filesystem::path& path);

// The built-in safety rules (resources/safety/rules.json, installed under share/griffin-chat).
std::filesystem::path builtinSafetyRules();

// One line telling users how to use a real model instead of the demo.
const char* demoModelHint();

}  // namespace griffin::app
