// SPDX-License-Identifier: Apache-2.0
#include "version.h"

#include "griffin_version.h"

namespace griffin::app {

std::string versionLine(const std::string& program) {
    return program + " " + GRIFFIN_VERSION + " (" + gitCommit() + ")";
}

}  // namespace griffin::app
