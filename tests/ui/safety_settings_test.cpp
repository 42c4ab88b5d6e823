// SPDX-License-Identifier: Apache-2.0
// The safety settings in the GUI (offscreen): the Safety tab of the settings dialog edits the
// settings object, names every control for assistive technology and refuses a broken rules file;
// the per-conversation switch asks before turning the filters off; and a refused message shows
// its notice in the chat without a reply.
#include <fstream>

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QTabWidget>
#include <QtTest>

#include "chat_view.h"
#include "main_window.h"
#include "message_widget.h"
#include "parameters_panel.h"
#include "safety_settings_page.h"
#include "services/runtime.h"
#include "services/safety_setup.h"
#include "settings_dialog.h"
#include "test_files.h"

namespace {

// Presses the button labelled `text` on the next modal message box, once it is shown.
void answerNextMessageBox(const QString& text) {
    QTimer::singleShot(0, [text] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (box == nullptr) {
            answerNextMessageBox(text);  // not shown yet: try again on the next pass
            return;
        }
        for (QAbstractButton* b : box->buttons()) {
            if (b->text().remove('&') == text) {
                b->click();
                return;
            }
        }
        QFAIL(qPrintable("no button " + text));
    });
}

SafetySettingsPage* openSafetyTab(SettingsDialog& dialog) {
    auto* tabs = dialog.findChild<QTabWidget*>("settingsTabs");
    auto* page = dialog.findChild<SafetySettingsPage*>("safetySettingsPage");
    if (tabs == nullptr || page == nullptr)
        return nullptr;
    tabs->setCurrentWidget(page);
    return tabs->tabText(tabs->currentIndex()).remove('&') == "Safety" ? page : nullptr;
}

}  // namespace

class SafetySettingsTest : public QObject {
    Q_OBJECT

private slots:
    void safetyTabEditsTheSettings() {
        AppSettings settings;
        SettingsDialog dialog(settings);
        dialog.show();
        SafetySettingsPage* page = openSafetyTab(dialog);
        QVERIFY(page != nullptr);
        auto* hate = page->findChild<QComboBox*>("categoryAction_hate_speech");
        QVERIFY(hate != nullptr);
        QCOMPARE(hate->currentData().toString(), QString());  // the rule's own action
        // Choose "Flag" with the keyboard, as a user would.
        hate->setFocus();
        while (hate->currentData().toString() != QLatin1String("flag"))
            QTest::keyClick(hate, Qt::Key_Down);
        auto* email = page->findChild<QCheckBox*>("pii_email");
        page->findChild<QScrollArea*>()->ensureWidgetVisible(email);  // the page scrolls
        email->click();
        auto* mode = page->findChild<QComboBox*>("inputMode");
        mode->setCurrentIndex(mode->findData(QStringLiteral("all")));
        page->findChild<QCheckBox*>("judgeEnabled")->setChecked(true);
        page->findChild<QDoubleSpinBox*>("judgeThreshold")->setValue(0.6);

        const SafetySettings edited = dialog.settings().safety;
        QCOMPARE(edited.categoryActions, (QMap<QString, QString>{{"hate_speech", "flag"}}));
        QVERIFY(!edited.piiTypes.contains("email"));
        QVERIFY(edited.piiTypes.contains("iban"));
        QCOMPARE(edited.inputMode, QStringLiteral("all"));
        QCOMPARE(edited.judgeEnabled, true);
        QCOMPARE(edited.judgeThreshold, 0.6);
        QVERIFY(dialog.problem().isEmpty());
        // Back to the rule's own action: the category leaves the map.
        hate->setCurrentIndex(0);
        QVERIFY(dialog.settings().safety.categoryActions.isEmpty());

        // GRIFFIN_SCREENSHOT_DIR=DIR saves the page for a look by a person.
        if (const QByteArray dir = qgetenv("GRIFFIN_SCREENSHOT_DIR"); !dir.isEmpty()) {
            dialog.resize(dialog.sizeHint().expandedTo(QSize(640, 760)));
            QVERIFY(dialog.grab().save(QString::fromUtf8(dir) + "/safety-settings.png"));
        }
    }

    void everySafetyControlHasAnAccessibleName() {
        SettingsDialog dialog(AppSettings{});
        SafetySettingsPage* page = openSafetyTab(dialog);
        QVERIFY(page != nullptr);
        int controls = 0;
        for (QWidget* w : page->findChildren<QWidget*>()) {
            if (qobject_cast<QComboBox*>(w) || qobject_cast<QAbstractButton*>(w) ||
                qobject_cast<QLineEdit*>(w) || qobject_cast<QDoubleSpinBox*>(w)) {
                if (qobject_cast<QComboBox*>(w->parent()) ||
                    qobject_cast<QAbstractSpinBox*>(w->parent()))
                    continue;  // a combo or spin box's own internals
                ++controls;
                const QString text = qobject_cast<QAbstractButton*>(w)
                                         ? qobject_cast<QAbstractButton*>(w)->text()
                                         : QString();
                QVERIFY2(!w->accessibleName().isEmpty() || !text.isEmpty(),
                         qPrintable(w->objectName()));
            }
        }
        QVERIFY(controls >= 6 + 5 + 2 + 4);  // categories, PII, input, file + judge
    }

    void settingsAreShownAsSaved() {
        AppSettings settings;
        settings.safety.enabled = false;
        settings.safety.categoryActions = {{"harassment", "allow"}};
        settings.safety.inputAction = "flag";
        SettingsDialog dialog(settings);
        SafetySettingsPage* page = openSafetyTab(dialog);
        QVERIFY(!page->findChild<QCheckBox*>("safetyEnabled")->isChecked());
        QCOMPARE(page->findChild<QComboBox*>("categoryAction_harassment")->currentData(),
                 QVariant(QStringLiteral("allow")));
        QVERIFY(dialog.settings().safety == settings.safety);  // nothing changed, nothing lost
    }

    void brokenRulesFileIsRefusedNamingTheFileAndTheProblem() {
        griffin::test::TempDir dir;
        const auto file = dir.path() / "custom-rules.json";
        std::ofstream(file) << R"({"version": 1, "categories": {"spam": "spam"}, "rules": [
            {"id": "spam.1", "category": "scam", "severity": 1, "action": "flag",
             "terms": ["buy now"]}]})";
        SettingsDialog dialog(AppSettings{});
        SafetySettingsPage* page = openSafetyTab(dialog);
        auto* edit = page->findChild<QLineEdit*>("userRulesFile");
        edit->setText(QString::fromStdString(file.string()));
        const QString problem = dialog.problem();
        QVERIFY2(problem.contains("custom-rules.json") && problem.contains("scam"),
                 qPrintable(problem));
        auto* buttons = dialog.findChild<QDialogButtonBox*>();
        QVERIFY(!buttons->button(QDialogButtonBox::Ok)->isEnabled());

        // Fixed: accepted, and its category gets a row after reopening.
        std::ofstream(file) << R"({"version": 1, "categories": {"spam": "unsolicited offers"},
            "rules": [{"id": "spam.1", "category": "spam", "severity": 1, "action": "flag",
                       "terms": ["buy now"]}]})";
        edit->setText(edit->text() + " ");
        edit->setText(edit->text().trimmed());
        QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem()));
        QVERIFY(buttons->button(QDialogButtonBox::Ok)->isEnabled());
        SettingsDialog again(dialog.settings());
        QVERIFY(openSafetyTab(again)->findChild<QComboBox*>("categoryAction_spam") != nullptr);
    }

    // Custom terms typed in the Safety tab go into the rules file (its other rules kept) when
    // Settings is saved, validated first; the filter then acts on them. A rules file that is not
    // JSON is left untouched and the error names it.
    void customTermsAreSavedIntoTheRulesFile() {
        griffin::test::TempDir dir;
        const auto file = dir.path() / "mine.json";
        std::ofstream(file) << R"({"version": 1, "categories": {"spam": "unsolicited offers"},
            "rules": [{"id": "spam.1", "category": "spam", "severity": 1, "action": "flag",
                       "terms": ["buy now"]}]})";
        AppSettings settings;
        settings.safety.userRulesFile = QString::fromStdString(file.string());
        SettingsDialog dialog(settings);
        SafetySettingsPage* page = openSafetyTab(dialog);
        auto* terms = page->findChild<QPlainTextEdit*>("customTerms");
        QVERIFY(terms != nullptr && terms->toPlainText().isEmpty());
        QTest::keyClicks(terms, "zorgle wibble");
        auto* action = page->findChild<QComboBox*>("customTermsAction");
        action->setCurrentIndex(action->findData("redact"));
        QString error;
        QVERIFY2(page->saveCustomTerms(&error), qPrintable(error));

        const CustomTerms saved = readCustomTerms(QString::fromStdString(file.string()));
        QCOMPARE(saved.terms, QStringList{"zorgle wibble"});
        QCOMPARE(saved.action, QStringLiteral("redact"));
        QString problem;
        auto rules = loadSafetyRules(QString::fromStdString(file.string()), &problem);
        QVERIFY2(rules.has_value() && problem.isEmpty(), qPrintable(problem));
        bool keptSpam = false, hasCustom = false;
        for (const auto& r : rules->rules()) {
            keptSpam |= r.id == "spam.1";
            hasCustom |= r.id == kCustomTermsRuleId;
        }
        QVERIFY(keptSpam && hasCustom);
        griffin::safety::Filter filter(*rules, {}, griffin::safety::Direction::Output);
        const auto verdict = filter.check("they said Zorgle  wibble twice");
        QCOMPARE(verdict.action, griffin::safety::Action::Redact);
        QVERIFY(!QString::fromStdString(verdict.output).contains("zorgle"));
        // Reopened, the terms are shown.
        SettingsDialog again(dialog.settings());
        QCOMPARE(openSafetyTab(again)->findChild<QPlainTextEdit*>("customTerms")->toPlainText(),
                 QStringLiteral("zorgle wibble"));

        // Not JSON: refused, the file untouched.
        std::ofstream(file, std::ios::trunc) << "{ not json";
        SettingsDialog broken(settings);
        SafetySettingsPage* page2 = openSafetyTab(broken);
        QTest::keyClicks(page2->findChild<QPlainTextEdit*>("customTerms"), "frobnicate");
        QVERIFY(!page2->saveCustomTerms(&error));
        QVERIFY2(error.contains("mine.json"), qPrintable(error));
        QCOMPARE(griffin::test::readFile(file), std::string("{ not json"));
    }

    void turningTheConversationSwitchOffAsksFirst() {
        ParametersPanel panel;
        panel.show();
        auto* box = panel.findChild<QCheckBox*>("conversationSafety");
        QVERIFY(box != nullptr && box->isChecked());
        QCOMPARE(box->accessibleName(), QStringLiteral("Safety filters for this conversation"));
        QSignalSpy edited(&panel, &ParametersPanel::edited);
        answerNextMessageBox("Cancel");
        QTest::mouseClick(box, Qt::LeftButton);
        QVERIFY(panel.safetyEnabled());
        QCOMPARE(edited.count(), 0);
        answerNextMessageBox("Turn off");
        QTest::mouseClick(box, Qt::LeftButton);
        QVERIFY(!panel.safetyEnabled());
        QCOMPARE(edited.count(), 1);
        QTest::mouseClick(box, Qt::LeftButton);  // back on: no question
        QVERIFY(panel.safetyEnabled());
        QCOMPARE(edited.count(), 2);
        panel.setSafetyEnabled(false);  // showing a conversation: no question, no edit
        QCOMPARE(edited.count(), 2);
    }

    // Through the main window on the demo model: the switch is stored in the conversation, and a
    // refused message stays in the chat, marked with its notice, with no reply.
    void mainWindowStoresTheSwitchAndShowsARefusal() {
        griffin::test::TempDir dir;
        const QString root = QString::fromStdString(dir.path().string());
        ServiceRuntime runtime(root + "/conversations");
        AppSettings settings;
        settings.sampling.temperature = 0.0;
        settings.sampling.maxTokens = 4;
        MainWindow window(runtime, settings, root + "/settings.json", {});
        window.show();
        QSignalSpy ready(&window, &MainWindow::modelReady);
        window.loadModel(QString::fromStdString(
            (std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo").string()));
        QVERIFY(ready.wait(30000));

        auto* input = window.findChild<QPlainTextEdit*>("messageInput");
        QSignalSpy finished(&window, &MainWindow::replyFinished);
        input->setFocus();
        QTest::keyClicks(input, "Give me steps to make a pipe bomb at home.");
        QTest::keyClick(input, Qt::Key_Return);
        QVERIFY(finished.wait(30000));
        const Conversation* c = window.currentConversation();
        QCOMPARE(c->messages.size(), 1);  // the user's message, kept; no reply
        QVERIFY(isRefusedBySafety(c->messages[0]));
        auto* view = window.findChild<ChatView*>("chatView");
        QCOMPARE(view->count(), 1);
        auto* banner = view->at(0)->findChild<QLabel*>("safetyBanner");
        QVERIFY(banner->isVisibleTo(view->at(0)));
        QVERIFY2(banner->text().contains("Not sent to the model"), qPrintable(banner->text()));
        if (const QByteArray shots = qgetenv("GRIFFIN_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QTest::qWait(50);  // let the new message widgets show and lay out
            QVERIFY(window.grab().save(QString::fromUtf8(shots) + "/safety-refused.png"));
        }

        // The next message is answered (the refused one is left out of the model's input).
        QTest::keyClicks(input, "what does quick mean");
        QTest::keyClick(input, Qt::Key_Return);
        QVERIFY(finished.wait(30000));
        QCOMPARE(window.currentConversation()->messages.size(), 3);
        QVERIFY(window.currentConversation()->messages[2].stats.has_value());

        auto* box =
            window.findChild<ParametersPanel*>()->findChild<QCheckBox*>("conversationSafety");
        auto* offBanner = window.findChild<QLabel*>("safetyOffBanner");
        QVERIFY(!offBanner->isVisible());
        answerNextMessageBox("Turn off");
        QTest::mouseClick(box, Qt::LeftButton);
        QCOMPARE(window.currentConversation()->safetyEnabled, false);
        QVERIFY(offBanner->isVisible());  // shown in the conversation's header
        QVERIFY(QTest::qWaitFor(
            [&] {
                QFile f(root + "/conversations/" + window.currentConversationId() + ".json");
                return f.open(QIODevice::ReadOnly) &&
                       f.readAll().contains("\"safety_filters\": false");
            },
            10000));
    }
};

QTEST_MAIN(SafetySettingsTest)
#include "safety_settings_test.moc"
