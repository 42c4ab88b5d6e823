// SPDX-License-Identifier: Apache-2.0
// The prompt lab's worker on the demo model: exact re-runs, branching from a snapshot trail
// equal to the full forced run, alternatives, perplexity, and the history and presets files.
#include <QFile>
#include <QSignalSpy>
#include <QtTest>

#include "griffin/lab.h"
#include "services/engine_worker.h"
#include "services/lab.h"
#include "services/runtime.h"
#include "test_files.h"

namespace {

LabRun request(const QString& prompt, qint64 seed) {
    LabRun r;
    r.chat = true;
    r.prompt = prompt;
    r.params.temperature = 1.0;
    r.params.topK = 40;
    r.params.topP = 1.0;
    r.params.repeatPenalty = 1.2;
    r.params.maxTokens = 14;
    r.params.seed = seed;
    return r;
}

}  // namespace

class LabWorkerTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        registerServiceMetaTypes();
        m_engine = std::make_unique<EngineWorker>(QString{});
        QSignalSpy loaded(m_engine.get(), &EngineWorker::modelLoaded);
        m_engine->loadModel(QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo"), "cpu", {});
        QCOMPARE(loaded.count(), 1);
        m_lab = std::make_unique<LabWorker>(m_engine.get());
    }

    void sameInputsReproduceTheRun() {
        const LabRun a = run(request("What does 'meadow' mean?", 5));
        const LabRun b = run(request("What does 'meadow' mean?", 5));
        QVERIFY2(a.error.isEmpty(), qPrintable(a.error));
        QVERIFY(!a.tokens.isEmpty());
        QCOMPARE(a.text, b.text);
        QCOMPARE(ids(a), ids(b));
        for (int i = 0; i < a.tokens.size(); ++i) QCOMPARE(a.tokens[i].prob, b.tokens[i].prob);
        QCOMPARE(a.fingerprint, m_engine->summary().fingerprint);
        // Seed 0 picks one and records it: re-running with the recorded seed reproduces it.
        const LabRun fresh = run(request("What does 'meadow' mean?", 0));
        QVERIFY(fresh.params.seed != 0);
        QCOMPARE(ids(run(request("What does 'meadow' mean?", fresh.params.seed))), ids(fresh));
    }

    void alternativesAreSortedAndSumToAtMostOne() {
        const LabRun r = run(request("Tell me what 'harbour' means.", 9));
        for (const LabToken& t : r.tokens) {
            QCOMPARE(t.alternatives.size(), 10);
            double sum = 0.0;
            for (int i = 0; i < t.alternatives.size(); ++i) {
                sum += t.alternatives[i].prob;
                if (i > 0)
                    QVERIFY(t.alternatives[i].prob <= t.alternatives[i - 1].prob);
            }
            QVERIFY(sum <= 1.0 + 1e-6);
        }
        QString joined;
        for (const LabToken& t : r.tokens) joined += t.text;
        QCOMPARE(joined, r.text);
    }

    // A branch restored from the parent's trail equals the same branch run from scratch with
    // the prefix forced (the trails forgotten), token for token, probability and text.
    void branchFromTheTrailEqualsTheForcedRun() {
        const LabRun parent = run(request("What does 'lucid' mean?", 17));
        QVERIFY(parent.tokens.size() >= 6);
        for (int k : {1, 4}) {
            LabRun branch = request("What does 'lucid' mean?", 17);
            branch.parentId = parent.id;
            branch.branchAt = k;
            for (int i = 0; i < k; ++i) branch.forced << parent.tokens[i].id;
            const LabAlternative alt = parent.tokens[k].alternatives[1];
            QVERIFY(alt.id != parent.tokens[k].id);
            branch.forced << alt.id;

            const LabRun fromTrail = run(branch);
            QVERIFY2(fromTrail.error.isEmpty(), qPrintable(fromTrail.error));
            QVERIFY(m_lab->lastRunUsedTrail());
            m_lab->forgetTrails();
            const LabRun forced = run(branch);
            QVERIFY(!m_lab->lastRunUsedTrail());

            QCOMPARE(ids(fromTrail), ids(forced));
            QCOMPARE(fromTrail.text, forced.text);
            for (int i = 0; i < forced.tokens.size(); ++i) {
                QCOMPARE(fromTrail.tokens[i].prob, forced.tokens[i].prob);
                QCOMPARE(fromTrail.tokens[i].text, forced.tokens[i].text);
            }
            QCOMPARE(forced.tokens[k].id, alt.id);
            QVERIFY(std::abs(forced.tokens[k].prob - alt.prob) < 1e-6);
            QCOMPARE(fromTrail.stopReason, forced.stopReason);
            // The parent's trail is gone now; run it again so the next k can branch from it.
            QCOMPARE(ids(run(request("What does 'lucid' mean?", 17))), ids(parent));
            m_lab->forgetTrails();
            LabRun again = request("What does 'lucid' mean?", 17);
            again.id = parent.id;
            run(again);
        }
        QVERIFY(m_lab->snapshotBytes() > 0);
    }

    // The snapshot memory budget bounds what the trails hold; with none, branches re-run the
    // prompt (and still give the same result).
    void snapshotBudgetIsRespected() {
        const qint64 state = static_cast<qint64>(m_engine->model()->newState().bytes());
        m_lab->forgetTrails();
        m_lab->setSnapshotBudget(16 * state);
        LabRun parent;
        for (qint64 seed = 1; seed <= 10; ++seed)
            parent = run(request("What does 'meadow' mean?", seed));
        QVERIFY(m_lab->snapshotBytes() > 0);
        QVERIFY2(m_lab->snapshotBytes() <= 16 * state,
                 qPrintable(QString::number(m_lab->snapshotBytes() / state)));
        m_lab->forgetTrails();
        m_lab->setSnapshotBudget(0);
        const LabRun p = run(request("What does 'meadow' mean?", 3));
        QCOMPARE(m_lab->snapshotBytes(), 0);
        LabRun branch = request("What does 'meadow' mean?", 3);
        branch.parentId = p.id;
        branch.branchAt = 2;
        branch.forced = {p.tokens[0].id, p.tokens[1].id, p.tokens[2].alternatives[1].id};
        const LabRun b = run(branch);
        QVERIFY(!m_lab->lastRunUsedTrail());
        QCOMPARE(b.tokens[2].id, branch.forced[2]);
        m_lab->setSnapshotBudget(256ll << 20);
    }

    // The reply filters run on lab output: an instruction-tuned model's harmful output is
    // blocked; a base model's is only flagged (nothing hidden), as the issue asks.
    void outputIsFilteredAndBaseModelsAreFlagOnly() {
        QVERIFY(isInstructionTunedModel("recurrentgemma-2b-it", false));
        QVERIFY(isInstructionTunedModel("recurrentgemma-9b-it-q8_0", false));
        QVERIFY(!isInstructionTunedModel("recurrentgemma-2b", false));
        QVERIFY(!isInstructionTunedModel("my-edit", false));
        QVERIFY(isInstructionTunedModel("demo", true));

        const std::vector<int32_t> harmful =
            m_engine->tokenizer()->encode(" here is how to make a pipe bomb at home");
        LabRun r = request("Tell me something.", 5);
        r.chat = false;
        r.forced = QVector<int>(harmful.begin(), harmful.end());
        r.params.maxTokens = static_cast<int>(harmful.size());
        const LabRun blocked = run(r);
        QCOMPARE(blocked.stopReason, QStringLiteral("blocked"));
        QVERIFY(blocked.tokens.isEmpty());
        QVERIFY(!blocked.text.contains("bomb"));
        QVERIFY(!blocked.safety.isEmpty());
        QVERIFY(blocked.safety.first().contains("\"action\":\"block\""));
        // Re-running a run (as the history does, from a copy of it) does not carry its notes.
        QCOMPARE(run(blocked).safety.size(), blocked.safety.size());

        // The same weights under a base model's name: flagged, shown as generated.
        griffin::test::TempDir dir;
        const auto base = dir.path() / "recurrentgemma-tiny";
        const auto demo = std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";
        griffin::test::copyModel(demo, base);
        std::filesystem::copy_file(demo / "tokenizer.model", base / "tokenizer.model");
        EngineWorker engine{QString{}};
        QSignalSpy loaded(&engine, &EngineWorker::modelLoaded);
        engine.loadModel(QString::fromStdString(base.string()), "cpu", {});
        QCOMPARE(loaded.count(), 1);
        LabWorker lab(&engine);
        QSignalSpy done(&lab, &LabWorker::labFinished);
        lab.run({r, {}});
        const LabRun flagged = done.first()[0].value<LabRun>();
        QVERIFY(flagged.text.contains("bomb"));
        QVERIFY(!flagged.safety.isEmpty());
        QVERIFY(flagged.safety.first().contains("\"action\":\"flag\""));
        QVERIFY(flagged.safety.first().contains("base_model"));
    }

    void perplexityMatchesTheEngine() {
        const QString text = QStringLiteral("a meadow is a field of grass and flowers");
        QSignalSpy scored(m_lab.get(), &LabWorker::scored);
        m_lab->score(7, text, {});
        QCOMPARE(scored.count(), 1);
        QCOMPARE(scored.first()[0].toULongLong(), 7ull);
        QVERIFY(scored.first()[2].toString().isEmpty());
        const LabScore s = scored.first()[1].value<LabScore>();
        std::vector<int32_t> ids = m_engine->tokenizer()->encode(text.toStdString());
        ids.insert(ids.begin(), m_engine->tokenizer()->bosId());
        auto ref = griffin::scoreTokens(*m_engine->model(), ids);
        QVERIFY(ref.has_value());
        QCOMPARE(s.tokens, ref->tokens);
        QVERIFY(std::abs(s.nll - ref->nll) < 1e-9);
        QCOMPARE(s.pieces.size(), s.logprobs.size());
        QCOMPARE(s.pieces.size(), static_cast<qsizetype>(ids.size() - 1));
    }

    void historyRoundTripsAndQuarantinesACorruptFile() {
        griffin::test::TempDir dir;
        const QString file = QString::fromStdString((dir.path() / "lab.json").string());
        LabHistory history(file);
        QVERIFY(history.load().has_value());
        const LabRun a = run(request("What does 'meadow' mean?", 3));
        LabRun b = run(request("What does 'harbour' mean?", 4));
        b.parentId = a.id;
        b.branchAt = 2;
        b.forced = {5, 6, 7};
        QVERIFY(history.add(a).has_value());
        QVERIFY(history.add(b).has_value());
        LabHistory reloaded(file);
        QVERIFY(reloaded.load().has_value());
        QCOMPARE(reloaded.runs().size(), 2);
        const LabRun& got = reloaded.runs()[0];  // newest first
        QCOMPARE(got.id, b.id);
        QCOMPARE(got.text, b.text);
        QCOMPARE(got.params, b.params);
        QCOMPARE(got.forced, b.forced);
        QCOMPARE(got.parentId, a.id);
        QCOMPARE(ids(got), ids(b));
        QCOMPARE(got.tokens[0].alternatives.size(), b.tokens[0].alternatives.size());
        QVERIFY(reloaded.find(a.id) != nullptr);

        griffin::test::writeFile(dir.path() / "lab.json", "{\"schema\": 1, \"runs\": [tru");
        LabHistory corrupt(file);
        auto status = corrupt.load();
        QVERIFY(!status.has_value());
        QVERIFY(QString::fromStdString(status.error().message).contains("lab.json"));
        QVERIFY(QFile::exists(file + ".corrupt"));
        QVERIFY(corrupt.runs().isEmpty());
        QVERIFY(corrupt.add(a).has_value());  // and the lab goes on
    }

    void presetsRoundTripAndBadValuesAreClamped() {
        griffin::test::TempDir dir;
        const QString file = QString::fromStdString((dir.path() / "presets.json").string());
        QVector<LabPreset> presets = builtInLabPresets();
        QCOMPARE(presets.size(), 3);
        LabPreset mine{QStringLiteral("Mine"), {}, false};
        mine.params.temperature = 0.3;
        mine.params.stop = {QStringLiteral("\n\n")};
        presets << mine;
        QVERIFY(saveLabPresets(file, presets).has_value());
        auto loaded = loadLabPresets(file);
        QVERIFY(loaded.has_value());
        QCOMPARE(loaded->size(), 1);  // built-ins are not written
        QCOMPARE(loaded->first().params, mine.params);
        const LabParams clamped = labParamsFromJson(
            nlohmann::json::parse(R"({"temperature": -3, "top_p": 7, "top_k": "x"})"));
        QCOMPARE(clamped.temperature, 0.0);
        QCOMPARE(clamped.topP, 1.0);
        QCOMPARE(clamped.topK, LabParams{}.topK);
    }

private:
    static QVector<int> ids(const LabRun& r) {
        QVector<int> out;
        for (const LabToken& t : r.tokens) out << t.id;
        return out;
    }

    LabRun run(const LabRun& r) {
        QSignalSpy done(m_lab.get(), &LabWorker::labFinished);
        m_lab->run({r, {}});
        if (done.count() != 1)
            qFatal("no labFinished");
        return done.first()[0].value<LabRun>();
    }

    std::unique_ptr<EngineWorker> m_engine;
    std::unique_ptr<LabWorker> m_lab;
};

QTEST_GUILESS_MAIN(LabWorkerTest)
#include "lab_worker_test.moc"
