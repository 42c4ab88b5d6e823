// SPDX-License-Identifier: Apache-2.0
// The summarise window on the demo model, with its worker on its own thread as in the app: a run
// to the end with chunk sources, Pause then Resume giving the uninterrupted run's summary, Cancel
// discarding the session, PDF text with page numbers (and the refusal of a PDF without text),
// and a clear error for a binary file.
#include "summarize_window.h"

#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPainter>
#include <QPdfWriter>
#include <QPushButton>
#include <QSignalSpy>
#include <QTextBrowser>
#include <QThread>
#include <QtTest>

#include "generated_documents.h"
#include "services/engine_worker.h"
#include "services/pdf_text.h"
#include "services/runtime.h"
#include "signal_wait.h"
#include "test_files.h"

namespace {

std::string documentText() {
    std::string text = "# Notes on words\n\n";
    const char* words[] = {"meadow",  "harbour", "lucid",  "wander", "lantern",
                           "orchard", "glacier", "timber", "velvet", "compass"};
    for (int i = 0; i < 10; ++i) {
        text += "## Section " + std::to_string(i + 1) + "\n\n";
        text += std::string("The word ") + words[i] +
                " is common. People use it in stories and in daily speech, and a dictionary "
                "explains what it means with a short definition and an example sentence.\n\n";
    }
    return text;
}

void writePdf(const QString& file, bool withText) {
    QPdfWriter writer(file);
    QPainter painter(&writer);
    for (int page = 0; page < 3; ++page) {
        if (page > 0)
            writer.newPage();
        if (withText) {
            painter.drawText(QRect(200, 200, 8000, 2000), Qt::TextWordWrap,
                             QStringLiteral("Page %1. A meadow is a field of grass and flowers. "
                                            "A harbour shelters ships from the sea.")
                                 .arg(page + 1));
        } else {
            painter.fillRect(QRect(200, 200, 3000, 3000), Qt::darkGray);
        }
    }
}

// A one-page PDF with a Standard security handler (RC4, revision 2) whose O and U entries do
// not belong to the empty password: a reader must ask for one.
std::string encryptedPdf() {
    std::string pdf = "%PDF-1.4\n";
    std::vector<size_t> offsets;
    auto object = [&](const std::string& body) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
    };
    const std::string o(64, 'A'), u(64, 'B');  // 32 bytes each, in hex
    object("<< /Type /Catalog /Pages 2 0 R >>");
    object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>");
    object("<< /Filter /Standard /V 1 /R 2 /O <" + o + "> /U <" + u + "> /P -4 >>");
    const size_t xref = pdf.size();
    pdf += "xref\n0 5\n0000000000 65535 f \n";
    for (size_t at : offsets) {
        char line[24];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", at);
        pdf += line;
    }
    pdf +=
        "trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> "
        "<00112233445566778899aabbccddeeff>] >>\nstartxref\n" +
        std::to_string(xref) + "\n%%EOF\n";
    return pdf;
}

}  // namespace

class SummarizeWindowTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        registerServiceMetaTypes();
        m_engine = new EngineWorker(QString{});
        m_summarizer = new SummarizeWorker(
            m_engine, QString::fromStdString((m_dir.path() / "sessions").string()));
        m_engine->moveToThread(&m_thread);
        m_summarizer->moveToThread(&m_thread);
        connect(&m_thread, &QThread::finished, m_engine, &QObject::deleteLater);
        connect(&m_thread, &QThread::finished, m_summarizer, &QObject::deleteLater);
        m_thread.start();
        QSignalSpy loaded(m_engine, &EngineWorker::modelLoaded);
        QMetaObject::invokeMethod(m_engine, [e = m_engine] {
            e->loadModel(QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo"), "cpu", {});
        });
        QVERIFY(griffin::test::waitForSignal(loaded, 30000));
        griffin::test::writeFile(m_dir.path() / "notes.md", documentText());
        m_doc = QString::fromStdString((m_dir.path() / "notes.md").string());
    }

    void cleanupTestCase() {
        m_thread.quit();
        m_thread.wait();
    }

    void runsToTheEndWithChunkSources() {
        SummarizeWindow window(m_summarizer);
        window.show();
        window.setFile(m_doc);
        window.strategyBox()->setCurrentIndex(window.strategyBox()->findData("map-reduce"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QVERIFY(window.running());
        QVERIFY(window.pauseButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        const SummarizeOutcome& out = *window.outcome();
        QCOMPARE(out.strategy, QStringLiteral("map-reduce"));
        QVERIFY(out.sections.size() >= 2);
        QVERIFY(out.sections.first().firstLine >= 1);
        QVERIFY(out.sections.last().lastLine > out.sections.first().lastLine);
        QCOMPARE(out.sha256.size(), 64);
        QCOMPARE(window.sectionList()->count(), out.sections.size());
        QVERIFY(window.sectionList()->item(0)->text().contains("lines"));
        QVERIFY(!window.summaryView()->toPlainText().isEmpty() || out.summary.isEmpty());
        QVERIFY(window.openConversationButton()->isEnabled());
        if (const QByteArray shots = qgetenv("GRIFFIN_SCREENSHOT_DIR"); !shots.isEmpty())
            QVERIFY(window.grab().save(QString::fromUtf8(shots) + "/summarize.png"));
        QSignalSpy open(&window, &SummarizeWindow::openAsConversation);
        QTest::mouseClick(window.openConversationButton(), Qt::LeftButton);
        QCOMPARE(open.count(), 1);
        QVERIFY(!out.resumed);
    }

    // The summary is asked for in the document's language (or the one chosen), which the
    // status line shows beside the encoding and the conversation keeps.
    void reportsTheSummaryLanguageBesideTheEncoding() {
        griffin::test::writeFile(m_dir.path() / "bericht.md",
                                 griffin::test::generatedProse("german", 3, 5));
        SummarizeWindow window(m_summarizer);
        window.setFile(QString::fromStdString((m_dir.path() / "bericht.md").string()));
        window.strategyBox()->setCurrentIndex(window.strategyBox()->findData("map-reduce"));
        QCOMPARE(window.languageBox()->currentData().toString(), QStringLiteral("auto"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        QCOMPARE(window.outcome()->language, QStringLiteral("german"));
        QVERIFY2(window.statusLabel()->text().contains(QStringLiteral("utf-8, German")),
                 qPrintable(window.statusLabel()->text()));
        const Conversation c = summaryConversation(*window.outcome(), GenerationParams{}, "demo");
        QCOMPARE(c.source->language, QStringLiteral("german"));

        window.languageBox()->setCurrentIndex(window.languageBox()->findData("french"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        QCOMPARE(window.outcome()->language, QStringLiteral("french"));
        QVERIFY(window.statusLabel()->text().contains(QStringLiteral("French")));
    }

    // Pause in the middle of the chunks (the stop fires from the worker's own progress
    // callback, at chunk 2), then Resume in the window: the run continues from the saved
    // session and ends with the summary an uninterrupted run gives (greedy decoding).
    void pauseThenResumeGivesTheSameSummary() {
        SummarizeRequest request;
        request.path = m_doc;
        request.strategy = QStringLiteral("map-reduce");
        request.length = QStringLiteral("bullets");
        std::stop_source stop;
        request.stop = stop.get_token();
        auto connection = connect(
            m_summarizer, &SummarizeWorker::progress, this,
            [&stop](const SummarizeProgressInfo& p) {
                if (p.phase == QLatin1String("summarizing") && p.chunk >= 2)
                    stop.request_stop();
            },
            Qt::DirectConnection);
        QSignalSpy paused(m_summarizer, &SummarizeWorker::paused);
        QMetaObject::invokeMethod(m_summarizer,
                                  [w = m_summarizer, request] { w->summarize(request); });
        QVERIFY(griffin::test::waitForSignal(paused, 120000));
        disconnect(connection);

        // A new window (as after a restart of the app) lists the interrupted run; choosing it
        // fills in the file and options, and Resume continues it.
        SummarizeWindow window(m_summarizer);
        window.show();
        QVERIFY(window.interruptedList()->isVisible());
        int row = -1;
        for (int i = 0; i < window.interruptedList()->count(); ++i) {
            if (window.interruptedList()->item(i)->text().contains("notes.md") &&
                window.interruptedList()->item(i)->text().contains("bullets"))
                row = i;
        }
        QVERIFY(row >= 0);
        window.interruptedList()->setCurrentRow(row);
        QCOMPARE(window.fileEdit()->text(), QFileInfo(m_doc).absoluteFilePath());
        QCOMPARE(window.lengthBox()->currentData().toString(), QStringLiteral("bullets"));
        QCOMPARE(window.startButton()->text(), QStringLiteral("Resume"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        QVERIFY(window.outcome()->resumed);
        QVERIFY(!window.interruptedList()->isVisible());  // finished: no longer listed

        // The same document and options without interruption, in a separate session folder.
        griffin::test::TempDir other;
        auto* fresh = new SummarizeWorker(m_engine, QString::fromStdString(other.path().string()));
        fresh->moveToThread(&m_thread);
        QSignalSpy done(fresh, &SummarizeWorker::finished);
        request.stop = {};
        QMetaObject::invokeMethod(fresh, [fresh, request] { fresh->summarize(request); });
        const bool finished = griffin::test::waitForSignal(done, 120000);
        fresh->deleteLater();  // on its own thread
        QVERIFY(finished);
        const auto reference = done.first()[0].value<SummarizeOutcome>();
        QVERIFY(!reference.resumed);
        QCOMPARE(window.outcome()->summary, reference.summary);
        QCOMPARE(window.outcome()->sections.size(), reference.sections.size());
    }

    // Cancel stops and discards the session: the next Start begins afresh.
    void cancelDiscardsTheSession() {
        SummarizeWindow window(m_summarizer);
        window.setFile(m_doc);
        window.strategyBox()->setCurrentIndex(window.strategyBox()->findData("refine"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        window.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY(!window.outcome().has_value());
        QCOMPARE(window.startButton()->text(), QStringLiteral("Start"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        QVERIFY(!window.outcome()->resumed);
        QCOMPARE(window.outcome()->strategy, QStringLiteral("refine"));
    }

    // Stream: the finished run leaves the state with the document, the request and the summary;
    // a summary conversation seeded from it answers a follow-up by feeding only the new turn,
    // where the same conversation without it re-reads the transcript.
    void streamFollowUpsKeepTheDocumentInTheState() {
        SummarizeWindow window(m_summarizer);
        window.setFile(m_doc);
        window.strategyBox()->setCurrentIndex(window.strategyBox()->findData("stream"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        const SummarizeOutcome outcome = *window.outcome();
        QCOMPARE(outcome.strategy, QStringLiteral("stream"));
        QVERIFY(QFileInfo::exists(outcome.statePath));

        const Conversation c = summaryConversation(outcome, GenerationParams{}, "demo");
        QCOMPARE(c.kind, QStringLiteral("summary"));
        QSignalSpy seeded(m_summarizer, &SummarizeWorker::conversationSeeded);
        QMetaObject::invokeMethod(m_summarizer, [w = m_summarizer, c, path = outcome.statePath] {
            w->seedConversation(c.id, c.systemPrompt, c.messages, path);
        });
        QVERIFY(griffin::test::waitForSignal(seeded, 30000));
        QCOMPARE(seeded.first()[1].toBool(), true);

        auto ask = [&](const QString& id) {
            GenerationRequest r;
            r.conversationId = id;
            r.systemPrompt = c.systemPrompt;
            r.messages = c.messages;
            ChatMessageData q;
            q.role = ChatMessageData::Role::User;
            q.text = QStringLiteral("What does section 3 say?");
            r.messages.push_back(q);
            r.params.temperature = 0.0;
            r.params.maxTokens = 8;
            QSignalSpy done(m_engine, &EngineWorker::generationFinished);
            QMetaObject::invokeMethod(m_engine, [e = m_engine, r] { e->generate(r); });
            if (!griffin::test::waitForSignal(done, 60000))
                qFatal("no reply");
            return done.first()[2].value<MessageStats>();
        };
        const MessageStats seededStats = ask(c.id);
        const MessageStats fresh = ask(QStringLiteral("not-seeded"));
        QVERIFY2(
            seededStats.promptTokens < 20 && fresh.promptTokens > seededStats.promptTokens + 10,
            qPrintable(QString("%1 vs %2").arg(seededStats.promptTokens).arg(fresh.promptTokens)));
        QVERIFY(seededStats.generatedTokens > 0);
    }

    void pdfPagesAreKept() {
        QVERIFY(pdfSupported());
        const QString pdf = QString::fromStdString((m_dir.path() / "three.pdf").string());
        writePdf(pdf, true);
        auto text = extractPdfText(pdf);
        QVERIFY2(text.has_value(), text ? "" : text.error().message.c_str());
        QCOMPARE(text->pages, 3);
        QVERIFY(text->text.contains("Page 2."));
        QCOMPARE(pageOfLine(*text, 1), 1);
        QCOMPARE(pageOfLine(*text, text->pageFirstLine[2]), 3);

        SummarizeWindow window(m_summarizer);
        window.setFile(pdf);
        window.strategyBox()->setCurrentIndex(window.strategyBox()->findData("map-reduce"));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 120000);
        QVERIFY2(window.outcome().has_value(), qPrintable(window.statusLabel()->text()));
        QVERIFY(window.outcome()->encoding.startsWith("pdf"));
        QVERIFY(window.outcome()->sections.first().firstPage >= 1);
        QVERIFY(window.sectionList()->item(0)->text().contains("page"));

        const QString scanned = QString::fromStdString((m_dir.path() / "scan.pdf").string());
        writePdf(scanned, false);
        auto none = extractPdfText(scanned);
        QVERIFY(!none.has_value());
        QVERIFY(QString::fromStdString(none.error().message).contains("no text layer"));
        griffin::test::writeFile(m_dir.path() / "broken.pdf", "%PDF-1.4 this is not really one");
        QVERIFY(!extractPdfText(QString::fromStdString((m_dir.path() / "broken.pdf").string())));
        griffin::test::writeFile(m_dir.path() / "empty.pdf", "");
        auto empty = extractPdfText(QString::fromStdString((m_dir.path() / "empty.pdf").string()));
        QVERIFY(!empty.has_value());
        QVERIFY(QString::fromStdString(empty.error().message).contains("empty.pdf"));

        // Password protected: a PDF whose standard security handler does not open with the
        // empty user password.
        const QString locked = QString::fromStdString((m_dir.path() / "locked.pdf").string());
        griffin::test::writeFile(m_dir.path() / "locked.pdf", encryptedPdf());
        auto refused = extractPdfText(locked);
        QVERIFY(!refused.has_value());
        QVERIFY2(QString::fromStdString(refused.error().message).contains("encrypted"),
                 refused.error().message.c_str());
        SummarizeWindow lockedWindow(m_summarizer);
        lockedWindow.setFile(locked);
        QTest::mouseClick(lockedWindow.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!lockedWindow.running(), 30000);
        QVERIFY(lockedWindow.statusLabel()->text().contains("encrypted"));
    }

    void binaryFileFailsWithAClearMessage() {
        griffin::test::writeFile(m_dir.path() / "image.txt",
                                 std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
        SummarizeWindow window(m_summarizer);
        window.setFile(QString::fromStdString((m_dir.path() / "image.txt").string()));
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.running(), 30000);
        QVERIFY(!window.outcome().has_value());
        QVERIFY2(window.statusLabel()->text().contains("image.txt"),
                 qPrintable(window.statusLabel()->text()));
    }

private:
    griffin::test::TempDir m_dir;
    QThread m_thread;
    EngineWorker* m_engine = nullptr;
    SummarizeWorker* m_summarizer = nullptr;
    QString m_doc;
};

QTEST_MAIN(SummarizeWindowTest)
#include "summarize_window_test.moc"
