// SPDX-License-Identifier: Apache-2.0
// The compiled form of a RuleSet (one entry per rule, same order).
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "griffin/safety.h"

namespace griffin::safety {

struct CompiledRule {
    std::vector<std::regex> expressions;  // on normalised text
    std::vector<std::string> allow;       // normalised benign contexts
};

struct RuleSet::Compiled {
    std::vector<CompiledRule> rules;
};

// PII findings in the original text for the enabled types.
std::vector<Finding> findPii(std::string_view text, const std::vector<PiiType>& types);

}  // namespace griffin::safety
