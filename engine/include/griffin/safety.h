// SPDX-License-Identifier: Apache-2.0
// Safety filters for instruction-tuned outputs (and optionally user input): a rule filter over
// normalised text, PII redaction, and a streaming wrapper that holds back only a small window so
// blocked text is never shown. Qt-free; not thread-safe (one filter per stream).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"

namespace griffin::safety {

enum class Action { Allow, Flag, Redact, Block };  // ordered by strength
const char* actionName(Action action);
std::optional<Action> parseAction(std::string_view name);

enum class Direction { Input, Output };

// One decision of a filter about a span of the original text (byte offsets into the text as
// given, [begin, end)).
struct Finding {
    std::string filter;    // "rules" or "pii"
    std::string category;  // e.g. "violent_wrongdoing", "pii_email"
    std::string ruleId;
    Action action = Action::Flag;
    size_t begin = 0;
    size_t end = 0;
};

struct Rule {
    std::string id;
    std::string category;
    int severity = 1;  // 1 (low) .. 3 (most severe)
    Action action = Action::Flag;
    std::vector<std::string> terms;     // whole words or phrases, matched on normalised text
    std::vector<std::string> patterns;  // RE2 expressions (no lookaround) on normalised text
    std::vector<std::string> allow;     // contexts that make a match benign (normalised phrases)
};

// A validated rules file (resources/safety/rules.json schema: {"version": N, "categories": {...},
// "rules": [...]}). Copyable value.
class RuleSet {
public:
    static Result<RuleSet> parse(std::string_view json, std::string_view sourceName);
    static Result<RuleSet> load(const std::filesystem::path& file);
    // Adds the rules of `other` (user rules); ids must not clash.
    Status merge(const RuleSet& other);

    int version() const { return m_version; }
    const std::vector<Rule>& rules() const { return m_rules; }
    const std::map<std::string, std::string>& categories() const { return m_categories; }

    // Engine internals: the compiled expressions, shared between copies.
    struct Compiled;
    const Compiled& compiled() const { return *m_compiled; }

private:
    Status compile(std::string_view sourceName);
    int m_version = 0;
    std::map<std::string, std::string> m_categories;  // id -> description
    std::vector<Rule> m_rules;
    std::shared_ptr<const Compiled> m_compiled;
};

enum class PiiType { Email, Phone, PaymentCard, Iban, IpAddress };
const char* piiTypeName(PiiType type);

struct Config {
    bool enabled = true;
    // Per-category action overrides (e.g. {"hate_speech": Flag}); absent = the rule's own.
    std::map<std::string, Action> categoryActions;
    std::vector<PiiType> pii = {PiiType::Email, PiiType::Phone, PiiType::PaymentCard, PiiType::Iban,
                                PiiType::IpAddress};
    // Input direction: only rules at or above this severity act (others are ignored).
    int inputMinSeverity = 3;
    // Base models: every action becomes Flag.
    bool flagOnly = false;
};

// The result of filtering a whole text.
struct Verdict {
    Action action = Action::Allow;  // the strongest action taken
    std::vector<Finding> findings;
    std::string output;  // the text as the user sees it (redacted, or the block notice)
};

// The notice shown instead of a blocked text.
std::string blockNotice(const std::string& category);

// Filters whole texts. Keeps a copy of the rules.
class Filter {
public:
    Filter(RuleSet rules, Config config, Direction direction);
    Verdict check(std::string_view text) const;
    // Findings in `text` without building the output; with `streaming`, matches that end within
    // kLookAhead bytes of the end are left for later (more text may change them).
    std::vector<Finding> findAll(std::string_view text, bool streaming) const;
    // `text` with the redact findings masked (spans must not overlap after merging).
    static std::string applyRedactions(std::string_view text, size_t offset,
                                       const std::vector<Finding>& findings);
    const Config& config() const { return m_config; }

private:
    RuleSet m_rules;
    Config m_config;
    Direction m_direction;
};

// Streams text through a Filter: push() returns what may be shown now. Text is held back only
// while it could still be part of a match (at most kHoldBack bytes, cut at a UTF-8 boundary).
// After a block, nothing more is released and finish() returns the notice.
class StreamFilter {
public:
    // Text is released once it is kHoldBack bytes behind the end; a match is decided once
    // kLookAhead bytes follow it (so "kill" can still become "kill the process"). Matches up to
    // kHoldBack - kLookAhead bytes long are therefore never shown before they are decided.
    static constexpr size_t kHoldBack = 64;
    static constexpr size_t kLookAhead = 24;

    explicit StreamFilter(const Filter& filter) : m_filter(filter) {}
    std::string push(std::string_view piece);
    // Releases the rest (redacted) or, after a block, the notice.
    std::string finish();
    bool blocked() const { return m_blocked; }
    // Decisions so far (spans relative to the whole streamed text).
    const std::vector<Finding>& findings() const { return m_findings; }
    Action action() const { return m_action; }

private:
    std::string release(size_t upTo, const Verdict& verdict);

    const Filter& m_filter;
    std::string m_text;     // everything pushed so far
    size_t m_released = 0;  // bytes of m_text already returned
    bool m_blocked = false;
    std::string m_blockCategory;
    std::vector<Finding> m_findings;
    Action m_action = Action::Allow;
};

}  // namespace griffin::safety
