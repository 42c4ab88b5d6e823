// SPDX-License-Identifier: Apache-2.0
// Filter (whole texts) and StreamFilter (token by token).
#include <algorithm>
#include <set>

#include "safety/compiled.h"
#include "safety/normalizer.h"

namespace griffin::safety {
namespace {

// The start of the UTF-8 character containing byte `i` (or i itself at a boundary).
size_t utf8Boundary(std::string_view text, size_t i) {
    while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
    return i;
}

std::string maskFor(const std::string& category) {
    if (category.rfind("pii_", 0) == 0)
        return "[" + category.substr(4) + " redacted]";
    return "[redacted]";
}

}  // namespace

std::string blockNotice(const std::string& category) {
    std::string readable = category;
    std::replace(readable.begin(), readable.end(), '_', ' ');
    return "[Reply stopped by the safety filter: " + readable + ".]";
}

Filter::Filter(RuleSet rules, Config config, Direction direction)
    : m_rules(std::move(rules)), m_config(std::move(config)), m_direction(direction) {}

std::vector<Finding> Filter::findAll(std::string_view text, bool streaming) const {
    std::vector<Finding> out;
    if (!m_config.enabled)
        return out;
    const NormalizedText norm = normalizeForMatching(text);
    const auto& compiled = m_rules.compiled();
    const std::string& t = norm.text;
    for (size_t r = 0; r < m_rules.rules().size(); ++r) {
        const Rule& rule = m_rules.rules()[r];
        if (m_direction == Direction::Input && rule.severity < m_config.inputMinSeverity)
            continue;
        Action action = rule.action;
        if (auto it = m_config.categoryActions.find(rule.category);
            it != m_config.categoryActions.end()) {
            action = it->second;
        }
        if (m_config.flagOnly && action != Action::Allow)
            action = Action::Flag;
        if (action == Action::Allow)
            continue;
        for (const auto& re : compiled.rules[r].expressions) {
            forEachMatch(*re, t, 0, [&](size_t b, size_t e) {
                if (streaming && e + StreamFilter::kLookAhead > t.size())
                    return;
                for (const std::string& allow : compiled.rules[r].allow) {
                    for (size_t at = t.find(allow); at != std::string::npos;
                         at = t.find(allow, at + 1)) {
                        if (at <= b && e <= at + allow.size())
                            return;  // inside a benign context
                    }
                }
                out.push_back(
                    {"rules", rule.category, rule.id, action, norm.origin[b], norm.origin[e]});
            });
        }
    }
    if (m_direction == Direction::Output) {
        for (Finding f : findPii(text, m_config.pii)) {
            if (streaming && f.end + StreamFilter::kLookAhead > text.size())
                continue;
            if (m_config.flagOnly)
                f.action = Action::Flag;
            out.push_back(std::move(f));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
    return out;
}

std::string Filter::applyRedactions(std::string_view text, size_t offset,
                                    const std::vector<Finding>& findings) {
    std::string out;
    size_t at = 0;
    for (const Finding& f : findings) {
        if (f.action != Action::Redact || f.end <= offset + at || f.begin < offset)
            continue;
        const size_t b = std::max(f.begin - offset, at), e = std::min(f.end - offset, text.size());
        if (b >= e)
            continue;
        out.append(text.substr(at, b - at));
        out += maskFor(f.category);
        at = e;
    }
    out.append(text.substr(std::min(at, text.size())));
    return out;
}

Verdict Filter::check(std::string_view text) const {
    Verdict v;
    v.findings = findAll(text, false);
    for (const Finding& f : v.findings) v.action = std::max(v.action, f.action);
    if (v.action == Action::Block) {
        const auto first = std::find_if(v.findings.begin(), v.findings.end(),
                                        [](const Finding& f) { return f.action == Action::Block; });
        v.output = blockNotice(first->category);
    } else {
        v.output = applyRedactions(text, 0, v.findings);
    }
    return v;
}

std::string StreamFilter::push(std::string_view piece) {
    if (m_blocked)
        return {};
    m_text += piece;
    if (m_text.size() <= kHoldBack)
        return {};
    return release(utf8Boundary(m_text, m_text.size() - kHoldBack), Verdict{});
}

std::string StreamFilter::finish() {
    if (m_blocked)
        return blockNotice(m_blockCategory);
    std::string out = release(m_text.size(), Verdict{});
    return m_blocked ? blockNotice(m_blockCategory) : out;
}

std::string StreamFilter::release(size_t upTo, const Verdict&) {
    const bool final = upTo == m_text.size();
    // Only the tail can hold undecided matches: look at the part not released yet plus enough
    // context before it for a match (and its allow context) that starts earlier.
    const size_t windowStart =
        utf8Boundary(m_text, m_released > kHoldBack ? m_released - kHoldBack : 0);
    const std::string_view window = std::string_view(m_text).substr(windowStart);
    std::vector<Finding> found = m_filter.findAll(window, !final);
    for (Finding& f : found) {
        f.begin += windowStart;
        f.end += windowStart;
    }
    std::set<std::tuple<std::string, size_t, size_t>> seen;
    for (const Finding& f : m_findings) seen.insert({f.ruleId, f.begin, f.end});
    for (const Finding& f : found) {
        if (f.end <= m_released || seen.count({f.ruleId, f.begin, f.end}) != 0)
            continue;
        if (f.action == Action::Block) {
            if (!m_blocked)
                m_blockCategory = f.category;
            m_blocked = true;
            m_findings.push_back(f);  // every block decided in this pass is recorded
            m_action = Action::Block;
        }
    }
    if (m_blocked)
        return {};
    // Never cut through a span that will be redacted.
    for (const Finding& f : found) {
        if (f.action == Action::Redact && f.begin < upTo && f.end > upTo)
            upTo = f.begin;
    }
    if (upTo <= m_released)
        return {};
    std::vector<Finding> released;
    for (const Finding& f : found) {
        if (f.begin >= m_released && f.end <= upTo && seen.count({f.ruleId, f.begin, f.end}) == 0) {
            released.push_back(f);
            m_findings.push_back(f);
            m_action = std::max(m_action, f.action);
        }
    }
    std::string out = Filter::applyRedactions(
        std::string_view(m_text).substr(m_released, upTo - m_released), m_released, released);
    m_released = upTo;
    return out;
}

}  // namespace griffin::safety
