// SPDX-License-Identifier: Apache-2.0
// The developer benchmarks' list arguments ("2560,7680"): positive numbers separated by commas.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace bench_tools {

inline std::optional<std::vector<int64_t>> parseList(const std::string& s) {
    std::vector<int64_t> out;
    size_t at = 0;
    while (at <= s.size()) {
        const size_t comma = std::min(s.find(',', at), s.size());
        const std::string item = s.substr(at, comma - at);
        char* end = nullptr;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v <= 0)
            return std::nullopt;
        out.push_back(v);
        at = comma + 1;
    }
    return out;
}

}  // namespace bench_tools
