// SPDX-License-Identifier: Apache-2.0
// ConversationStore and settings: round trips, crash-safe writes, quarantine of broken files,
// schema checks, and the time to load 1,000 conversations (reported, not asserted).
#include "services/conversation_store.h"

#include <QDir>
#include <QElapsedTimer>
#include <QtTest>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_settings.h"
#include "atomic_file.h"
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
        text.replace(text.find("\"schema\": 1"), 11, "\"schema\": 2");
        auto c = conversationFromJson(text);
        QVERIFY(!c.has_value());
        QCOMPARE(c.error().code, griffin::ErrorCode::Unsupported);
        QVERIFY(QString::fromStdString(c.error().message).contains("schema version 2"));
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
            "font_point_size": 500, "future_feature": {"x": 1}})")
                    .has_value());
        SettingsLoad loaded = loadSettings(file);
        QCOMPARE(loaded.settings.backend, QStringLiteral("auto"));  // replaced
        QCOMPARE(loaded.settings.theme, QStringLiteral("dark"));    // kept
        QCOMPARE(loaded.settings.sampling.topK, 12);                // kept
        QCOMPARE(loaded.settings.sampling.temperature, AppSettings().sampling.temperature);
        QCOMPARE(loaded.settings.fontPointSize, 0);
        QCOMPARE(loaded.warnings.size(), 4);
        QVERIFY(saveSettings(loaded.settings, file).has_value());
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains("future_feature"));  // unknown keys survive a save

        QVERIFY(writeFileAtomically(file, "{broken").has_value());
        SettingsLoad broken = loadSettings(file);
        QCOMPARE(broken.warnings.size(), 1);
        QVERIFY(QFile::exists(file + QStringLiteral(".corrupt")));
        QVERIFY(broken.settings == AppSettings());
    }
};

QTEST_APPLESS_MAIN(ConversationStoreTest)
#include "conversation_store_test.moc"
