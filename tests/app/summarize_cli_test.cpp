// SPDX-License-Identifier: Apache-2.0
// `griffin summarize` as users and scripts run it: Markdown or JSON on stdout (or --out),
// progress on stderr only, refusal of binary files, the default session folder under
// $XDG_CACHE_HOME, and Ctrl-C keeping a session that the same command then resumes to the
// result of an uninterrupted run.
#include <csignal>

#include <QProcess>
#include <QtTest>

#include "generated_documents.h"
#include "test_files.h"

using namespace griffin;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out, err;
};

QProcessEnvironment environmentWithCache(const std::filesystem::path& cache) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("XDG_CACHE_HOME", QString::fromStdString(cache.string()));
    return env;
}

Run runGriffin(const QStringList& args, const std::filesystem::path& cache) {
    QProcess p;
    p.setProcessEnvironment(environmentWithCache(cache));
    p.start(GRIFFIN_CLI_PATH, args);
    if (!p.waitForFinished(300000))
        qFatal("griffin did not finish");
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

// One worker thread keeps the demo model fast on a busy machine.
QStringList summarizeArgs(const std::filesystem::path& file, QStringList more = {}) {
    return QStringList{"summarize",    QString::fromStdString(file.string()),
                       "--threads",    "1",
                       "--max-tokens", "16"} +
           more;
}

}  // namespace

class SummarizeCliTest : public QObject {
    Q_OBJECT

private slots:
    void printsMarkdownAndKeepsTheSessionInTheCache() {
        test::TempDir dir;
        test::writeFile(dir.path() / "notes.md", test::generatedMarkdown(31, 3));
        Run r = runGriffin(summarizeArgs(dir.path() / "notes.md"), dir.path() / "cache");
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.startsWith("# Summary of notes.md\n"));
        QVERIFY(r.out.contains("## Summary\n"));
        QVERIFY(r.out.contains("### Part 1 (lines 1-"));
        QVERIFY(!r.err.contains("\x1b["));  // no terminal: plain progress lines
        QVERIFY(r.err.contains("summarize: summarizing chunk 1/"));
        const auto cache = dir.path() / "cache" / "griffin" / "summaries";
        QVERIFY(std::filesystem::exists(cache));
        int sessions = 0;
        for (const auto& e : std::filesystem::directory_iterator(cache)) {
            QVERIFY(std::filesystem::exists(e.path() / "session.json"));
            ++sessions;
        }
        QCOMPARE(sessions, 1);
        // The same command again: the finished session answers at once, identically.
        Run again = runGriffin(summarizeArgs(dir.path() / "notes.md"), dir.path() / "cache");
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(again.out, r.out);
        QVERIFY(!again.err.contains("summarizing chunk"));
    }

    void jsonGoesToOutAndNothingToStdout() {
        test::TempDir dir;
        std::mt19937 rng(5);
        test::writeFile(dir.path() / "page.html", "<html><body><h1>Birds</h1><p>" +
                                                      test::generatedParagraph(rng, 8) +
                                                      "</p></body></html>");
        const QString out = QString::fromStdString((dir.path() / "summary.json").string());
        Run r =
            runGriffin(summarizeArgs(dir.path() / "page.html",
                                     {"--json", "--out", out, "--strategy", "refine", "--length",
                                      "bullets", "--focus", "What about birds?", "--session",
                                      QString::fromStdString((dir.path() / "s").string())}),
                       dir.path() / "cache");
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.isEmpty());
        const auto j = nlohmann::json::parse(test::readFile(dir.path() / "summary.json"));
        QCOMPARE(j.at("strategy").get<std::string>(), std::string("refine"));
        QCOMPARE(j.at("options").at("length").get<std::string>(), std::string("bullets"));
        QCOMPARE(j.at("options").at("focus").get<std::string>(), std::string("What about birds?"));
        QCOMPARE(j.at("source").at("format").get<std::string>(), std::string("html"));
        QCOMPARE(j.at("source").at("sha256").get<std::string>().size(), size_t{64});
        QVERIFY(j.at("chunk_count").get<int>() >= 1);
        QVERIFY(std::filesystem::exists(dir.path() / "s" / "session.json"));
        QVERIFY(!std::filesystem::exists(dir.path() / "cache" / "griffin"));
    }

    void badInputFailsWithAMessageAndNoOutput_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("message");
        QTest::newRow("binary file") << QByteArray("ab\0cd", 5) << QStringList() << "binary";
        QTest::newRow("pdf") << QByteArray("%PDF-1.5") << QStringList() << "PDF";
        QTest::newRow("bad strategy")
            << QByteArray("text") << QStringList{"--strategy", "fast"} << "--strategy";
        QTest::newRow("bad length")
            << QByteArray("text") << QStringList{"--length", "huge"} << "--length";
        QTest::newRow("bad language")
            << QByteArray("text") << QStringList{"--language", "German!"} << "--language";
    }
    void badInputFailsWithAMessageAndNoOutput() {
        QFETCH(QByteArray, content);
        QFETCH(QStringList, extra);
        QFETCH(QString, message);
        test::TempDir dir;
        test::writeFile(dir.path() / "in.txt", content.toStdString());
        Run r = runGriffin(summarizeArgs(dir.path() / "in.txt", extra), dir.path() / "cache");
        QVERIFY(r.exitCode != 0);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
    }

    // --json names the language the summary was asked in: detected, or as given.
    void jsonReportsTheSummaryLanguage() {
        test::TempDir dir;
        test::writeFile(dir.path() / "bericht.txt", test::generatedProse("german", 2, 5));
        Run r =
            runGriffin(summarizeArgs(dir.path() / "bericht.txt", {"--json"}), dir.path() / "cache");
        QVERIFY2(r.exitCode == 0, r.err.constData());
        auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j.at("language").get<std::string>(), std::string("german"));
        QCOMPARE(j.at("options").at("language").get<std::string>(), std::string("auto"));
        QVERIFY(r.err.contains("language german"));
        r = runGriffin(summarizeArgs(dir.path() / "bericht.txt", {"--json", "--language", "NL"}),
                       dir.path() / "cache");
        QVERIFY2(r.exitCode == 0, r.err.constData());
        j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j.at("language").get<std::string>(), std::string("dutch"));
        QCOMPARE(j.at("options").at("language").get<std::string>(), std::string("dutch"));
    }

    void interruptedRunResumesToTheUninterruptedResult() {
        test::TempDir dir;
        test::writeFile(dir.path() / "doc.txt", test::generatedPlainText(41, 15, 4));
        const QStringList common = {"--json", "--chunk-tokens", "24", "--strategy", "map-reduce"};
        Run reference = runGriffin(
            summarizeArgs(dir.path() / "doc.txt",
                          common + QStringList{"--session", QString::fromStdString(
                                                                (dir.path() / "ref").string())}),
            dir.path() / "cache");
        QVERIFY2(reference.exitCode == 0, reference.err.constData());

        const QStringList args = summarizeArgs(dir.path() / "doc.txt", common);
        QProcess p;
        p.setProcessEnvironment(environmentWithCache(dir.path() / "cache"));
        p.start(GRIFFIN_CLI_PATH, args);
        QVERIFY(p.waitForStarted());
        QByteArray err;
        while (!err.contains("summarizing chunk 3/") && p.state() == QProcess::Running) {
            p.waitForReadyRead(100);
            err += p.readAllStandardError();
        }
        QVERIFY2(p.state() == QProcess::Running, err.constData());
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        err += p.readAllStandardError();
        QCOMPARE(p.exitCode(), 130);
        QVERIFY(p.readAllStandardOutput().isEmpty());
        QVERIFY2(err.contains("run the same command again to resume"), err.constData());

        Run resumed = runGriffin(args, dir.path() / "cache");
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        QVERIFY(resumed.err.contains("resuming"));
        auto a = nlohmann::json::parse(reference.out.toStdString());
        auto b = nlohmann::json::parse(resumed.out.toStdString());
        QCOMPARE(b.at("resumed").get<bool>(), true);
        QCOMPARE(b.at("summary"), a.at("summary"));
        QCOMPARE(b.at("chunks"), a.at("chunks"));
    }
};

QTEST_APPLESS_MAIN(SummarizeCliTest)
#include "summarize_cli_test.moc"
