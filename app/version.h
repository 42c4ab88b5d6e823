// SPDX-License-Identifier: Apache-2.0
// What `--version` prints: CMake's project version and the git commit the binaries were built
// from (cmake/GriffinVersion.cmake).
#pragma once

#include <string>

namespace griffin::app {

// The commit this build was made from: 12 hex digits, "-dirty" appended when tracked files
// differed from it, or "unknown" when built outside a git checkout (e.g. from a source tarball).
// Defined in a file generated at build time. Thread-safe; the string lives for the program.
const char* gitCommit();

// "<program> <version> (<commit>)", e.g. "griffin 0.1.0 (b57a276f8220)".
std::string versionLine(const std::string& program);

}  // namespace griffin::app
