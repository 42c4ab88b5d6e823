# SPDX-License-Identifier: Apache-2.0
# The version the binaries print: CMake's project version (griffin_version.h, written at configure
# time) plus the git commit, read at build time by GriffinGitCommit.cmake into a one-function
# source file that is rewritten only when the commit changes: a new commit recompiles that file
# and relinks the executables, nothing else.
find_package(Git QUIET)
set(GRIFFIN_GIT_COMMIT "" CACHE STRING
    "Commit to report instead of asking git (e.g. when packaging a source tarball)")

# Adds the generated git_commit.cpp (defines griffin::app::gitCommit()) to `target`.
function(griffin_add_git_commit_source target)
    set(_out "${CMAKE_CURRENT_BINARY_DIR}/generated/git_commit.cpp")
    add_custom_target(griffin_git_commit
        COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}" "-DOUTPUT=${_out}"
                "-DGIT_EXECUTABLE=${GIT_EXECUTABLE}" "-DCOMMIT_OVERRIDE=${GRIFFIN_GIT_COMMIT}"
                -P "${PROJECT_SOURCE_DIR}/cmake/GriffinGitCommit.cmake"
        BYPRODUCTS "${_out}"
        COMMENT "Checking the git commit for --version"
        VERBATIM)
    target_sources(${target} PRIVATE "${_out}")
    add_dependencies(${target} griffin_git_commit)
endfunction()
