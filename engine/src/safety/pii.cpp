// SPDX-License-Identifier: Apache-2.0
// PII detectors on the original text: e-mail addresses, phone numbers, payment cards (Luhn),
// IBANs (ISO 13616 mod-97), IPv4/IPv6 addresses.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "safety/compiled.h"

namespace griffin::safety {
namespace {

std::string digitsOf(std::string_view s) {
    std::string d;
    for (char c : s) {
        if (c >= '0' && c <= '9')
            d += c;
    }
    return d;
}

bool luhnValid(const std::string& digits) {
    int sum = 0;
    bool doubled = false;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (doubled) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        doubled = !doubled;
    }
    return sum % 10 == 0;
}

bool ibanValid(std::string_view raw) {
    std::string s;
    for (char c : raw) {
        if (c != ' ')
            s += c;
    }
    if (s.size() < 15 || s.size() > 34)
        return false;
    const std::string rearranged = s.substr(4) + s.substr(0, 4);
    int remainder = 0;
    for (char c : rearranged) {
        int value;
        if (c >= '0' && c <= '9') {
            value = c - '0';
        } else if (c >= 'A' && c <= 'Z') {
            value = c - 'A' + 10;
        } else {
            return false;
        }
        remainder = (value >= 10 ? remainder * 100 : remainder * 10) + value;
        remainder %= 97;
    }
    return remainder == 1;
}

bool ipv4Valid(std::string_view s) {
    int parts = 0, value = -1;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (value < 0 || value > 255)
                return false;
            ++parts;
            value = -1;
        } else {
            value = (value < 0 ? 0 : value * 10) + (s[i] - '0');
            if (value > 255)
                return false;
        }
    }
    return parts == 4;
}

void scan(std::string_view text, const re2::RE2& re, PiiType type, const char* category,
          bool (*valid)(std::string_view), std::vector<Finding>& out) {
    forEachMatch(re, text, 1, [&](size_t begin, size_t end) {
        if (valid != nullptr && !valid(text.substr(begin, end - begin)))
            return;
        out.push_back(
            {"pii", category, std::string("pii.") + piiTypeName(type), Action::Redact, begin, end});
    });
}

// A built-in pattern (valid by construction).
std::unique_ptr<re2::RE2> builtin(const std::string& pattern) {
    std::string error;
    auto re = compilePattern(pattern, true, error);
    if (!re)
        std::abort();  // a typo in the patterns below; the tests compile each
    return re;
}

}  // namespace

const char* piiTypeName(PiiType type) {
    switch (type) {
        case PiiType::Email:
            return "email";
        case PiiType::Phone:
            return "phone";
        case PiiType::PaymentCard:
            return "payment_card";
        case PiiType::Iban:
            return "iban";
        case PiiType::IpAddress:
            return "ip_address";
    }
    return "?";
}

std::vector<Finding> findPii(std::string_view text, const std::vector<PiiType>& types) {
    // Each pattern's group 1 is the finding; what it matches before and after the group checks
    // the characters around it (RE2 has no lookaround), and scanning resumes after the group.
    static const auto kEmail = builtin(
        R"((?:^|[^A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))");
    static const auto kCard = builtin(R"((?:^|[^0-9])((?:\d[ -]?){12,18}\d)(?:$|[^0-9]))");
    static const auto kIban = builtin(
        R"((?:^|[^A-Z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?:$|[^A-Z0-9]))");
    static const auto kIpv4 = builtin(R"((?:^|[^0-9.])((?:\d{1,3}\.){3}\d{1,3})(?:$|[^0-9.]))");
    static const auto kIpv6 = builtin(
        R"((?:^|[^0-9A-Fa-f:])((?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){1,6}[0-9A-Fa-f]{1,4})(?:$|[^0-9A-Fa-f:]))");
    static const auto kPhone = builtin(
        R"((?:^|[^0-9+])(\+?\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}[ .-]?\d{2,4})(?:$|[^0-9]))");
    std::vector<Finding> out;
    auto enabled = [&](PiiType t) {
        return std::find(types.begin(), types.end(), t) != types.end();
    };
    if (enabled(PiiType::Email))
        scan(text, *kEmail, PiiType::Email, "pii_email", nullptr, out);
    if (enabled(PiiType::PaymentCard)) {
        scan(
            text, *kCard, PiiType::PaymentCard, "pii_payment_card",
            [](std::string_view s) {
                const std::string d = digitsOf(s);
                return d.size() >= 13 && d.size() <= 19 && luhnValid(d);
            },
            out);
    }
    if (enabled(PiiType::Iban))
        scan(text, *kIban, PiiType::Iban, "pii_iban", ibanValid, out);
    if (enabled(PiiType::IpAddress)) {
        std::vector<Finding> ips;
        scan(text, *kIpv4, PiiType::IpAddress, "pii_ip_address", ipv4Valid, ips);
        // "version 2.10.4.1" / "v1.2.3.4" is a version number, not an address.
        for (const Finding& f : ips) {
            const std::string before(
                text.substr(f.begin >= 10 ? f.begin - 10 : 0, std::min<size_t>(f.begin, 10)));
            std::string lower;
            for (char c : before)
                lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const bool version =
                lower.find("version") != std::string::npos ||
                lower.find("release") != std::string::npos ||
                (f.begin > 0 && (text[f.begin - 1] == 'v' || text[f.begin - 1] == 'V'));
            if (!version)
                out.push_back(f);
        }
        scan(text, *kIpv6, PiiType::IpAddress, "pii_ip_address", nullptr, out);
    }
    if (enabled(PiiType::Phone)) {
        std::vector<Finding> phones;
        scan(
            text, *kPhone, PiiType::Phone, "pii_phone",
            [](std::string_view s) {
                const size_t n = digitsOf(s).size();
                return n >= 9 && n <= 15;
            },
            phones);
        // A card or IBAN is not also a phone number, and neither is a piece of a longer group of
        // digits ("4111 1111 1111 1112" with a wrong check digit) or of a code after letters.
        auto isAlnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
        for (const Finding& p : phones) {
            bool inside = false;
            for (const Finding& f : out) inside |= p.begin < f.end && f.begin < p.end;
            const bool gluedBefore =
                p.begin >= 1 &&
                (isAlnum(text[p.begin - 1]) ||
                 (p.begin >= 2 && std::isdigit(static_cast<unsigned char>(text[p.begin - 2])) &&
                  (text[p.begin - 1] == ' ' || text[p.begin - 1] == '-')));
            const bool gluedAfter = p.end + 1 < text.size() &&
                                    (text[p.end] == ' ' || text[p.end] == '-') &&
                                    std::isdigit(static_cast<unsigned char>(text[p.end + 1]));
            if (!inside && !gluedBefore && !gluedAfter)
                out.push_back(p);
        }
    }
    return out;
}

}  // namespace griffin::safety
