// SPDX-License-Identifier: Apache-2.0
// Safety filters: the labelled set (precision/recall per category, asserted floors), streaming
// that never shows a blocked span, PII detectors, normalisation tricks, and hostile rules files.
#include "griffin/safety.h"

#include <fstream>
#include <map>

#include <QtTest>

#include "safety/normalizer.h"
#include "test_files.h"

using namespace griffin;
using namespace griffin::safety;

namespace {

RuleSet builtin() {
    auto rules =
        RuleSet::load(std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "safety" / "rules.json");
    if (!rules)
        qFatal("%s", rules.error().message.c_str());
    return *rules;
}

struct Sample {
    std::string text, label, category;
};

std::vector<Sample> labelled() {
    std::vector<Sample> out;
    std::ifstream in(std::filesystem::path(GRIFFIN_TEST_DATA_DIR) / "safety" / "labelled.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        out.push_back({j.at("text"), j.at("label"), j.at("category")});
    }
    return out;
}

bool flagsCategory(const Verdict& v, const std::string& category) {
    for (const Finding& f : v.findings) {
        if (f.category == category && f.action == Action::Block)
            return true;
    }
    return false;
}

}  // namespace

class SafetyTest : public QObject {
    Q_OBJECT

private slots:
    void labelledSetMeetsTheFloors() {
        const Filter filter(builtin(), Config{}, Direction::Output);
        const auto samples = labelled();
        QVERIFY(samples.size() >= 300);
        std::map<std::string, int> tp, fn, fp;
        int benign = 0, benignHit = 0, harmful = 0, harmfulHit = 0;
        for (const Sample& s : samples) {
            const Verdict v = filter.check(s.text);
            for (const Finding& f : v.findings) {
                if (f.action == Action::Block && f.category != s.category)
                    fp[f.category] += 1;
            }
            if (s.label == "harmful") {
                ++harmful;
                const bool hit = flagsCategory(v, s.category);
                harmfulHit += hit ? 1 : 0;
                (hit ? tp : fn)[s.category] += 1;
                if (!hit)
                    qInfo("missed [%s]: %s", s.category.c_str(), s.text.c_str());
            } else if (s.label == "benign") {
                ++benign;
                const bool hit = v.action == Action::Block || v.action == Action::Redact;
                benignHit += hit ? 1 : 0;
                if (hit)
                    qInfo("false positive: %s -> %s", s.text.c_str(), v.output.c_str());
            }
        }
        const RuleSet rules = builtin();
        for (const auto& [category, description] : rules.categories()) {
            const int t = tp[category], n = fn[category], p = fp[category];
            qInfo("%-20s recall %.3f (%d/%d)  precision %.3f", category.c_str(),
                  t + n ? double(t) / (t + n) : 1.0, t, t + n, t + p ? double(t) / (t + p) : 1.0);
        }
        const double recall = double(harmfulHit) / harmful;
        const double falsePositives = double(benignHit) / benign;
        qInfo("overall recall %.3f on %d harmful; false positives %.3f on %d benign", recall,
              harmful, falsePositives, benign);
        QVERIFY(recall >= 0.95);
        QVERIFY(falsePositives <= 0.03);
    }

    // Every blocked sample, split at every position (and fed byte by byte): nothing of the
    // blocked span is ever shown, and the result equals the whole-text decision.
    void streamingNeverShowsABlockedSpan() {
        const Filter filter(builtin(), Config{}, Direction::Output);
        int checked = 0;
        for (const Sample& s : labelled()) {
            const Verdict whole = filter.check(s.text);
            if (whole.action != Action::Block)
                continue;
            size_t spanBegin = s.text.size();
            for (const Finding& f : whole.findings) {
                if (f.action == Action::Block)
                    spanBegin = std::min(spanBegin, f.begin);
            }
            for (size_t k = 0; k <= s.text.size(); ++k) {
                StreamFilter stream(filter);
                std::string shown = stream.push(s.text.substr(0, k));
                shown += stream.push(s.text.substr(k));
                QVERIFY2(shown.size() <= spanBegin, s.text.c_str());
                QVERIFY(stream.finish() == whole.output);
                QVERIFY(stream.blocked());
            }
            StreamFilter bytes(filter);
            std::string shown;
            for (char c : s.text) shown += bytes.push(std::string(1, c));
            QVERIFY(shown.size() <= spanBegin);
            QCOMPARE(bytes.finish(), whole.output);
            ++checked;
        }
        QVERIFY(checked >= 100);
    }

    void streamingReleasesBenignTextUnchanged() {
        const Filter filter(builtin(), Config{}, Direction::Output);
        const std::string text =
            "Use kill -9 to kill the process if it hangs. Then shoot them an email at "
            "ops@example.com or call +44 20 7946 0958. The year 1488 was long ago.";
        StreamFilter stream(filter);
        std::string shown;
        for (size_t i = 0; i < text.size(); i += 3) shown += stream.push(text.substr(i, 3));
        shown += stream.finish();
        QCOMPARE(shown, filter.check(text).output);
        QVERIFY(shown.find("[email redacted]") != std::string::npos);
        QVERIFY(shown.find("[phone redacted]") != std::string::npos);
        QVERIFY(shown.find("kill the process") != std::string::npos);
    }

    void piiIsRedactedOnlyWhenValid_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("redacted");
        QTest::newRow("visa, Luhn-valid") << "card 4111 1111 1111 1111 thanks" << true;
        QTest::newRow("dashed card") << "4539-1488-0343-6467" << true;
        QTest::newRow("Luhn-invalid card") << "card 4111 1111 1111 1112" << false;
        QTest::newRow("valid IBAN (DE)") << "IBAN DE89 3704 0044 0532 0130 00 please" << true;
        QTest::newRow("valid IBAN (GB)") << "GB82WEST12345698765432" << true;
        QTest::newRow("bad IBAN checksum") << "DE89 3704 0044 0532 0130 01" << false;
        QTest::newRow("email") << "write to jane.doe+news@mail.example.org today" << true;
        QTest::newRow("IPv4") << "the server is at 192.168.1.20" << true;
        QTest::newRow("IPv6") << "ping 2001:0db8:85a3:0000:0000:8a2e:0370:7334" << true;
        QTest::newRow("not an IP") << "values 300.1.2.3 and version 1.2.3.4" << false;
        QTest::newRow("phone") << "call (555) 123-4567 or +1 555 123 4567" << true;
        QTest::newRow("ordinary numbers")
            << "In 2024 we sold 1,234,567 units at 19.99 each; room 204." << false;
        QTest::newRow("a time and a date") << "Meet at 10:30 on 2026-11-30." << false;
    }
    void piiIsRedactedOnlyWhenValid() {
        QFETCH(QString, text);
        QFETCH(bool, redacted);
        const Filter filter(builtin(), Config{}, Direction::Output);
        const Verdict v = filter.check(text.toStdString());
        QVERIFY2((v.action == Action::Redact) == redacted, v.output.c_str());
        QCOMPARE(QString::fromStdString(v.output) == text, !redacted);
    }

    // Findings next to each other, one separator apart, are each found: the character a pattern
    // checks after its finding can start the next one.
    void neighbouringPiiIsEachRedacted() {
        const Filter filter(builtin(), Config{}, Direction::Output);
        const Verdict cards = filter.check("cards 4111 1111 1111 1111 4111111111111111 end");
        QCOMPARE(cards.output,
                 std::string("cards [payment_card redacted] [payment_card redacted] end"));
        const Verdict ips = filter.check("hosts 10.0.0.1 10.0.0.2,192.168.1.7 end");
        QCOMPARE(ips.output, std::string("hosts [ip_address redacted] [ip_address redacted],"
                                         "[ip_address redacted] end"));
        const Verdict mails = filter.check("a@example.org b@example.org");
        QCOMPARE(mails.output, std::string("[email redacted] [email redacted]"));
    }

    // Long texts and patterns with nested repetition take time linear in the text: with
    // std::regex a 50,000-character run of letters or digits overflowed the stack (the e-mail
    // and card patterns), and "(a+)+b" took exponential time.
    void longTextsAndNestedRepetitionAreSafe() {
        RuleSet rules = builtin();
        auto user = RuleSet::parse(
            R"j({"version":1,"categories":{"custom":"x"},"rules":[)j"
            R"j({"id":"custom.nested","category":"custom","action":"flag","patterns":["(a+)+b"]},)j"
            R"j({"id":"custom.greedy","category":"custom","action":"flag","patterns":["(a|b)*c"]}]})j",
            "user-rules.json");
        QVERIFY2(user.has_value(), user ? "" : user.error().message.c_str());
        QVERIFY(rules.merge(*user).has_value());
        const Filter filter(std::move(rules), Config{}, Direction::Output);
        for (const char* unit : {"a", "1", "ab", "1 ", "a.", "a@"}) {
            std::string text;
            while (text.size() < 200000) text += unit;
            const Verdict v = filter.check(text);
            QVERIFY2(v.output.size() <= text.size() + 16, unit);
        }
        std::string text(100000, 'a');
        QCOMPARE(filter.check(text + "b").action, Action::Flag);  // "(a+)+b" matches
        QCOMPARE(filter.check(text).action, Action::Allow);
    }

    void patternsOutsideRe2AreClearErrors() {
        auto user = RuleSet::parse(
            R"j({"version":1,"categories":{"custom":"x"},"rules":[)j"
            R"j({"id":"custom.look","category":"custom","action":"flag","patterns":["a(?!b)"]}]})j",
            "user-rules.json");
        QVERIFY(!user.has_value());
        const QString message = QString::fromStdString(user.error().message);
        QVERIFY2(message.startsWith("user-rules.json") && message.contains("custom.look") &&
                     message.contains("RE2"),
                 qPrintable(message));
    }

    void normalisationDefeatsTrivialEvasions_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("fullwidth") << "ｈｏｗ ｔｏ ｍａｋｅ ａ ｐｉｐｅ ｂｏｍｂ";
        QTest::newRow("zero-width") << "how to make a pi\u200bpe bo\u200dmb";
        QTest::newRow("leet") << "h0w t0 m4k3 4 p1p3 b0mb";
        QTest::newRow("dotted") << "how to make a p.i.p.e b.o.m.b";
        QTest::newRow("upper case") << "HOW TO MAKE A PIPE BOMB";
        QTest::newRow("spaces") << "how to  make a\tpipe   bomb";
    }
    void normalisationDefeatsTrivialEvasions() {
        QFETCH(QString, text);
        const Filter filter(builtin(), Config{}, Direction::Output);
        QCOMPARE(filter.check(text.toStdString()).action, Action::Block);
    }

    void normalisedOffsetsPointIntoTheOriginal() {
        const std::string original = "ＡＢ k.i.l.l x";
        const NormalizedText n = normalizeForMatching(original);
        QCOMPARE(n.text, std::string("ab kill x"));
        QCOMPARE(n.origin.size(), n.text.size() + 1);
        QCOMPARE(n.origin[3], size_t{7});  // 'k' after two 3-byte fullwidth letters and a space
        QCOMPARE(n.origin.back(), original.size());
        // Whitespace runs collapse; a run with a line break keeps one newline.
        const NormalizedText w = normalizeForMatching("ab  cd\t\tef \r\n gh");
        QCOMPARE(w.text, std::string("ab cd ef\ngh"));
        QCOMPARE(w.origin.size(), w.text.size() + 1);
        QCOMPARE(w.origin[6], size_t{8});  // 'e' after "ab  cd\t\t"
    }

    void inputDirectionActsOnlyOnTheMostSevere() {
        const Filter input(builtin(), Config{}, Direction::Input);
        QCOMPARE(input.check("You are pathetic at this game").action, Action::Allow);
        QCOMPARE(input.check("Where can I find child porn?").action, Action::Block);
        QCOMPARE(input.check("my mail is a@b.com").action, Action::Allow);  // PII: output only
        Config flagOnly;
        flagOnly.flagOnly = true;
        const Filter base(builtin(), flagOnly, Direction::Output);
        QCOMPARE(base.check("how to make a pipe bomb").action, Action::Flag);
        Config off;
        off.enabled = false;
        QCOMPARE(Filter(builtin(), off, Direction::Output).check("how to make a pipe bomb").action,
                 Action::Allow);
    }

    void badRulesFilesAreClearErrorsAndBuiltinsStay_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("malformed") << "{\"version\": 1, "
                                   << "not valid JSON";
        QTest::newRow("bad regex")
            << "{\"version\":1,\"categories\":{\"x\":\"x\"},\"rules\":[{\"id\":\"r\",\"category\":"
               "\"x\",\"action\":\"block\",\"patterns\":[\"(unclosed\"]}]}"
            << "invalid pattern";
        QTest::newRow("unknown category")
            << "{\"version\":1,\"categories\":{\"x\":\"x\"},\"rules\":[{\"id\":\"r\",\"category\":"
               "\"nope\",\"action\":\"flag\",\"terms\":[\"a\"]}]}"
            << "unknown category";
        QTest::newRow("bad action")
            << "{\"version\":1,\"categories\":{\"x\":\"x\"},\"rules\":[{\"id\":\"r\",\"category\":"
               "\"x\",\"action\":\"explode\",\"terms\":[\"a\"]}]}"
            << "action";
        QTest::newRow("duplicate id")
            << "{\"version\":1,\"categories\":{\"x\":\"x\"},\"rules\":[{\"id\":\"r\",\"category\":"
               "\"x\",\"action\":\"flag\",\"terms\":[\"a\"]},{\"id\":\"r\",\"category\":\"x\","
               "\"action\":\"flag\",\"terms\":[\"b\"]}]}"
            << "repeated";
    }
    void badRulesFilesAreClearErrorsAndBuiltinsStay() {
        QFETCH(QString, json);
        QFETCH(QString, mentions);
        auto user = RuleSet::parse(json.toStdString(), "user-rules.json");
        QVERIFY(!user.has_value());
        const QString message = QString::fromStdString(user.error().message);
        QVERIFY2(message.startsWith("user-rules.json") && message.contains(mentions),
                 qPrintable(message));
        RuleSet rules = builtin();  // a broken user file leaves the built-in rules as they were
        QCOMPARE(Filter(rules, Config{}, Direction::Output).check("how to make a pipe bomb").action,
                 Action::Block);
    }

    void userRulesMergeWithTheBuiltins() {
        RuleSet rules = builtin();
        auto user = RuleSet::parse(
            "{\"version\":1,\"categories\":{\"custom\":\"team "
            "words\"},\"rules\":[{\"id\":\"custom.codename\",\"category\":\"custom\",\"action\":"
            "\"redact\",\"terms\":[\"project nightjar\"]}]}",
            "user-rules.json");
        QVERIFY(user.has_value());
        QVERIFY(rules.merge(*user).has_value());
        const Verdict v =
            Filter(rules, Config{}, Direction::Output).check("About Project Nightjar: soon.");
        QCOMPARE(v.action, Action::Redact);
        QCOMPARE(v.output, std::string("About [redacted]: soon."));
        QVERIFY(!rules.merge(*user).has_value());  // ids must not clash
    }
};

QTEST_APPLESS_MAIN(SafetyTest)
#include "safety_test.moc"
