// SPDX-License-Identifier: Apache-2.0
// PII detectors on the original text: e-mail addresses, phone numbers, payment cards (Luhn),
// IBANs (ISO 13616 mod-97), IPv4/IPv6 addresses.
#include <algorithm>
#include <cctype>
#include <regex>

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

void scan(std::string_view text, const std::regex& re, PiiType type, const char* category,
          bool (*valid)(std::string_view), std::vector<Finding>& out) {
    const std::string copy(text);
    for (auto it = std::sregex_iterator(copy.begin(), copy.end(), re); it != std::sregex_iterator();
         ++it) {
        const size_t begin = static_cast<size_t>(it->position(1));
        const size_t length = static_cast<size_t>(it->length(1));
        if (valid != nullptr && !valid(std::string_view(copy).substr(begin, length)))
            continue;
        out.push_back({"pii", category, std::string("pii.") + piiTypeName(type), Action::Redact,
                       begin, begin + length});
    }
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
    static const std::regex kEmail(
        R"((?:^|[^A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))");
    static const std::regex kCard(R"((?:^|[^0-9])((?:\d[ -]?){12,18}\d)(?![0-9]))");
    static const std::regex kIban(
        R"((?:^|[^A-Z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?![A-Z0-9]))");
    static const std::regex kIpv4(R"((?:^|[^0-9.])((?:\d{1,3}\.){3}\d{1,3})(?![0-9.]))");
    static const std::regex kIpv6(
        R"((?:^|[^0-9A-Fa-f:])((?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){1,6}[0-9A-Fa-f]{1,4})(?![0-9A-Fa-f:]))");
    static const std::regex kPhone(
        R"((?:^|[^0-9+])(\+?\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}[ .-]?\d{2,4})(?![0-9]))");
    std::vector<Finding> out;
    auto enabled = [&](PiiType t) {
        return std::find(types.begin(), types.end(), t) != types.end();
    };
    if (enabled(PiiType::Email))
        scan(text, kEmail, PiiType::Email, "pii_email", nullptr, out);
    if (enabled(PiiType::PaymentCard)) {
        scan(
            text, kCard, PiiType::PaymentCard, "pii_payment_card",
            [](std::string_view s) {
                const std::string d = digitsOf(s);
                return d.size() >= 13 && d.size() <= 19 && luhnValid(d);
            },
            out);
    }
    if (enabled(PiiType::Iban))
        scan(text, kIban, PiiType::Iban, "pii_iban", ibanValid, out);
    if (enabled(PiiType::IpAddress)) {
        std::vector<Finding> ips;
        scan(text, kIpv4, PiiType::IpAddress, "pii_ip_address", ipv4Valid, ips);
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
        scan(text, kIpv6, PiiType::IpAddress, "pii_ip_address", nullptr, out);
    }
    if (enabled(PiiType::Phone)) {
        std::vector<Finding> phones;
        scan(
            text, kPhone, PiiType::Phone, "pii_phone",
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
