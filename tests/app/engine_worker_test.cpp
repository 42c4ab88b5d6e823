// SPDX-License-Identifier: Apache-2.0
// EngineWorker on its own thread, driven through queued signals as the GUI does: signal order,
// stop, regenerate and edit (snapshots), and a persisted state that continues exactly, on the
// shipped demo model.
#include "services/engine_worker.h"

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include "griffin/gguf.h"
#include "services/runtime.h"
#include "test_files.h"

namespace {

ChatMessageData user(const QString& text) {
    ChatMessageData m;
    m.role = ChatMessageData::Role::User;
    m.text = text;
    m.time = QDateTime::currentDateTimeUtc();
    return m;
}

ChatMessageData model(const QString& text, const std::vector<int32_t>& tokens) {
    ChatMessageData m;
    m.role = ChatMessageData::Role::Model;
    m.text = text;
    m.tokens = tokens;
    m.time = QDateTime::currentDateTimeUtc();
    return m;
}

// A worker on a thread plus a sender object to emit queued requests to it.
class Harness : public QObject {
    Q_OBJECT

public:
    explicit Harness(const QString& stateDir) : worker(new EngineWorker(stateDir)) {
        registerServiceMetaTypes();
        worker->setEmitIntervalMs(0);  // every token: lets tests react to the first one
        worker->moveToThread(&thread);
        connect(&thread, &QThread::finished, worker, &QObject::deleteLater);
        connect(this, &Harness::load, worker, &EngineWorker::loadModel);
        connect(this, &Harness::generate, worker, &EngineWorker::generate);
        thread.start();
    }
    ~Harness() override {
        thread.quit();
        thread.wait();
    }

    struct Reply {
        QString text;
        MessageStats stats;
        std::vector<int32_t> tokens;
    };

    bool loadModel(const QString& path) {
        QSignalSpy ok(worker, &EngineWorker::modelLoaded);
        QSignalSpy failed(worker, &EngineWorker::modelLoadFailed);
        emit load(path, QStringLiteral("auto"), {});
        return !ok.isEmpty() || ok.wait(30000);
    }

    Reply ask(const QString& id, const QVector<ChatMessageData>& messages, int maxTokens = 12,
              std::stop_source* stop = nullptr) {
        GenerationRequest r;
        r.conversationId = id;
        r.messages = messages;
        r.params.temperature = 0.0;
        r.params.maxTokens = maxTokens;
        if (stop != nullptr)
            r.stop = stop->get_token();
        QSignalSpy done(worker, &EngineWorker::generationFinished);
        emit generate(r);
        if (done.isEmpty() && !done.wait(30000))
            qFatal("no reply");
        const QList<QVariant> args = done.takeFirst();
        return {args[1].toString(), args[2].value<MessageStats>(),
                args[3].value<std::vector<int32_t>>()};
    }

    QThread thread;
    EngineWorker* worker;

signals:
    void load(const QString& path, const QString& backend, std::stop_token stop);
    void generate(const GenerationRequest& request);
};

}  // namespace

class EngineWorkerTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        griffin::test::makeTinyChatModel(m_dir.path() / "model");
        m_model = QString::fromStdString((m_dir.path() / "model").string());
        // Chat behaviour is tested on the model the app ships and opens by default.
        const auto demo = std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";
        QVERIFY2(std::filesystem::exists(demo / "model.safetensors"), "the demo model is missing");
        m_demo = QString::fromStdString(demo.string());
    }

    void signalsArriveInOrder() {
        Harness h(QString{});
        QVERIFY(h.loadModel(m_demo));
        QStringList order;
        connect(h.worker, &EngineWorker::generationStarted, this, [&] { order << "started"; });
        connect(h.worker, &EngineWorker::prefillProgress, this, [&] {
            if (order.isEmpty() || order.back() != "prefill")
                order << "prefill";
        });
        connect(h.worker, &EngineWorker::tokensReceived, this, [&] {
            if (order.isEmpty() || order.back() != "tokens")
                order << "tokens";
        });
        connect(h.worker, &EngineWorker::generationFinished, this, [&] { order << "finished"; });
        const auto reply = h.ask("a", {user("the quick brown fox")}, 8);
        QCoreApplication::processEvents();
        QCOMPARE(order.first(), QStringLiteral("started"));
        QCOMPARE(order.last(), QStringLiteral("finished"));
        QVERIFY(order.indexOf("prefill") < order.indexOf("finished"));
        QVERIFY(!reply.text.isEmpty() || reply.stats.stopReason != "max_tokens");
        QCOMPARE(reply.stats.generatedTokens, static_cast<int>(reply.tokens.size()) +
                                                  (reply.stats.stopReason == "max_tokens" ? 0 : 1));
    }

    void stopEndsTheReplyWithinOneToken() {
        Harness h(QString{});
        QVERIFY(h.loadModel(m_demo));
        std::stop_source stop;
        int chunks = 0;
        connect(
            h.worker, &EngineWorker::generationProgress, this,
            [&] {
                if (++chunks == 1)
                    stop.request_stop();
            },
            Qt::DirectConnection);  // test-only: stop from the worker thread at once
        const auto reply = h.ask("b", {user("tell me")}, 100000, &stop);
        QCOMPARE(reply.stats.stopReason, QStringLiteral("cancelled"));
        QCOMPARE(reply.stats.generatedTokens, 1);  // the stop lands before the second token
    }

    // Regenerate and edit restore the snapshot taken at the start of the reply: only the last
    // prompt id is fed again, and greedy decoding reproduces the first reply.
    void regenerateAndEditReuseSnapshots() {
        Harness h(QString{});
        QVERIFY(h.loadModel(m_demo));
        const auto first = h.ask("c", {user("what does quick mean")}, 10);
        const auto again = h.ask("c", {user("what does quick mean")}, 10);
        QCOMPARE(again.tokens, first.tokens);
        QVERIFY(first.stats.promptTokens > 5);
        QCOMPARE(again.stats.promptTokens, 1);

        // Continue, then edit the second user message: the history up to it is reused.
        const QVector<ChatMessageData> history = {user("what does quick mean"),
                                                  model(first.text, first.tokens)};
        const auto second = h.ask("c", history + QVector{user("and slow")}, 6);
        QVERIFY(second.stats.promptTokens < first.stats.promptTokens + 10);
        const auto edited = h.ask("c", history + QVector{user("and fast")}, 6);
        // Both feed only their own user turn: the edit restored the turn-boundary snapshot.
        QVERIFY2(
            edited.stats.promptTokens <= second.stats.promptTokens + 3,
            qPrintable(
                QString("%1 vs %2").arg(edited.stats.promptTokens).arg(second.stats.promptTokens)));
    }

    // A worker restarted on the same folder continues from the saved state and produces exactly
    // what a full re-prefill of the transcript produces.
    void persistedStateContinuesExactly() {
        griffin::test::TempDir states;
        const QString dir = QString::fromStdString(states.path().string());
        QVector<ChatMessageData> history = {user("the lighthouse keeper")};
        {
            Harness h(dir);
            QVERIFY(h.loadModel(m_demo));
            const auto r = h.ask("d", history, 9);
            history.push_back(model(r.text, r.tokens));
        }
        QVERIFY(QFile::exists(dir + "/d.state") && QFile::exists(dir + "/d.state.meta"));
        history.push_back(user("what happened next"));
        Harness restored(dir);
        QVERIFY(restored.loadModel(m_demo));
        const auto a = restored.ask("d", history, 9);
        Harness fresh(QString{});
        QVERIFY(fresh.loadModel(m_demo));
        const auto b = fresh.ask("d", history, 9);
        QCOMPARE(a.tokens, b.tokens);
        QVERIFY2(
            a.stats.promptTokens < b.stats.promptTokens,
            qPrintable(QString("%1 vs %2").arg(a.stats.promptTokens).arg(b.stats.promptTokens)));
    }

    // A quantized single-file model (what `griffin quantize` writes) is inspected, loaded and
    // chats like the folder it came from: its tokenizer comes from inside the file.
    void ggufFileLoadsAndAnswers() {
        const auto file = m_dir.path() / "model-q8_0.gguf";
        auto written =
            griffin::quantizeModel(m_model.toStdString(), griffin::WeightType::Q8_0, file);
        QVERIFY2(written.has_value(), written ? "" : written.error().message.c_str());
        Harness h(QString{});
        const QString path = QString::fromStdString(file.string());
        QSignalSpy inspected(h.worker, &EngineWorker::modelInspected);
        QMetaObject::invokeMethod(h.worker, "inspectModel", Q_ARG(QString, path));
        QTRY_COMPARE_WITH_TIMEOUT(inspected.count(), 1, 10000);
        QVERIFY2(inspected.first()[1].toString().contains("q8_0"),
                 qPrintable(inspected.first()[1].toString()));
        QVERIFY(h.loadModel(path));
        const auto reply = h.ask("g", {user("the quick brown fox")}, 6);
        QVERIFY(reply.stats.generatedTokens > 0);
    }

    void badModelFolderFailsInPlainWords() {
        Harness h(QString{});
        QSignalSpy failed(h.worker, &EngineWorker::modelLoadFailed);
        griffin::test::TempDir empty;
        emit h.load(QString::fromStdString(empty.path().string()), "auto", {});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
        QVERIFY2(failed.first()[0].toString().contains("config.json"),
                 qPrintable(failed.first()[0].toString()));
        std::filesystem::copy_file(griffin::test::tinyPublicDir() / "model-f32" / "config.json",
                                   empty.path() / "config.json");
        std::filesystem::copy_file(
            griffin::test::tinyPublicDir() / "model-f32" / "model.safetensors",
            empty.path() / "model.safetensors");
        emit h.load(QString::fromStdString(empty.path().string()), "auto", {});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 10000);
        QVERIFY2(failed.last()[0].toString().contains("tokenizer.model"),
                 qPrintable(failed.last()[0].toString()));
    }

private:
    griffin::test::TempDir m_dir;
    QString m_model;  // a tiny random model (fast), for file-format cases
    QString m_demo;   // the shipped demo model
};

QTEST_GUILESS_MAIN(EngineWorkerTest)
#include "engine_worker_test.moc"
