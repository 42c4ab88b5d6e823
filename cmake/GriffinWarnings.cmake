# SPDX-License-Identifier: Apache-2.0
# Warning and sanitizer flags as INTERFACE targets, linked PRIVATE by every target of ours.
add_library(griffin_warnings INTERFACE)
target_compile_options(griffin_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(GRIFFIN_WERROR)
    target_compile_options(griffin_warnings INTERFACE -Werror)
endif()

# The engine additionally warns about implicit narrowing conversions.
add_library(griffin_engine_warnings INTERFACE)
target_link_libraries(griffin_engine_warnings INTERFACE griffin_warnings)
target_compile_options(griffin_engine_warnings INTERFACE -Wconversion -Wno-sign-conversion)

add_library(griffin_sanitizers INTERFACE)
if(GRIFFIN_SANITIZE)
    # g++ 12 reports false -Wmaybe-uninitialized inside <regex> and <functional> when the
    # sanitizers change inlining (GCC bug 105562 and relatives); the normal build keeps the check.
    target_compile_options(griffin_warnings INTERFACE -Wno-maybe-uninitialized)
    target_compile_options(griffin_sanitizers INTERFACE
        -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(griffin_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
