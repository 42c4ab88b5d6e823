// SPDX-License-Identifier: Apache-2.0
// The prompt lab window driven through its widgets on the demo model, with the LabWorker on its
// own thread as in the app: live token count and token view, two variants side by side, token
// alternatives and a branch, an exact re-run from the history, and perplexity.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTextBrowser>
#include <QThread>
#include <QtTest>

#include "lab_variant_column.h"
#include "prompt_lab_window.h"
#include "services/engine_worker.h"
#include "services/runtime.h"
#include "signal_wait.h"
#include "test_files.h"

class PromptLabTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        registerServiceMetaTypes();
        m_engine = new EngineWorker(QString{});
        m_lab = new LabWorker(m_engine);
        m_engine->moveToThread(&m_thread);
        m_lab->moveToThread(&m_thread);
        connect(&m_thread, &QThread::finished, m_engine, &QObject::deleteLater);
        connect(&m_thread, &QThread::finished, m_lab, &QObject::deleteLater);
        m_thread.start();
        QSignalSpy loaded(m_engine, &EngineWorker::modelLoaded);
        QSignalSpy failed(m_engine, &EngineWorker::modelLoadFailed);
        QMetaObject::invokeMethod(m_engine, [e = m_engine] {
            e->loadModel(QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo"), "cpu", {});
        });
        const bool ok = griffin::test::waitForSignal(loaded, 30000);
        QVERIFY2(ok, failed.isEmpty() ? "no modelLoaded signal"
                                      : qPrintable(failed.first().first().toString()));
    }

    void cleanupTestCase() {
        m_thread.quit();
        m_thread.wait();
    }

    void variantsRunSideBySideAndBranch() {
        griffin::test::TempDir dir;
        const QString history = QString::fromStdString((dir.path() / "history.json").string());
        PromptLabWindow window(m_lab, history,
                               QString::fromStdString((dir.path() / "presets.json").string()));
        window.resize(1280, 800);
        window.show();

        // Live token count, and the token view with the chat template's special tokens.
        QTest::keyClicks(window.promptEditor(), "What does 'meadow' mean?");
        QTRY_VERIFY_WITH_TIMEOUT(window.tokenCountLabel()->text() != "0 tokens", 5000);
        const int chatCount = window.tokenCountLabel()->text().section(' ', 0, 0).toInt();
        QVERIFY(chatCount > 8);
        window.modeBox()->setCurrentIndex(1);  // raw: no turn markers
        QTRY_VERIFY_WITH_TIMEOUT(
            window.tokenCountLabel()->text().section(' ', 0, 0).toInt() < chatCount, 5000);
        window.modeBox()->setCurrentIndex(0);
        for (QPushButton* b : window.findChildren<QPushButton*>()) {
            if (b->text() == "Tokens")
                b->click();
        }
        QTRY_VERIFY_WITH_TIMEOUT(window.tokenView()->toPlainText().contains("start_of_turn"), 5000);

        // Two variants: Precise and a greedy one with a fixed seed.
        QTest::mouseClick(window.addVariantButton(), Qt::LeftButton);
        QCOMPARE(window.columns().size(), 2);
        LabParams greedy;
        greedy.temperature = 0.0;
        greedy.maxTokens = 12;
        window.columns()[1]->setParams(greedy);
        LabParams sampled;
        sampled.temperature = 0.9;
        sampled.seed = 42;
        sampled.maxTokens = 12;
        window.columns()[0]->setParams(sampled);
        QTest::mouseClick(window.runButton(), Qt::LeftButton);
        QVERIFY(window.busy());
        QTRY_VERIFY_WITH_TIMEOUT(!window.busy(), 30000);
        for (LabVariantColumn* c : window.columns()) {
            QVERIFY(c->run().has_value());
            QVERIFY2(c->run()->error.isEmpty(), qPrintable(c->run()->error));
            QVERIFY(!c->run()->tokens.isEmpty());
            QVERIFY(!c->output()->toPlainText().isEmpty());
        }
        QCOMPARE(window.columns()[0]->run()->params.seed, 42);
        QCOMPARE(window.history().runs().size(), 2);
        QCOMPARE(window.historyList()->count(), 2);

        // The heat map colours tokens; clicking a token lists its alternatives.
        window.heatMapBox()->setChecked(true);
        QVERIFY(window.columns()[1]->output()->toHtml().contains("background-color"));
        LabVariantColumn* column = window.columns()[1];
        const LabRun parent = *column->run();
        const int k = std::min<int>(2, static_cast<int>(parent.tokens.size()) - 1);
        emit column->output()->anchorClicked(QUrl(QStringLiteral("token:%1").arg(k)));
        QCOMPARE(column->selectedToken(), k);
        QCOMPARE(column->alternatives()->count(), 10);

        // Branch with the second alternative: the branch keeps the first k tokens.
        if (grabTo("GRIFFIN_LAB_SCREENSHOT"))
            qInfo("screenshot written");
        column->alternatives()->setCurrentRow(1);
        const int alt = parent.tokens[k].alternatives[1].id;
        for (QPushButton* b : column->findChildren<QPushButton*>()) {
            if (b->text() == "Branch with this token") {
                QVERIFY(b->isEnabled());
                b->click();
            }
        }
        QTRY_VERIFY_WITH_TIMEOUT(!window.busy() && column->run()->parentId == parent.id, 30000);
        const LabRun branch = *column->run();
        QCOMPARE(branch.branchAt, k);
        QCOMPARE(branch.tokens[k].id, alt);
        for (int i = 0; i < k; ++i) QCOMPARE(branch.tokens[i].id, parent.tokens[i].id);
        QCOMPARE(window.history().runs().size(), 3);

        // Re-run the sampled run (now third in the history, newest first) exactly.
        const LabRun original = *window.history().find(window.columns()[0]->run()->id);
        int row = -1;
        for (int i = 0; i < window.history().runs().size(); ++i) {
            if (window.history().runs()[i].id == original.id)
                row = i;
        }
        QVERIFY(row >= 0);
        window.historyList()->setCurrentRow(row);
        window.rerunSelected();
        QTRY_VERIFY_WITH_TIMEOUT(!window.busy() && window.history().runs().size() == 4, 30000);
        const LabRun again = window.history().runs().first();
        QCOMPARE(again.text, original.text);
        QCOMPARE(again.params, original.params);
        QCOMPARE(again.tokens.size(), original.tokens.size());

        // The history survives a restart of the window.
        LabHistory reloaded(history);
        QVERIFY(reloaded.load().has_value());
        QCOMPARE(reloaded.runs().size(), 4);
    }

    // Variants may differ by prompt too: a variant's own prompt replaces the shared one.
    void variantWithItsOwnPrompt() {
        griffin::test::TempDir dir;
        PromptLabWindow window(m_lab,
                               QString::fromStdString((dir.path() / "history.json").string()),
                               QString::fromStdString((dir.path() / "presets.json").string()));
        window.show();
        window.promptEditor()->setPlainText("What does 'meadow' mean?");
        window.addVariant();
        LabParams greedy;
        greedy.temperature = 0.0;
        greedy.maxTokens = 6;
        for (LabVariantColumn* c : window.columns()) c->setParams(greedy);
        window.columns()[1]->setPromptOverride("What does 'harbour' mean?");
        window.runAll();
        QTRY_VERIFY_WITH_TIMEOUT(!window.busy(), 30000);
        QCOMPARE(window.columns()[0]->run()->prompt, QStringLiteral("What does 'meadow' mean?"));
        QCOMPARE(window.columns()[1]->run()->prompt, QStringLiteral("What does 'harbour' mean?"));
        QVERIFY(window.columns()[0]->run()->text != window.columns()[1]->run()->text ||
                window.columns()[0]->run()->promptTokens !=
                    window.columns()[1]->run()->promptTokens);
    }

    void perplexityTabScoresAText() {
        griffin::test::TempDir dir;
        PromptLabWindow window(m_lab,
                               QString::fromStdString((dir.path() / "history.json").string()),
                               QString::fromStdString((dir.path() / "presets.json").string()));
        window.show();
        window.tabs()->setCurrentIndex(1);
        window.perplexityEditor()->setPlainText("a meadow is a field of grass and flowers");
        QTest::mouseClick(window.perplexityButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.perplexityResult()->text().contains("perplexity"), 30000);
        const double ppl = window.perplexityResult()->text().section("perplexity ", 1).toDouble();
        QVERIFY2(ppl > 1.0, qPrintable(window.perplexityResult()->text()));
        grabTo("GRIFFIN_LAB_PPL_SCREENSHOT", &window);
    }

private:
    bool grabTo(const char* env, QWidget* widget = nullptr) {
        const QByteArray file = qgetenv(env);
        if (file.isEmpty())
            return false;
        if (widget == nullptr) {
            for (QWidget* w : QApplication::topLevelWidgets()) {
                if (qobject_cast<PromptLabWindow*>(w) != nullptr && w->isVisible())
                    widget = w;
            }
        }
        return widget != nullptr && widget->grab().save(QString::fromLocal8Bit(file));
    }

    QThread m_thread;
    EngineWorker* m_engine = nullptr;
    LabWorker* m_lab = nullptr;
};

QTEST_MAIN(PromptLabTest)
#include "prompt_lab_test.moc"
