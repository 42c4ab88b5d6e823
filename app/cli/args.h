// SPDX-License-Identifier: Apache-2.0
// Args: the parsed options of one `griffin` subcommand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "griffin/result.h"

namespace griffin::cli {

// What a subcommand accepts: options that take a value, and boolean flags.
struct ArgSpec {
    std::set<std::string> valued;      // e.g. "--model"
    std::set<std::string> flags;       // e.g. "--json"
    std::set<std::string> repeatable;  // valued options that may be given more than once
    bool positional = false;           // accepts bare arguments
};

class Args {
public:
    // Parses argv[first..argc). Unknown options, missing values and repeats are errors.
    static Result<Args> parse(int argc, char** argv, int first, const ArgSpec& spec);

    bool has(const std::string& name) const;
    std::optional<std::string> get(const std::string& name) const;
    std::vector<std::string> getAll(const std::string& name) const;
    const std::vector<std::string>& positional() const { return m_positional; }

    // Typed access with a range check; errors name the option.
    Result<int64_t> getInt(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;
    Result<double> getDouble(const std::string& name, double fallback, double lo, double hi) const;

private:
    std::map<std::string, std::vector<std::string>> m_values;
    std::set<std::string> m_flags;
    std::vector<std::string> m_positional;
};

// "2,651,3" -> {2, 651, 3}; errors name the bad item.
Result<std::vector<int32_t>> parseTokenList(const std::string& text);

}  // namespace griffin::cli
