// SPDX-License-Identifier: Apache-2.0
// ConversationStore and settings: round trips, crash-safe writes, quarantine of broken files,
// schema checks, and the time to load 1,000 conversations (reported, not asserted).
#include "services/conversation_store.h"

#include <random>

#include <QDir>
#include <QElapsedTimer>
#include <QtTest>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_settings.h"
#include "atomic_file.h"
#include "json_damage.h"
#include "services/summary_followup.h"
#include "test_files.h"

namespace {

Conversation sample(int messages = 4) {
    GenerationParams p;
    p.temperature = 0.3;
    p.seed = 99;
    Conversation c = Conversation::create(p, QStringLiteral("Be brief."));
    c.title = QStringLiteral("Grüße 🎉 \"quoted\"");
    c.modelName = QStringLiteral("demo");
    c.modelFingerprint = QStringLiteral("0123456789abcdef");
    for (int i = 0; i < messages; ++i) {
        ChatMessageData m;
        m.role = i % 2 == 0 ? ChatMessageData::Role::User : ChatMessageData::Role::Model;
        m.text = QStringLiteral("message %1 with ```code``` and\nnewlines ✓").arg(i);
        m.time = QDateTime::currentDateTimeUtc();
        if (m.role == ChatMessageData::Role::Model) {
            m.stats = MessageStats{12, 34, 5.5, 100.0, 20.0, QStringLiteral("end_of_turn"), 7};
            m.tokens = {5, 6, 7};
        }
        c.messages.push_back(m);
    }
    // Times survive with millisecond precision.
    c.created = QDateTime::fromMSecsSinceEpoch(c.created.toMSecsSinceEpoch(), Qt::UTC);
    c.updated = c.created;
    for (auto& m : c.messages)
        m.time = QDateTime::fromMSecsSinceEpoch(m.time.toMSecsSinceEpoch(), Qt::UTC);
    return c;
}

// sample() as a document summary: its source, with two sections.
Conversation summarySample() {
    Conversation c = sample();
    c.kind = QStringLiteral("summary");
    SummarySourceData src;
    src.path = QStringLiteral("/docs/report.pdf");
    src.bytes = 12345;
    src.sha256 = QString(64, QLatin1Char('a'));
    src.encoding = QStringLiteral("pdf (3 pages)");
    src.strategy = QStringLiteral("map-reduce");
    src.length = QStringLiteral("short");
    src.focus = QStringLiteral("costs?");
    src.documentTokens = 4096;
    src.sections = {{0, 1, 40, 1, 2, 900, QStringLiteral("first part")},
                    {1, 41, 80, 2, 3, 880, QStringLiteral("second part")}};
    src.summary = QStringLiteral("the whole");
    src.language = QStringLiteral("german");
    c.source = src;
    return c;
}

QString tempPath(const griffin::test::TempDir& dir) {
    return QString::fromStdString(dir.path().string());
}

}  // namespace

class ConversationStoreTest : public QObject {
    Q_OBJECT

private slots:
    void saveThenLoadRoundTrips() {
        griffin::test::TempDir dir;
        ConversationStore store(tempPath(dir));
        const Conversation c = sample();
        QVERIFY(store.save(c).has_value());
        const auto report = store.loadAll();
        QVERIFY(report.problems.isEmpty());
        QCOMPARE(report.conversations.size(), 1);
        QVERIFY(report.conversations[0] == c);
    }

    // A writer killed at a random moment leaves either the old or the new file, never a mix.
    void killedWriterLeavesThePreviousFileIntact() {
        griffin::test::TempDir dir;
        const QString path = tempPath(dir) + QStringLiteral("/c.json");
        const QByteArray first(200000, 'a');
        const QByteArray second(400000, 'b');
        QVERIFY(writeFileAtomically(path, first).has_value());
        for (int round = 0; round < 40; ++round) {
            const pid_t child = fork();
            QVERIFY(child >= 0);
            if (child == 0) {
                for (;;) (void)writeFileAtomically(path, round % 2 ? first : second);
            }
            usleep(static_cast<useconds_t>(200 + (round * 7919) % 3000));
            kill(child, SIGKILL);
            int status = 0;
            waitpid(child, &status, 0);
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray content = f.readAll();
            QVERIFY2(content == first || content == second, qPrintable(QString::number(round)));
        }
        // Leftover temporary files are hidden and never read as conversations.
        ConversationStore store(tempPath(dir));
        QVERIFY(store.loadAll().problems.size() <= 1);  // c.json itself is not a conversation
    }

    void brokenFilesAreQuarantinedAndTheRestLoad_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("not json") << QByteArray("{ this is not json") << "not valid JSON";
        QTest::newRow("truncated")
            << QByteArray::fromStdString(conversationToJson(sample()).substr(0, 300))
            << "not valid JSON";
        QTest::newRow("wrong types") << QByteArray(R"({"schema": 1, "id": 5})") << "";
        QTest::newRow("future schema") << QByteArray(R"({"schema": 7})") << "schema version 7";
        QTest::newRow("bad role") << QByteArray::fromStdString(conversationToJson(sample()).replace(
                                         conversationToJson(sample()).find("\"user\""), 6,
                                         "\"robot\""))
                                  << "bad role";
    }
    void brokenFilesAreQuarantinedAndTheRestLoad() {
        QFETCH(QByteArray, content);
        QFETCH(QString, mentions);
        griffin::test::TempDir dir;
        ConversationStore store(tempPath(dir));
        const Conversation good = sample();
        QVERIFY(store.save(good).has_value());
        const QString bad = tempPath(dir) + QStringLiteral("/broken-1.json");
        QVERIFY(writeFileAtomically(bad, content).has_value());
        const auto report = store.loadAll();
        QCOMPARE(report.conversations.size(), 1);
        QCOMPARE(report.conversations[0].id, good.id);
        QCOMPARE(report.problems.size(), 1);
        QVERIFY2(report.problems[0].contains(mentions), qPrintable(report.problems[0]));
        QVERIFY(!QFile::exists(bad));
        QVERIFY(QFile::exists(bad + QStringLiteral(".corrupt")));  // kept, not deleted
        // A second load reports nothing new and a later quarantine never overwrites the first.
        QVERIFY(store.loadAll().problems.isEmpty());
    }

    void unknownSchemaIsRefusedClearly() {
        std::string text = conversationToJson(sample());
        text.replace(text.find("\"schema\": 2"), 11, "\"schema\": 3");
        auto c = conversationFromJson(text);
        QVERIFY(!c.has_value());
        QCOMPARE(c.error().code, griffin::ErrorCode::Unsupported);
        QVERIFY(QString::fromStdString(c.error().message).contains("schema version 3"));
    }

    void deleteRemovesFileAndSnapshot() {
        griffin::test::TempDir dir;
        ConversationStore store(tempPath(dir));
        const Conversation c = sample();
        QVERIFY(store.save(c).has_value());
        QVERIFY(writeFileAtomically(store.statePath(c.id), "x").has_value());
        QVERIFY(store.remove(c.id).has_value());
        QVERIFY(!QFile::exists(store.filePath(c.id)) && !QFile::exists(store.statePath(c.id)));
        QVERIFY(!store.remove(QStringLiteral("../escape")).has_value());
    }

    void thousandConversationsLoad() {
        griffin::test::TempDir dir;
        ConversationStore store(tempPath(dir));
        for (int i = 0; i < 1000; ++i) QVERIFY(store.save(sample(6)).has_value());
        QElapsedTimer timer;
        timer.start();
        const auto report = store.loadAll();
        const qint64 ms = timer.elapsed();
        QCOMPARE(report.conversations.size(), 1000);
        qInfo("loading 1000 conversations of 6 messages took %lld ms", static_cast<long long>(ms));
    }

    void markdownExportHasEveryMessage() {
        const Conversation c = sample();
        const QString md = conversationToMarkdown(c);
        QVERIFY(md.startsWith(QStringLiteral("# ") + c.title));
        for (const auto& m : c.messages) QVERIFY(md.contains(m.text));
    }

    void settingsDefaultsValidationAndUnknownKeys() {
        griffin::test::TempDir dir;
        const QString file = tempPath(dir) + QStringLiteral("/settings.json");
        SettingsLoad missing = loadSettings(file);
        QVERIFY(missing.warnings.isEmpty());
        QVERIFY(missing.settings == AppSettings());

        QVERIFY(writeFileAtomically(file, R"({"schema": 1, "backend": "quantum", "theme": "dark",
            "sampling": {"temperature": -3, "top_k": 12, "top_p": "high"},
            "font_point_size": 500, "lab_snapshot_mib": 2, "future_feature": {"x": 1},
            "weights": "q2_k", "cpu_threads": -4})")
                    .has_value());
        SettingsLoad loaded = loadSettings(file);
        QCOMPARE(loaded.settings.backend, QStringLiteral("auto"));  // replaced
        QCOMPARE(loaded.settings.weights, QStringLiteral("stored"));
        QCOMPARE(loaded.settings.cpuThreads, 0);
        QCOMPARE(loaded.settings.theme, QStringLiteral("dark"));  // kept
        QCOMPARE(loaded.settings.sampling.topK, 12);              // kept
        QCOMPARE(loaded.settings.sampling.temperature, AppSettings().sampling.temperature);
        QCOMPARE(loaded.settings.fontPointSize, 0);
        QCOMPARE(loaded.settings.labSnapshotMiB, AppSettings().labSnapshotMiB);  // 2 < 8
        QCOMPARE(loaded.warnings.size(), 7);
        loaded.settings.labSnapshotMiB = 64;
        loaded.settings.weights = QStringLiteral("q4_0");
        loaded.settings.cpuThreads = 3;
        QVERIFY(saveSettings(loaded.settings, file).has_value());
        const SettingsLoad saved = loadSettings(file);
        QVERIFY(saved.warnings.isEmpty());
        QCOMPARE(saved.settings.labSnapshotMiB, 64);
        QCOMPARE(saved.settings.weights, QStringLiteral("q4_0"));
        QCOMPARE(saved.settings.cpuThreads, 3);
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains("future_feature"));  // unknown keys survive a save

        QVERIFY(writeFileAtomically(file, "{broken").has_value());
        SettingsLoad broken = loadSettings(file);
        QCOMPARE(broken.warnings.size(), 1);
        QVERIFY(QFile::exists(file + QStringLiteral(".corrupt")));
        QVERIFY(broken.settings == AppSettings());
    }

    // Settings files too: any value replaced by another of any type, or any key dropped, loads
    // (with warnings for what was replaced), and what loads saves and loads back unchanged
    // without warnings.
    void randomlyDamagedSettingsLoadAndRoundTrip() {
        griffin::test::TempDir dir;
        AppSettings base;
        base.modelPath = QStringLiteral("/models/recurrentgemma-2b-it");
        base.backend = QStringLiteral("cpu");
        base.weights = QStringLiteral("q8_0");
        base.cpuThreads = 2;
        base.theme = QStringLiteral("dark");
        base.fontPointSize = 12;
        base.recentModels = {QStringLiteral("/a"), QStringLiteral("/b")};
        base.systemPrompt = QStringLiteral("Be brief.");
        const QString file = tempPath(dir) + QStringLiteral("/settings.json");
        const QString again = tempPath(dir) + QStringLiteral("/again.json");
        QVERIFY(saveSettings(base, file).has_value());
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const nlohmann::json valid = nlohmann::json::parse(f.readAll().toStdString());
        f.close();
        const auto nodes = griffin::test::jsonNodes(valid);
        QVERIFY(nodes.size() > 20);
        const std::vector<nlohmann::json> replacements = {nullptr,
                                                          true,
                                                          -1,
                                                          0,
                                                          1e300,
                                                          2147483648LL,
                                                          "",
                                                          "vulkan:99999999999",
                                                          "dark",
                                                          nlohmann::json::array(),
                                                          nlohmann::json::array({1}),
                                                          nlohmann::json::object()};
        std::mt19937 rng(20261203);
        int warned = 0;
        for (int round = 0; round < 300; ++round) {
            nlohmann::json j = valid;
            griffin::test::damageJson(j, nodes, replacements, rng);
            QVERIFY(writeFileAtomically(file, QByteArray::fromStdString(j.dump())).has_value());
            const SettingsLoad loaded = loadSettings(file);
            warned += loaded.warnings.isEmpty() ? 0 : 1;
            QVERIFY(saveSettings(loaded.settings, again).has_value());
            const SettingsLoad reloaded = loadSettings(again);
            QVERIFY2(reloaded.warnings.isEmpty(),
                     qPrintable(QString::fromStdString(j.dump()) + QStringLiteral("\n-> ") +
                                reloaded.warnings.join(QLatin1Char('\n'))));
            QVERIFY2(reloaded.settings == loaded.settings, j.dump().c_str());
        }
        QVERIFY(warned > 0);
    }

    void safetySettingsRoundTrip() {
        griffin::test::TempDir dir;
        const QString file = tempPath(dir) + QStringLiteral("/settings.json");
        AppSettings s;
        s.safety.enabled = false;
        s.safety.categoryActions = {{"hate_speech", "flag"}, {"harassment", "allow"}};
        s.safety.piiTypes = {"email", "iban"};
        s.safety.inputMode = "all";
        s.safety.inputAction = "flag";
        s.safety.userRulesFile = "/home/someone/my rules.json";
        s.safety.judgeEnabled = true;
        s.safety.judgeThreshold = 0.6;
        QVERIFY(saveSettings(s, file).has_value());
        const SettingsLoad loaded = loadSettings(file);
        QVERIFY2(loaded.warnings.isEmpty(), qPrintable(loaded.warnings.join('\n')));
        QVERIFY(loaded.settings.safety == s.safety);
        QVERIFY(loaded.settings == s);
        QVERIFY(loaded.settings.unknownJson.find("safety") == std::string::npos);  // known
    }

    // Each wrong-typed or out-of-range safety value is reported and replaced by its default; the
    // valid ones next to it are kept.
    void safetySettingsValidation() {
        griffin::test::TempDir dir;
        const QString file = tempPath(dir) + QStringLiteral("/settings.json");
        QVERIFY(writeFileAtomically(file, R"({"schema": 1, "safety": {
            "enabled": "yes",
            "category_actions": {"hate_speech": "shout", "harassment": "flag", "Bad Id!": "block"},
            "pii": {"email": false, "phone": 3, "fax": true},
            "input_mode": "sometimes", "input_action": "flag",
            "user_rules_file": 42,
            "judge_enabled": true, "judge_threshold": 1.5}})")
                    .has_value());
        const SettingsLoad loaded = loadSettings(file);
        const SafetySettings& s = loaded.settings.safety;
        const SafetySettings defaults;
        QCOMPARE(s.enabled, defaults.enabled);
        QCOMPARE(s.categoryActions, (QMap<QString, QString>{{"harassment", "flag"}}));
        QCOMPARE(s.piiTypes, (QStringList{"phone", "payment_card", "iban", "ip_address"}));
        QCOMPARE(s.inputMode, defaults.inputMode);
        QCOMPARE(s.inputAction, QStringLiteral("flag"));
        QCOMPARE(s.userRulesFile, defaults.userRulesFile);
        QCOMPARE(s.judgeEnabled, true);
        QCOMPARE(s.judgeThreshold, defaults.judgeThreshold);
        // enabled, hate_speech, Bad Id!, phone, fax, input_mode, user_rules_file, judge_threshold
        QCOMPARE(loaded.warnings.size(), 8);
        QVERIFY(loaded.warnings.join('\n').contains("shout"));
        QVERIFY(loaded.warnings.join('\n').contains("fax"));

        QVERIFY(writeFileAtomically(file, R"({"schema": 1, "safety": [1, 2]})").has_value());
        const SettingsLoad wrong = loadSettings(file);
        QCOMPARE(wrong.warnings.size(), 1);
        QVERIFY(wrong.settings.safety == SafetySettings());
    }

    void conversationSafetySwitchAndRefusedMessagesPersist() {
        griffin::test::TempDir dir;
        ConversationStore store(tempPath(dir));
        Conversation c = sample();
        c.safetyEnabled = false;
        c.messages[2].safety = {
            R"({"action":"refuse","begin":0,"category":"violent_wrongdoing","direction":"input",)"
            R"("end":9,"filter":"rules","rule":"weapons.explosives"})"};
        QVERIFY(store.save(c).has_value());
        const auto report = store.loadAll();
        QCOMPARE(report.conversations.size(), 1);
        QVERIFY(report.conversations[0] == c);
        QCOMPARE(report.conversations[0].safetyEnabled, false);
        QVERIFY(isRefusedBySafety(report.conversations[0].messages[2]));
        QVERIFY(!isRefusedBySafety(report.conversations[0].messages[0]));
    }

    // Files written before the switch existed have no "safety_filters": they load with it on.
    void conversationWithoutTheSafetyKeyLoadsWithFiltersOn() {
        Conversation c = sample();
        c.safetyEnabled = false;
        auto j = nlohmann::json::parse(conversationToJson(c));
        QVERIFY(j.contains("safety_filters"));
        j.erase("safety_filters");
        const auto loaded = conversationFromJson(j.dump());
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded->safetyEnabled, true);
    }

    // Conversation files are untrusted: any value of a valid file replaced by another of any
    // type, or any key dropped, is an error saying what is wrong, or a conversation that saves and
    // loads back unchanged. Never an uncaught exception or a crash (ASan/UBSan in CI).
    void randomlyDamagedConversationsAreErrorsOrLoadCleanly() {
        Conversation c = summarySample();
        c.messages[3].sources = {1};
        c.messages[3].otherBranches = {{c.messages[3]}};
        c.messages[3].branchIndex = 1;
        const nlohmann::json valid = nlohmann::json::parse(conversationToJson(c));
        QVERIFY(conversationFromJson(valid.dump()).has_value());
        // Every node of the file, by JSON pointer.
        const auto nodes = griffin::test::jsonNodes(valid);
        QVERIFY(nodes.size() > 50);
        const std::vector<nlohmann::json> replacements = {
            nullptr,
            true,
            -1,
            0,
            1,
            2147483648LL,
            -9223372036854775807LL - 1,
            18446744073709551615ULL,
            0.5,
            -1e300,
            1e300,
            "",
            "x",
            "user",
            "model",
            "2026-13-45T99:99:99Z",
            nlohmann::json::array(),
            nlohmann::json::array({1, "a"}),
            nlohmann::json::object(),
            nlohmann::json::object({{"role", "user"}})};
        std::mt19937 rng(20261203);
        int loaded = 0, rejected = 0;
        for (int round = 0; round < 3000; ++round) {
            nlohmann::json j = valid;
            griffin::test::damageJson(j, nodes, replacements, rng);
            const std::string text = j.dump();
            const auto result = conversationFromJson(text);
            if (!result) {
                ++rejected;
                QVERIFY2(!result.error().message.empty(), text.c_str());
                continue;
            }
            ++loaded;
            // What loads is within the ranges the app works with.
            const GenerationParams& p = result->params;
            QVERIFY2(isValidConversationId(result->id), text.c_str());
            QVERIFY2(p.temperature >= 0 && p.topK >= 0 && p.topP >= 0 && p.topP <= 1 &&
                         p.minP >= 0 && p.minP <= 1 && p.repeatPenalty > 0 && p.maxTokens >= 1,
                     text.c_str());
            const auto check = [&](const auto& self, const ChatMessageData& m) -> void {
                QVERIFY2(m.branchIndex >= 0 && m.branchIndex < m.branchCount(), text.c_str());
                for (qint64 index : m.sources) QVERIFY2(index >= 0, text.c_str());
                for (const auto& version : m.otherBranches) {
                    for (const ChatMessageData& other : version) self(self, other);
                }
            };
            for (const ChatMessageData& m : result->messages) check(check, m);
            const std::string saved = conversationToJson(*result);
            const auto again = conversationFromJson(saved);
            if (!again)
                QFAIL(qPrintable(QString::fromStdString(text + "\n-> " + again.error().message)));
            QVERIFY2(*again == *result, text.c_str());
            QCOMPARE(conversationToJson(*again), saved);
        }
        QVERIFY2(loaded > 0 && rejected > 0,
                 qPrintable(QString("%1 loaded, %2 rejected").arg(loaded).arg(rejected)));
    }

    // A summary conversation keeps its kind and source (document, chunks with lines or pages);
    // files without "kind" are chats; an unknown kind is refused.
    void summaryConversationRoundTrips() {
        Conversation c = summarySample();
        c.messages[3].sources = {1, 0};  // a follow-up's reply names the sections it drew on
        const auto loaded = conversationFromJson(conversationToJson(c));
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QVERIFY(*loaded == c);
        QCOMPARE(loaded->messages[3].sources, (std::vector<qint64>{1, 0}));
        QCOMPARE(loaded->source->language, QStringLiteral("german"));
        {
            const auto j = nlohmann::json::parse(conversationToJson(c));
            QCOMPARE(j.at("messages")[3].at("sources"), nlohmann::json::array({1, 0}));
            QVERIFY(!j.at("messages")[1].contains("sources"));  // only where there are some
            QCOMPARE(j.at("source").at("language").get<std::string>(), std::string("german"));
        }
        // Files from before the language and the sources were recorded load without them.
        {
            auto j = nlohmann::json::parse(conversationToJson(c));
            j.at("source").erase("language");
            j.at("messages")[3].erase("sources");
            const auto old = conversationFromJson(j.dump());
            QVERIFY2(old.has_value(), old ? "" : old.error().message.c_str());
            QVERIFY(old->source->language.isEmpty());
            QVERIFY(old->messages[3].sources.empty());
            Conversation expected = c;
            expected.source->language.clear();
            expected.messages[3].sources.clear();
            QVERIFY(*old == expected);
        }
        // Sources that are not section indices are refused, naming the key.
        for (const nlohmann::json& bad :
             {nlohmann::json::array({-1}), nlohmann::json("1"), nlohmann::json::array({"x"})}) {
            auto j = nlohmann::json::parse(conversationToJson(c));
            j.at("messages")[3]["sources"] = bad;
            const auto refused = conversationFromJson(j.dump());
            QVERIFY(!refused.has_value());
            QCOMPARE(refused.error().code, griffin::ErrorCode::Corrupt);
        }

        auto j = nlohmann::json::parse(conversationToJson(sample()));
        QVERIFY(!j.contains("kind"));
        QCOMPARE(conversationFromJson(j.dump())->kind, QStringLiteral("chat"));
        j["kind"] = "poem";
        QVERIFY(!conversationFromJson(j.dump()).has_value());
    }

    // Follow-ups in a summary conversation: the sections a question is about, the line shown
    // under the reply, and the sections' summaries the model reads before each question.
    void summaryFollowUpsNameTheirSections() {
        SummarySourceData src;
        src.sections = {{0, 1, 40, 0, 0, 90, QStringLiteral("The bridge was planned in spring.")},
                        {1, 41, 80, 0, 0, 88, QStringLiteral("Birds sing in the old garden.")},
                        {2, 81, 120, 0, 0, 91,
                         QStringLiteral("Repair costs of the bridge doubled; costs rose.")}};
        QCOMPARE(summarySourcesFor(src, QStringLiteral("What about the costs of the bridge?")),
                 (std::vector<qint64>{2, 0}));
        QCOMPARE(summarySourcesFor(src, QStringLiteral("costs"), 1), (std::vector<qint64>{2}));
        QVERIFY(summarySourcesFor(src, QStringLiteral("What does it say?")).empty());
        QVERIFY(summarySourcesFor(SummarySourceData{}, QStringLiteral("costs")).empty());
        QCOMPARE(summarySourcesLabel(src, {2, 0}),
                 QStringLiteral("From sections 3, 1 (lines 81-120, lines 1-40)"));
        QCOMPARE(summarySourcesLabel(src, {1}), QStringLiteral("From section 2 (lines 41-80)"));
        QVERIFY(summarySourcesLabel(src, {7}).isEmpty());  // not a section of this source
        src.sections[1].firstPage = 3;
        src.sections[1].lastPage = 4;
        QCOMPARE(summarySourcesLabel(src, {1}), QStringLiteral("From section 2 (pages 3-4)"));

        Conversation c = sample(4);
        c.kind = QStringLiteral("summary");
        c.source = src;
        c.messages[3].sources = {2};
        ChatMessageData question;
        question.text = QStringLiteral("And the birds?");
        c.messages.push_back(question);
        const QVector<QString> prefixes = summaryModelPrefixes(c, {1});
        QCOMPARE(prefixes.size(), c.messages.size());
        QVERIFY(prefixes[0].isEmpty());  // the summary request: answered without sources
        QVERIFY(prefixes[1].isEmpty() && prefixes[3].isEmpty());  // replies get none
        QVERIFY(prefixes[2].contains(QStringLiteral("[3] (lines 81-120) Repair costs")));
        QVERIFY(prefixes[4].contains(QStringLiteral("[2] (pages 3-4) Birds sing")));
        QVERIFY(!prefixes[4].contains(QStringLiteral("Repair")));
        c.kind = QStringLiteral("chat");
        QVERIFY(summaryModelPrefixes(c, {1}).isEmpty());
    }

    // Versions: regenerate keeps the old reply, edit keeps the old question with everything
    // after it; switching shows any version; dropping a failed one shows the newest other.
    void versionsFormATree() {
        auto msg = [](ChatMessageData::Role role, const char* text) {
            ChatMessageData m;
            m.role = role;
            m.text = QString::fromUtf8(text);
            m.time = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);
            return m;
        };
        using R = ChatMessageData::Role;
        QVector<ChatMessageData> path = {msg(R::User, "q1"), msg(R::Model, "a1"),
                                         msg(R::User, "q2"), msg(R::Model, "a2")};
        // Regenerate a2 twice.
        for (const char* text : {"a2'", "a2''"}) {
            ChatMessageData reply = msg(R::Model, text);
            attachVersions(reply, detachVersions(path, 3));
            path.push_back(reply);
        }
        QCOMPARE(path.size(), 4);
        QCOMPARE(path[3].branchCount(), 3);
        QCOMPARE(path[3].branchIndex, 2);
        QVERIFY(switchVersion(path, 3, 0));
        QCOMPARE(path[3].text, QStringLiteral("a2"));
        QCOMPARE(path[3].branchCount(), 3);
        // Edit q1 while version 1 of a2 is shown: the whole path from q1 becomes version 1.
        ChatMessageData edited = msg(R::User, "q1 edited");
        attachVersions(edited, detachVersions(path, 0));
        path = {edited, msg(R::Model, "b1")};
        QCOMPARE(path[0].branchCount(), 2);
        QVERIFY(switchVersion(path, 0, 0));
        QCOMPARE(path.size(), 4);
        QCOMPARE(path[0].text, QStringLiteral("q1"));
        QCOMPARE(path[3].text, QStringLiteral("a2"));  // the nested versions came along
        QCOMPARE(path[3].branchCount(), 3);
        QVERIFY(!switchVersion(path, 3, 3));
        QVERIFY(!switchVersion(path, 9, 0));
        // JSON keeps the whole tree.
        Conversation c = sample();
        c.messages = path;
        const auto loaded = conversationFromJson(conversationToJson(c));
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QVERIFY(*loaded == c);
        QCOMPARE(nlohmann::json::parse(conversationToJson(c)).at("schema"), 2);
        // A failed reply is dropped; the newest other version shows.
        QVERIFY(switchVersion(path, 3, 1));
        QVERIFY(dropVersion(path, 3));
        QCOMPARE(path[3].text, QStringLiteral("a2''"));
        QCOMPARE(path[3].branchCount(), 2);
        QVERIFY(dropVersion(path, 3));
        QVERIFY(!dropVersion(path, 3));  // the last one stays
    }

    // Files of schema 1 (linear) load as they are; malformed trees are refused clearly.
    void linearFilesMigrateAndBadTreesAreRefused() {
        auto j = nlohmann::json::parse(conversationToJson(sample()));
        j["schema"] = 1;
        const auto old = conversationFromJson(j.dump());
        QVERIFY(old.has_value());
        QCOMPARE(old->messages.size(), sample().messages.size());
        for (const ChatMessageData& m : old->messages) QCOMPARE(m.branchCount(), 1);

        auto bad = nlohmann::json::parse(conversationToJson(sample()));
        bad["messages"][0]["branches"] =
            nlohmann::json::array({nlohmann::json::array({bad["messages"][0]})});
        bad["messages"][0]["branch_index"] = 5;
        QVERIFY(!conversationFromJson(bad.dump()).has_value());
        bad["messages"][0]["branch_index"] = 0;
        QVERIFY(conversationFromJson(bad.dump()).has_value());
        bad["messages"][0]["branches"][0][0]["role"] = "model";  // a sibling of another role
        QVERIFY(!conversationFromJson(bad.dump()).has_value());

        // A hostile nesting depth is an error, not a stack overflow.
        nlohmann::json deep = nlohmann::json::parse(conversationToJson(sample()));
        nlohmann::json node = deep["messages"][0];
        for (int i = 0; i < 200; ++i) {
            nlohmann::json parent = deep["messages"][0];
            parent["branches"] = nlohmann::json::array({nlohmann::json::array({node})});
            parent["branch_index"] = 1;
            node = parent;
        }
        deep["messages"][0] = node;
        const auto refused = conversationFromJson(deep.dump());
        QVERIFY(!refused.has_value());
        QVERIFY(QString::fromStdString(refused.error().message).contains("deep"));
        j["schema"] = 3;
        QVERIFY(!conversationFromJson(j.dump()).has_value());
    }
};

QTEST_APPLESS_MAIN(ConversationStoreTest)
#include "conversation_store_test.moc"
