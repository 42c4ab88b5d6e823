// SPDX-License-Identifier: Apache-2.0
// Tools → Convert a model: a folder converted to a GGUF file that the engine reads back at the
// chosen type, with the output name proposed beside the source; input refused in plain words
// before anything runs; and a stopped or failed conversion leaving no file behind.
#include "convert_dialog.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include "atomic_file.h"
#include "griffin/model.h"
#include "test_files.h"

class ConvertDialogTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_dir = std::make_unique<griffin::test::TempDir>();
        griffin::test::makeTinyChatModel(m_dir->path() / "model");
    }
    void cleanup() { m_dir.reset(); }

    void convertsAFolderAndOffersToOpenIt() {
        ConvertDialog dialog;
        dialog.setSource(path("model"));
        QCOMPARE(dialog.outputEdit()->text(), path("model-q8_0.gguf"));
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(QStringLiteral("q4_0")));
        QCOMPARE(dialog.outputEdit()->text(), path("model-q4_0.gguf"));  // follows the type
        QVERIFY(dialog.convertButton()->isEnabled());
        QVERIFY(!dialog.openButton()->isVisibleTo(&dialog));

        QSignalSpy finished(&dialog, &ConvertDialog::conversionFinished);
        QTest::mouseClick(dialog.convertButton(), Qt::LeftButton);
        QVERIFY(dialog.running() || finished.count() == 1);
        QVERIFY(finished.count() == 1 || finished.wait(30000));
        const auto outcome = finished.first()[0].value<ConvertOutcome>();
        QVERIFY2(outcome.ok, qPrintable(outcome.message));
        QVERIFY(!dialog.running());
        QVERIFY(dialog.statusLabel()->text().startsWith(QStringLiteral("Wrote ")));
        QCOMPARE(dialog.progressBar()->value(), dialog.progressBar()->maximum());

        auto inspected = griffin::inspectModel(path("model-q4_0.gguf").toStdString());
        QVERIFY2(inspected.has_value(), inspected ? "" : inspected.error().message.c_str());
        QVERIFY(inspected->matrixType == griffin::WeightType::Q4_0);
        QVERIFY(inspected->hasTokenizer);
        QVERIFY(!QFile::exists(path("model-q4_0.gguf.partial")));

        // "Open it" hands the new file to the window that loads models.
        QVERIFY(dialog.openButton()->isVisibleTo(&dialog));
        QSignalSpy open(&dialog, &ConvertDialog::openModel);
        QTest::mouseClick(dialog.openButton(), Qt::LeftButton);
        QCOMPARE(open.count(), 1);
        QCOMPARE(open.first()[0].toString(), path("model-q4_0.gguf"));
    }

    void refusesBadInputInPlainWords() {
        ConvertDialog dialog;
        QVERIFY(!dialog.convertButton()->isEnabled());
        QVERIFY(dialog.problem().contains("Choose the model"));
        dialog.setSource(path("missing"));
        QVERIFY(dialog.problem().contains("does not exist"));
        QVERIFY(QDir().mkpath(path("empty")));
        dialog.setSource(path("empty"));
        QVERIFY(dialog.problem().contains("no config.json"));
        QVERIFY(!dialog.convertButton()->isEnabled());
        QCOMPARE(dialog.statusLabel()->text(), dialog.problem());
        dialog.setSource(path("model") + QStringLiteral("/config.json"));
        QVERIFY(dialog.problem().contains("not a model folder or a .gguf file"));

        dialog.setSource(path("model"));
        dialog.outputEdit()->setText(path("model.bin"));
        QVERIFY(dialog.problem().contains("must end in .gguf"));
        dialog.outputEdit()->setText(path("no-such-folder/x.gguf"));
        QVERIFY(dialog.problem().contains("does not exist"));
        // A name the user typed stays when the type changes.
        dialog.outputEdit()->setText(path("mine.gguf"));
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(QStringLiteral("bf16")));
        QCOMPARE(dialog.outputEdit()->text(), path("mine.gguf"));
        QVERIFY(dialog.problem().isEmpty());
        QVERIFY(dialog.convertButton()->isEnabled());

        // A .gguf source may not be its own output.
        QVERIFY(writeFileAtomically(path("same.gguf"), "GGUF").has_value());
        dialog.setSource(path("same.gguf"));
        dialog.outputEdit()->setText(path("same.gguf"));
        QVERIFY(dialog.problem().contains("replace the model being read"));
    }

    // A stop before the end, or a broken model, leaves neither the output nor a partial file.
    void stoppedOrFailedConversionLeavesNoFile() {
        std::stop_source stop;
        stop.request_stop();
        const ConvertOutcome stopped = ConvertJob::run(path("model"), griffin::WeightType::Q8_0,
                                                       path("out.gguf"), stop.get_token());
        QVERIFY(!stopped.ok);
        QVERIFY(stopped.cancelled);
        QVERIFY(stopped.message.contains("no file was written"));
        QVERIFY(!QFile::exists(path("out.gguf")) && !QFile::exists(path("out.gguf.partial")));

        // Truncate the weights: the error names the file, and nothing is written.
        QFile weights(path("model") + QStringLiteral("/model.safetensors"));
        QVERIFY(weights.open(QIODevice::ReadWrite));
        QVERIFY(weights.resize(weights.size() / 2));
        weights.close();
        const ConvertOutcome failed =
            ConvertJob::run(path("model"), griffin::WeightType::Q8_0, path("out.gguf"), {});
        QVERIFY(!failed.ok && !failed.cancelled);
        QVERIFY2(failed.message.contains("model.safetensors"), qPrintable(failed.message));
        QVERIFY(!QFile::exists(path("out.gguf")) && !QFile::exists(path("out.gguf.partial")));

        // The same through the dialog: the message is shown and Convert is offered again.
        ConvertDialog dialog;
        dialog.setSource(path("model"));
        QSignalSpy finished(&dialog, &ConvertDialog::conversionFinished);
        dialog.convert();
        QVERIFY(finished.count() == 1 || finished.wait(30000));
        QVERIFY(dialog.statusLabel()->text().contains("model.safetensors"));
        QVERIFY(dialog.convertButton()->isEnabled());
        QVERIFY(!dialog.openButton()->isVisibleTo(&dialog));
    }

private:
    QString path(const char* name) const {
        return QString::fromStdString((m_dir->path() / name).string());
    }
    QString path(const QString& name) const { return path(name.toUtf8().constData()); }

    std::unique_ptr<griffin::test::TempDir> m_dir;
};

QTEST_MAIN(ConvertDialogTest)
#include "convert_dialog_test.moc"
