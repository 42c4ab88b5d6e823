// SPDX-License-Identifier: Apache-2.0
#include "io/system_memory.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace griffin::io {
namespace {

std::string readSmallFile(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return {};
    std::ostringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    if (s.size() > (size_t{1} << 20))
        s.resize(size_t{1} << 20);
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::optional<int64_t> parseCount(std::string_view s) {
    s = trim(s);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data() || v < 0)
        return std::nullopt;
    return v;
}

// The value after "key" at the start of a line of `text` ("key value" or "key: value unit").
std::optional<std::string_view> field(std::string_view text, std::string_view key) {
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(at, end - at);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            (line[key.size()] == ' ' || line[key.size()] == ':' || line[key.size()] == '\t'))
            return line.substr(key.size() + (line[key.size()] == ':' ? 1 : 0));
        at = end + 1;
    }
    return std::nullopt;
}

}  // namespace

std::optional<int64_t> parseMemAvailable(std::string_view meminfo) {
    auto value = field(meminfo, "MemAvailable");
    if (!value)
        return std::nullopt;
    std::string_view v = trim(*value);
    int64_t scale = 1;
    if (v.size() > 2 && v.substr(v.size() - 2) == "kB") {
        scale = 1024;
        v.remove_suffix(2);
    }
    auto count = parseCount(v);
    if (!count || *count > INT64_MAX / scale)
        return std::nullopt;
    return *count * scale;
}

std::optional<int64_t> cgroupHeadroom(std::string_view limit, std::string_view usage,
                                      std::string_view stat, std::string_view cacheKey) {
    auto max = parseCount(limit);  // v2's "max" does not parse: no limit
    auto used = parseCount(usage);
    if (!max || !used || *max >= (int64_t{1} << 60))  // v1 writes "no limit" as about 2^63
        return std::nullopt;
    int64_t cache = 0;
    if (auto c = field(stat, cacheKey))
        cache = parseCount(*c).value_or(0);
    const int64_t held = *used - std::min(cache, *used);
    return std::max<int64_t>(0, *max - held);
}

namespace {

// The headroom of the cgroup in `dir` (v2 files, else v1's), if it has a limit.
std::optional<int64_t> headroomIn(const std::string& dir) {
    if (auto v2 = cgroupHeadroom(readSmallFile(dir + "/memory.max"),
                                 readSmallFile(dir + "/memory.current"),
                                 readSmallFile(dir + "/memory.stat"), "file"))
        return v2;
    return cgroupHeadroom(readSmallFile(dir + "/memory.limit_in_bytes"),
                          readSmallFile(dir + "/memory.usage_in_bytes"),
                          readSmallFile(dir + "/memory.stat"), "total_cache");
}

}  // namespace

std::optional<int64_t> availableMemoryBytes() {
    std::optional<int64_t> available = parseMemAvailable(readSmallFile("/proc/meminfo"));
    const auto cap = [&](std::optional<int64_t> headroom) {
        if (headroom)
            available = available ? std::min(*available, *headroom) : *headroom;
    };
    // The groups of /proc/self/cgroup: "0::/path" (v2) and "N:...memory...:/path" (v1). Inside
    // a container the group's own directory is often what is mounted, so the mount's top is
    // read too.
    std::istringstream groups(readSmallFile("/proc/self/cgroup"));
    for (std::string line; std::getline(groups, line);) {
        const size_t first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos)
            continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (path.find("..") != std::string::npos || path.empty() || path[0] != '/')
            continue;
        std::string root;
        if (controllers.empty())
            root = "/sys/fs/cgroup";
        else if (("," + controllers + ",").find(",memory,") != std::string::npos)
            root = "/sys/fs/cgroup/memory";
        else
            continue;
        cap(headroomIn(root));
        if (path != "/")
            cap(headroomIn(root + path));
    }
    return available;
}

}  // namespace griffin::io
