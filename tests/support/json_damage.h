// SPDX-License-Identifier: Apache-2.0
// Random structural damage to JSON documents, for the tests that feed damaged files (settings,
// conversations, checkpoint headers and configs) to their readers.
#pragma once

#include <random>
#include <vector>

#include <nlohmann/json.hpp>

namespace griffin::test {

// Every node of `j` (the root first), by JSON pointer.
inline std::vector<nlohmann::json::json_pointer> jsonNodes(const nlohmann::json& j) {
    std::vector<nlohmann::json::json_pointer> out;
    const auto walk = [&](const auto& self, const nlohmann::json& node,
                          const nlohmann::json::json_pointer& at) -> void {
        out.push_back(at);
        if (node.is_object()) {
            for (const auto& item : node.items()) self(self, item.value(), at / item.key());
        } else if (node.is_array()) {
            for (size_t i = 0; i < node.size(); ++i) self(self, node[i], at / i);
        }
    };
    walk(walk, j, nlohmann::json::json_pointer());
    return out;
}

// 1 to 3 changes to `j`, each at one of `nodes` (taken from it before any change) below the
// root: one in four drops the key (in an object), the others replace the value by one of
// `replacements`. A node under one that an earlier change replaced or dropped is left alone.
inline void damageJson(nlohmann::json& j, const std::vector<nlohmann::json::json_pointer>& nodes,
                       const std::vector<nlohmann::json>& replacements, std::mt19937& rng) {
    const int changes = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < changes; ++i) {
        const auto& at = nodes[rng() % nodes.size()];
        if (at.empty() || !j.contains(at))
            continue;
        if (rng() % 4 == 0) {
            nlohmann::json& parent = j.at(at.parent_pointer());
            if (parent.is_object())
                parent.erase(at.back());
        } else {
            j.at(at) = replacements[rng() % replacements.size()];
        }
    }
}

}  // namespace griffin::test
