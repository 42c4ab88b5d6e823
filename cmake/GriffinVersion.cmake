# SPDX-License-Identifier: Apache-2.0
# The version string: CMake's project version plus the git commit, when built from a checkout.
set(GRIFFIN_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
        OUTPUT_VARIABLE _griffin_commit OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE _griffin_git_rc ERROR_QUIET)
    if(_griffin_git_rc EQUAL 0 AND _griffin_commit)
        set(GRIFFIN_GIT_COMMIT "${_griffin_commit}")
    endif()
endif()
