// SPDX-License-Identifier: Apache-2.0
// The real widgets driven with QTest (offscreen): type and send, streamed text, stop,
// regenerate, edit, delete + undo, search, and settings validation.
#include "main_window.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTextBrowser>
#include <QtTest>

#include "atomic_file.h"
#include "chat_view.h"
#include "conversation_list_model.h"
#include "convert_dialog.h"
#include "message_widget.h"
#include "services/runtime.h"
#include "services/summarize_worker.h"
#include "settings_dialog.h"
#include "summarize_window.h"
#include "test_files.h"

class MainWindowTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_dir = std::make_unique<griffin::test::TempDir>();
        griffin::test::makeTinyChatModel(m_dir->path() / "model");
        m_runtime = std::make_unique<ServiceRuntime>(path("conversations"));
        AppSettings settings;
        settings.sampling.temperature = 0.0;  // greedy: replies are reproducible
        settings.sampling.maxTokens = 8;
        m_window = std::make_unique<MainWindow>(*m_runtime, settings, path("settings.json"),
                                                QVector<Conversation>{});
        m_window->show();
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->loadModel(path("model"));
        QVERIFY(ready.wait(30000));
    }

    void cleanup() {
        m_window.reset();
        m_runtime.reset();
        m_dir.reset();
    }

    void typeAndSendShowsTheStreamedReply() {
        QSignalSpy tokens(m_runtime->worker(), &EngineWorker::tokensReceived);
        sendByKeyboard("the quick brown fox");
        const Conversation* c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 2);
        QCOMPARE(c->messages[0].text, QStringLiteral("the quick brown fox"));
        QCOMPARE(c->title, QStringLiteral("the quick brown fox"));
        QVERIFY(c->messages[1].stats.has_value());
        ChatView* view = m_window->findChild<ChatView*>("chatView");
        QCOMPARE(view->count(), 2);
        QCOMPARE(view->last()->text(), c->messages[1].text);
        if (!c->messages[1].text.isEmpty())
            QVERIFY(tokens.count() >= 1);
        QVERIFY(input()->toPlainText().isEmpty());
    }

    void shiftEnterInsertsANewlineInsteadOfSending() {
        QTest::keyClicks(input(), "line one");
        QTest::keyClick(input(), Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClicks(input(), "line two");
        QCOMPARE(input()->toPlainText(), QStringLiteral("line one\nline two"));
        QVERIFY(m_window->currentConversation()->messages.isEmpty());
    }

    void stopButtonEndsTheReply() {
        setMaxTokens(100000);
        QPushButton* stop = m_window->findChild<QPushButton*>("stopButton");
        connect(
            m_runtime->worker(), &EngineWorker::tokensReceived, stop, [stop] { stop->click(); },
            Qt::SingleShotConnection);
        sendByKeyboard("tell me a long story");
        const Conversation* c = m_window->currentConversation();
        QCOMPARE(c->messages.back().stats->stopReason, QStringLiteral("cancelled"));
        QVERIFY(!m_window->isGenerating());
        QVERIFY(!stop->isEnabled());
    }

    void regenerateReplacesTheLastReply() {
        sendByKeyboard("what does quick mean");
        const QString first = m_window->currentConversation()->messages.back().text;
        QSignalSpy finished(m_window.get(), &MainWindow::replyFinished);
        m_window->findChild<QPushButton*>("regenerateButton")->click();
        QVERIFY(finished.wait(30000));
        const Conversation* c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 2);
        QCOMPARE(c->messages.back().text, first);  // greedy
        // The first reply is kept as version 1 of 2; ‹ shows it, › returns.
        QCOMPARE(c->messages.back().branchCount(), 2);
        QCOMPARE(c->messages.back().branchIndex, 1);
        ChatView* view = m_window->findChild<ChatView*>("chatView");
        QCOMPARE(view->last()->findChild<QLabel*>("versionPosition")->text(),
                 QStringLiteral("2 / 2"));
        const MessageStats secondStats = *c->messages.back().stats;
        if (const QByteArray shots = qgetenv("GRIFFIN_SCREENSHOT_DIR"); !shots.isEmpty())
            QVERIFY(m_window->grab().save(QString::fromUtf8(shots) + "/versions.png"));
        view->last()->findChild<QPushButton*>("previousVersion")->click();
        c = m_window->currentConversation();
        QCOMPARE(c->messages.back().branchIndex, 0);
        QCOMPARE(view->last()->findChild<QLabel*>("versionPosition")->text(),
                 QStringLiteral("1 / 2"));
        QVERIFY(!view->last()->findChild<QPushButton*>("previousVersion")->isEnabled());
        view->last()->findChild<QPushButton*>("nextVersion")->click();
        QCOMPARE(*m_window->currentConversation()->messages.back().stats, secondStats);
    }

    void editResendsFromTheEditedMessage() {
        sendByKeyboard("first question");
        sendByKeyboard("second question");
        QCOMPARE(m_window->currentConversation()->messages.size(), 4);
        ChatView* view = m_window->findChild<ChatView*>("chatView");
        QPushButton* edit = view->at(2)->findChild<QPushButton*>("editButton");
        QVERIFY(edit != nullptr);
        edit->click();
        QCOMPARE(input()->toPlainText(), QStringLiteral("second question"));
        QVERIFY(m_window->findChild<QLabel*>("editBanner")->isVisible());
        input()->selectAll();
        QTest::keyClicks(input(), "a better question");
        QSignalSpy finished(m_window.get(), &MainWindow::replyFinished);
        QTest::keyClick(input(), Qt::Key_Return);
        QVERIFY(finished.wait(30000));
        const Conversation* c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 4);
        QCOMPARE(c->messages[2].text, QStringLiteral("a better question"));
        QCOMPARE(c->messages[0].text, QStringLiteral("first question"));
        // The original question and its reply are version 1 of 2 at that message; switching
        // back shows them, and a message sent there continues that version.
        QCOMPARE(c->messages[2].branchCount(), 2);
        view->at(2)->findChild<QPushButton*>("previousVersion")->click();
        c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 4);
        QCOMPARE(c->messages[2].text, QStringLiteral("second question"));
        sendByKeyboard("third question");
        c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 6);
        QCOMPARE(c->messages[2].text, QStringLiteral("second question"));
        QCOMPARE(c->messages[2].branchCount(), 2);
        // Reloaded from disk, the tree is the same.
        auto reloaded = conversationFromJson(conversationToJson(*c));
        QVERIFY(reloaded.has_value());
        QVERIFY(*reloaded == *c);
    }

    void deleteAndUndo() {
        sendByKeyboard("keep me");
        const QString id = m_window->currentConversationId();
        ConversationListModel* model = m_window->conversationModel();
        const int before = model->rowCount();
        m_window->deleteCurrentConversation();
        QVERIFY(model->find(id) == nullptr);
        QCOMPARE(model->rowCount(), before);  // an empty new conversation took its place
        m_window->undoDelete();
        QVERIFY(model->find(id) != nullptr);
        QCOMPARE(m_window->currentConversationId(), id);
    }

    void searchFiltersTitlesAndMessageText() {
        sendByKeyboard("about lighthouses");
        m_window->newConversation();
        sendByKeyboard("about gardens");
        QListView* list = m_window->findChild<QListView*>("conversationList");
        QCOMPARE(list->model()->rowCount(), 2);
        QLineEdit* search = m_window->findChild<QLineEdit*>("searchField");
        QTest::keyClicks(search, "LIGHTHOUSE");
        QCOMPARE(list->model()->rowCount(), 1);
        search->clear();
        QCOMPARE(list->model()->rowCount(), 2);
    }

    // A follow-up in a summary conversation: the app picks the sections the question is about,
    // gives their summaries to the model with the question (not stored in it), stores them on the
    // reply and shows "From sections ..." under it; all of it survives a reload.
    void summaryFollowUpNamesTheSectionsItUsed() {
        SummarizeOutcome outcome;
        outcome.path = QStringLiteral("/docs/bridge-report.md");
        outcome.strategy = QStringLiteral("map-reduce");
        outcome.language = QStringLiteral("english");
        outcome.summary = QStringLiteral("A bridge, its costs and a garden.");
        outcome.sections = {
            {0, 1, 40, 0, 0, 90, QStringLiteral("The bridge was planned.")},
            {1, 41, 80, 0, 0, 88, QStringLiteral("Birds sing in the garden.")},
            {2, 81, 120, 0, 0, 91, QStringLiteral("Repair costs of the bridge doubled.")}};
        emit m_window->openSummarizer()->openAsConversation(outcome);
        const Conversation* opened = m_window->currentConversation();
        QCOMPARE(opened->kind, QStringLiteral("summary"));
        QCOMPARE(opened->source->language, QStringLiteral("english"));
        QCOMPARE(opened->messages.size(), 2);

        GenerationRequest sent;
        connect(m_window.get(), &MainWindow::generateRequested, this,
                [&sent](const GenerationRequest& r) { sent = r; });
        sendByKeyboard("What about the repair costs?");
        const Conversation* c = m_window->currentConversation();
        QCOMPARE(c->messages.size(), 4);
        QCOMPARE(c->messages[2].text, QStringLiteral("What about the repair costs?"));
        QCOMPARE(c->messages[3].sources, (std::vector<qint64>{2}));
        QVERIFY(c->messages[1].sources.empty());
        QCOMPARE(sent.modelPrefixes.size(), 3);
        QVERIFY(sent.modelPrefixes[2].contains(QStringLiteral("Repair costs of the bridge")));
        QCOMPARE(sent.messages.back().text, QStringLiteral("What about the repair costs?"));
        ChatView* view = m_window->findChild<ChatView*>("chatView");
        auto* label = view->last()->findChild<QLabel*>("messageSources");
        QVERIFY(label != nullptr && !label->isHidden());
        QCOMPARE(label->text(), QStringLiteral("From section 3 (lines 81-120)"));
        QVERIFY(view->at(1)->findChild<QLabel*>("messageSources")->isHidden());

        // A question sharing no word with any section gets no sources and no line.
        sendByKeyboard("Hello there");
        c = m_window->currentConversation();
        QVERIFY(c->messages.back().sources.empty());
        QVERIFY(view->last()->findChild<QLabel*>("messageSources")->isHidden());
        // The earlier question keeps its sections for the model on later turns.
        QVERIFY(sent.modelPrefixes[2].contains(QStringLiteral("Repair costs of the bridge")));
        QVERIFY(sent.modelPrefixes[4].isEmpty());

        // Reloaded from disk and shown again, the line is still there.
        auto reloaded = conversationFromJson(conversationToJson(*c));
        QVERIFY(reloaded.has_value());
        QCOMPARE(reloaded->messages[3].sources, (std::vector<qint64>{2}));
        m_window->newConversation();
        m_window->selectConversation(reloaded->id);
        QCOMPARE(view->at(3)->findChild<QLabel*>("messageSources")->text(),
                 QStringLiteral("From section 3 (lines 81-120)"));
    }

    void settingsDialogRefusesInvalidInput() {
        AppSettings s;
        SettingsDialog dialog(s);
        auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        QVERIFY(ok->isEnabled());
        auto* modelPath = dialog.findChild<QLineEdit*>("modelPath");
        modelPath->setText(path("does-not-exist"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(dialog.problem().contains("does not exist"));
        modelPath->setText(path("model") + QStringLiteral("/config.json"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(dialog.problem().contains("not a model folder or a .gguf file"));
        modelPath->setText(path("model"));
        QVERIFY(ok->isEnabled());
        QCOMPARE(dialog.settings().modelPath, path("model"));
        // A single-file model (griffin quantize) may be the default too.
        QVERIFY(writeFileAtomically(path("small.gguf"), "GGUF").has_value());
        modelPath->setText(path("small.gguf"));
        QVERIFY(ok->isEnabled());

        auto* weights = dialog.findChild<QComboBox*>("weights");
        QCOMPARE(weights->currentData().toString(), QStringLiteral("stored"));
        weights->setCurrentIndex(weights->findData(QStringLiteral("q8_0")));
        dialog.findChild<QSpinBox*>("cpuThreads")->setValue(3);
        QCOMPARE(dialog.settings().weights, QStringLiteral("q8_0"));
        QCOMPARE(dialog.settings().cpuThreads, 3);
    }

    // A pasted document shows as its beginning with "Show all"; the message keeps every
    // character (the model reads it all, Copy copies it all).
    void longMessageShowsItsBeginningUntilExpanded() {
        QString text;
        while (text.size() < 20000) text += QStringLiteral("river stone light ");
        text += QStringLiteral("end");
        input()->setPlainText(text);
        QSignalSpy finished(m_window.get(), &MainWindow::replyFinished);
        m_window->sendMessage();
        QVERIFY(finished.wait(30000));
        QCOMPARE(m_window->currentConversation()->messages[0].text, text);
        ChatView* view = m_window->findChild<ChatView*>("chatView");
        MessageWidget* mine = view->at(0);
        QCOMPARE(mine->text(), text);
        auto* body = mine->findChild<QTextBrowser*>("messageBody");
        auto* expand = mine->findChild<QPushButton*>("expandMessage");
        QVERIFY(body->toPlainText().size() < 2000);
        QVERIFY(text.startsWith(body->toPlainText().chopped(2)));
        QVERIFY(expand->isVisibleTo(mine));
        QVERIFY2(expand->text().contains(QLocale().toString(text.size())),
                 qPrintable(expand->text()));
        QTest::mouseClick(expand, Qt::LeftButton);
        QCOMPARE(body->toPlainText(), text);
        QCOMPARE(expand->text(), QStringLiteral("Show less"));
        QTest::mouseClick(expand, Qt::LeftButton);
        QVERIFY(body->toPlainText().size() < 2000);
        // Short messages have no such button.
        QVERIFY(!view->at(1)->findChild<QPushButton*>("expandMessage"));
    }

    // A long conversation opens at its last messages; "Show earlier" adds the ones before,
    // each at its own index (Edit on an earlier message edits that message).
    void longConversationShowsItsEndFirst() {
        QVector<ChatMessageData> messages;
        for (int i = 0; i < 150; ++i) {
            ChatMessageData m;
            m.role = i % 2 ? ChatMessageData::Role::Model : ChatMessageData::Role::User;
            m.text = QStringLiteral("message %1").arg(i);
            messages.push_back(m);
        }
        ChatView view;
        view.resize(600, 400);
        view.show();
        view.setMessages(messages);
        QCOMPARE(view.count(), 150);
        QCOMPARE(view.hiddenCount(), 150 - ChatView::kPage);
        QVERIFY(view.at(view.hiddenCount() - 1) == nullptr);
        QCOMPARE(view.at(view.hiddenCount())->text(), QStringLiteral("message 90"));
        QCOMPARE(view.last()->text(), QStringLiteral("message 149"));
        auto* earlier = view.findChild<QPushButton*>("showEarlier");
        QVERIFY(earlier->isVisibleTo(&view));
        QCOMPARE(earlier->text(), QStringLiteral("Show 60 earlier messages (90 not shown)"));

        QTest::mouseClick(earlier, Qt::LeftButton);
        QCOMPARE(view.hiddenCount(), 30);
        QCOMPARE(view.count(), 150);
        for (int i = 30; i < 150; ++i)
            QCOMPARE(view.at(i)->text(), QStringLiteral("message %1").arg(i));
        QSignalSpy edit(&view, &ChatView::editRequested);
        QTest::mouseClick(view.at(40)->findChild<QPushButton*>("editButton"), Qt::LeftButton);
        QCOMPARE(edit.count(), 1);
        QCOMPARE(edit.first()[0].toInt(), 40);
        QTest::mouseClick(earlier, Qt::LeftButton);
        QCOMPARE(view.hiddenCount(), 0);
        QVERIFY(!earlier->isVisibleTo(&view));
        QCOMPARE(view.at(0)->text(), QStringLiteral("message 0"));
        // A new message goes after the last, at index 150.
        ChatMessageData next;
        next.text = QStringLiteral("message 150");
        view.appendMessage(next);
        QCOMPARE(view.count(), 151);
        QCOMPARE(view.at(150), view.last());
        // Order on screen: by their position in the column.
        QTRY_VERIFY(view.last()->y() > 0);  // laid out
        for (int i = 1; i < view.count(); ++i) QVERIFY(view.at(i)->y() > view.at(i - 1)->y());
    }

    // A long Markdown reply is as tall as its laid-out text, after a narrower window and as more
    // text streams in.
    void longReplyIsSizedToItsText() {
        ChatMessageData m;
        m.role = ChatMessageData::Role::Model;
        MessageWidget w(1, m);
        w.resize(700, 400);
        w.show();
        QString text;
        while (text.size() < 8000)
            text += QStringLiteral(
                "Some **bold** words in a line that wraps when narrow.\n\n- one\n- two\n\n");
        w.setText(text);
        auto* body = w.findChild<QTextBrowser*>("messageBody");
        auto laidOut = [body] {
            return static_cast<int>(std::ceil(body->document()->size().height())) + 4;
        };
        QCOMPARE(body->height(), laidOut());
        const int wide = body->height();
        QVERIFY(wide > 1000);
        w.resize(300, 400);
        QCOMPARE(body->height(), laidOut());
        QVERIFY(body->height() > wide);
        w.appendText(QStringLiteral("\n\nA last paragraph, long enough to wrap at this width."));
        QCOMPARE(body->height(), laidOut());
    }

    // Tools → Convert a model starts from the model in use; its "Open it" goes through the same
    // inspection as File → Open (which asks before loading).
    void converterStartsFromTheLoadedModel() {
        ConvertDialog* dialog = m_window->openConverter();
        QCOMPARE(dialog->sourceEdit()->text(), path("model"));
        QCOMPARE(dialog->outputEdit()->text(), path("model-q8_0.gguf"));
        QCOMPARE(m_window->openConverter(), dialog);  // one dialog, raised again
        // (A path that fails inspection: a good one would open the modal "Load this model?".)
        QSignalSpy inspect(m_window.get(), &MainWindow::inspectModelRequested);
        QSignalSpy error(m_window.get(), &MainWindow::errorShown);
        emit dialog->openModel(path("gone.gguf"));
        QCOMPARE(inspect.count(), 1);
        QCOMPARE(inspect.first()[0].toString(), path("gone.gguf"));
        QVERIFY(error.wait(10000));
        QVERIFY2(error.first()[0].toString().contains("gone.gguf"),
                 qPrintable(error.first()[0].toString()));
        dialog->close();
    }

    // The weights and threads settings reach the engine, and the status bar says what it runs.
    void weightsAndThreadsSettingsShowInTheStatusBar() {
        m_window.reset();
        AppSettings settings;
        settings.weights = QStringLiteral("q4_0");
        settings.cpuThreads = 1;
        m_window = std::make_unique<MainWindow>(*m_runtime, settings, path("settings.json"),
                                                QVector<Conversation>{});
        QSignalSpy ready(m_window.get(), &MainWindow::modelReady);
        m_window->loadModel(path("model"));
        QVERIFY(ready.wait(30000));
        QCOMPARE(m_window->findChild<QLabel*>("statusWeights")->text(),
                 QStringLiteral("Weights: q4_0 (converted from f32 while loading)"));
        const QString backend = m_window->findChild<QLabel*>("statusBackend")->text();
        QVERIFY2(backend.startsWith(QStringLiteral("Backend: CPU, 1 thread")), qPrintable(backend));
        // Auto's reason shows without its device details (the tooltip has them all).
        QVERIFY2(backend.size() < 80 && !backend.contains(QLatin1Char(';')), qPrintable(backend));
        sendByKeyboard("the quick brown fox");
        QVERIFY(m_window->currentConversation()->messages[1].stats.has_value());
    }

private:
    QString path(const char* name) const {
        return QString::fromStdString((m_dir->path() / name).string());
    }
    QPlainTextEdit* input() const { return m_window->findChild<QPlainTextEdit*>("messageInput"); }

    void sendByKeyboard(const QString& text) {
        QSignalSpy finished(m_window.get(), &MainWindow::replyFinished);
        input()->setFocus();
        QTest::keyClicks(input(), text);
        QTest::keyClick(input(), Qt::Key_Return);
        QVERIFY(m_window->isGenerating());
        // replyFinished is emitted on this (GUI) thread, so it cannot arrive before wait().
        QVERIFY(finished.wait(30000));
    }

    void setMaxTokens(int n) {
        for (QSpinBox* box : m_window->findChildren<QSpinBox*>()) {
            if (box->accessibleName() == "Maximum tokens")
                box->setValue(n);
        }
        QCOMPARE(m_window->currentConversation()->params.maxTokens, n);
    }

    std::unique_ptr<griffin::test::TempDir> m_dir;
    std::unique_ptr<ServiceRuntime> m_runtime;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
