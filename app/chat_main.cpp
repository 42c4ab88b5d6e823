// SPDX-License-Identifier: Apache-2.0
// griffin-chat: the composition root of the desktop app — QApplication, logging, settings, the
// service threads, the conversation store and the main window. Also the headless smoke test:
//   griffin-chat --smoke-test "PROMPT" [--screenshot FILE.png] [--model PATH]
#include <cstdio>
#include <string_view>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStandardPaths>
#include <QTimer>
#include <spdlog/spdlog.h>

#include "app_settings.h"
#include "griffin_version.h"
#include "latency_probe.h"
#include "logging.h"
#include "main_window.h"
#include "services/conversation_store.h"
#include "services/runtime.h"
#include "version.h"

namespace {

void forwardQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
    auto log = spdlog::get("qt");
    if (!log)
        return;
    const std::string text = message.toStdString();
    switch (type) {
        case QtDebugMsg:
            log->debug(text);
            break;
        case QtInfoMsg:
            log->info(text);
            break;
        case QtWarningMsg:
            log->warn(text);
            break;
        default:
            log->error(text);
            break;
    }
}

// Drives the real window: waits for the model, sends the prompt through the same slot the Send
// button uses, waits for the reply and its save, optionally grabs the window, then quits.
int runSmokeTest(QApplication& app, MainWindow& window, ServiceRuntime& runtime,
                 const QString& prompt, const QString& screenshot) {
    int exitCode = 1;
    auto fail = [&](const QString& why) {
        std::fprintf(stderr, "griffin-chat smoke test: %s\n", qPrintable(why));
        exitCode = 1;
        app.quit();
    };
    LatencyProbe probe;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout,
                     [&] { fail(QStringLiteral("timed out after 300 s")); });
    timeout.start(300000);
    QObject::connect(&window, &MainWindow::modelLoadFailed, [&](const QString& m) { fail(m); });
    QObject::connect(&window, &MainWindow::errorShown, [&](const QString& m) {
        if (window.isModelLoaded())
            fail(m);
    });
    auto send = [&] {
        window.newConversation();
        auto* input = window.findChild<QPlainTextEdit*>(QStringLiteral("messageInput"));
        input->setPlainText(prompt);
        probe.start();
        window.sendMessage();
    };
    if (window.isModelLoaded()) {
        QTimer::singleShot(0, &window, send);
    } else {
        QObject::connect(&window, &MainWindow::modelReady, &window, send, Qt::SingleShotConnection);
    }
    // Succeeds once the reply is finished and the file on disk holds it (saves are queued on the
    // store thread, so the check runs both when the reply ends and after every save).
    bool finished = false;
    auto check = [&] {
        const Conversation* c = window.currentConversation();
        if (!finished || c == nullptr || exitCode == 0)
            return;
        if (c->messages.size() < 2 || c->messages.back().text.isEmpty()) {
            fail(QStringLiteral("the reply is empty"));
            return;
        }
        const QString path = ConversationStore(runtime.conversationsDirectory()).filePath(c->id);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return;
        auto onDisk = conversationFromJson(file.readAll().toStdString());
        if (!onDisk || onDisk->messages != c->messages)
            return;
        const ChatMessageData& reply = c->messages.back();
        std::printf("%s\n", qPrintable(reply.text));
        std::fprintf(stderr,
                     "griffin-chat smoke test: reply of %d tokens (%s) at %.1f tok/s; GUI "
                     "event-loop lateness p50 %.2f ms, p99 %.2f ms, max %.2f ms over %zu samples; "
                     "saved to %s\n",
                     reply.stats ? reply.stats->generatedTokens : 0,
                     reply.stats ? qPrintable(reply.stats->stopReason) : "",
                     reply.stats ? reply.stats->decodeTokensPerS : 0.0, probe.percentile(50),
                     probe.percentile(99), probe.percentile(100), probe.samples(),
                     qPrintable(path));
        exitCode = 0;
        // Let pending layout and paint events run so the screenshot shows the final window.
        QTimer::singleShot(300, &window, [&] {
            if (!screenshot.isEmpty() && !window.grab().save(screenshot)) {
                fail(QStringLiteral("cannot write the screenshot ") + screenshot);
                return;
            }
            app.quit();
        });
    };
    QObject::connect(runtime.writer(), &StoreWriter::saved, &window, check);
    QObject::connect(&window, &MainWindow::replyFinished, &window, [&] {
        probe.stop();
        finished = true;
        check();
    });
    window.show();
    app.exec();
    return exitCode;
}

// Whether the command line asks for --version (or -v). Answered before QApplication exists, so it
// works without a display; the values of options that take one are skipped.
bool asksForVersion(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--version" || arg == "-v")
            return true;
        if (arg == "--model" || arg == "--smoke-test" || arg == "--screenshot")
            ++i;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (asksForVersion(argc, argv)) {
        std::printf("%s\n", griffin::app::versionLine("griffin-chat").c_str());
        return 0;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("griffin-chat"));
    QApplication::setApplicationVersion(
        QStringLiteral(GRIFFIN_VERSION " (%1)").arg(QLatin1String(griffin::app::gitCommit())));
    QApplication::setDesktopFileName(QStringLiteral("griffin-chat"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("A local chat app for RecurrentGemma models."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Model folder, or 'default'."),
                             QStringLiteral("PATH"));
    QCommandLineOption smoke(QStringLiteral("smoke-test"),
                             QStringLiteral("Send PROMPT, wait for the reply, save, exit."),
                             QStringLiteral("PROMPT"));
    QCommandLineOption shot(QStringLiteral("screenshot"),
                            QStringLiteral("With --smoke-test: save the window to FILE.png."),
                            QStringLiteral("FILE"));
    parser.addOptions({model, smoke, shot});
    parser.process(app);

    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    initLogging((dataDir + QStringLiteral("/logs")).toStdString());
    qInstallMessageHandler(forwardQtMessages);

    const QString settingsPath = defaultSettingsPath();
    SettingsLoad loaded = loadSettings(settingsPath);
    for (const QString& w : loaded.warnings) spdlog::get("app")->warn("{}", w.toStdString());

    ServiceRuntime runtime(ConversationStore::defaultDirectory());
    ConversationStore store(runtime.conversationsDirectory());
    ConversationStore::LoadReport report = store.loadAll();
    for (const QString& p : report.problems) spdlog::get("store")->error("{}", p.toStdString());

    MainWindow window(runtime, loaded.settings, settingsPath, report.conversations);
    const QString modelPath = parser.isSet(model) ? parser.value(model) : loaded.settings.modelPath;
    window.loadModel(modelPath);
    if (!report.problems.isEmpty()) {
        QTimer::singleShot(0, &window, [&window, &report] {
            QMessageBox::warning(&window, QObject::tr("Some conversations could not be read"),
                                 QObject::tr("These files were moved aside and not loaded:\n\n%1")
                                     .arg(report.problems.join(QStringLiteral("\n"))));
        });
    }
    if (parser.isSet(smoke)) {
        report.problems.clear();  // no modal dialog in the smoke test; the log has them
        return runSmokeTest(app, window, runtime, parser.value(smoke), parser.value(shot));
    }
    window.show();
    return app.exec();
}
