// SPDX-License-Identifier: Apache-2.0
#include "convert_dialog.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "model_fields.h"

ConvertDialog::ConvertDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("convertDialog"));
    setWindowTitle(tr("Convert a model"));
    setMinimumWidth(560);
    auto* outer = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("Writes one GGUF file with the model's matrices in a smaller type and its tokenizer "
           "inside. Opening that file skips the conversion that Settings → Weights does on "
           "every load."),
        this);
    intro->setWordWrap(true);
    outer->addWidget(intro);
    auto* form = new QFormLayout();

    m_source = new QLineEdit(this);
    m_source->setObjectName(QStringLiteral("convertSource"));
    m_source->setPlaceholderText(tr("a model folder (config.json, …) or a .gguf file"));
    form->addRow(tr("Model"), modelPathRow(m_source, this));

    m_type = new QComboBox(this);
    m_type->setObjectName(QStringLiteral("convertType"));
    addWeightTypes(m_type);
    form->addRow(tr("Matrices"), m_type);

    m_output = new QLineEdit(this);
    m_output->setObjectName(QStringLiteral("convertOutput"));
    auto* saveAs = new QPushButton(tr("Save as…"), this);
    connect(saveAs, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(
            this, tr("GGUF file to write"), m_output->text(), tr("GGUF models (*.gguf)"));
        if (!file.isEmpty())
            m_output->setText(file.endsWith(QLatin1String(".gguf")) ? file : file + ".gguf");
    });
    auto* outputRow = new QHBoxLayout();
    outputRow->addWidget(m_output);
    outputRow->addWidget(saveAs);
    form->addRow(tr("Output file"), outputRow);
    outer->addLayout(form);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    outer->addWidget(m_progress);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("convertStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_status);

    auto* buttons = new QHBoxLayout();
    m_open = new QPushButton(tr("Open it"), this);
    m_open->setVisible(false);
    m_convert = new QPushButton(tr("Convert"), this);
    m_convert->setDefault(true);
    m_stop = new QPushButton(tr("Stop"), this);
    m_close = new QPushButton(tr("Close"), this);
    buttons->addWidget(m_open);
    buttons->addStretch();
    buttons->addWidget(m_convert);
    buttons->addWidget(m_stop);
    buttons->addWidget(m_close);
    outer->addLayout(buttons);

    connect(m_convert, &QPushButton::clicked, this, &ConvertDialog::convert);
    connect(m_stop, &QPushButton::clicked, this, [this] {
        if (m_job) {
            m_job->stop();
            m_status->setText(tr("Stopping…"));
        }
    });
    connect(m_close, &QPushButton::clicked, this, &ConvertDialog::reject);
    connect(m_open, &QPushButton::clicked, this, [this] {
        emit openModel(m_written);
        accept();
    });
    auto changed = [this](bool propose) {
        m_outcomeShown = false;
        if (propose)
            proposeOutput();
        validate();
    };
    connect(m_source, &QLineEdit::textChanged, this, [changed] { changed(true); });
    connect(m_type, &QComboBox::currentIndexChanged, this, [changed] { changed(true); });
    connect(m_output, &QLineEdit::textChanged, this, [changed] { changed(false); });
    validate();
}

// A conversion still running (the app is closing) is stopped and waited for by ~ConvertJob; its
// partial file is removed.
ConvertDialog::~ConvertDialog() = default;

void ConvertDialog::setSource(const QString& path) {
    m_source->setText(QDir::toNativeSeparators(path));
}

void ConvertDialog::proposeOutput() {
    // Replace the proposal as the choices change, never a name the user typed.
    if (!m_output->text().isEmpty() && m_output->text() != m_proposed)
        return;
    QString source = m_source->text().trimmed();
    while (source.size() > 1 && (source.endsWith('/') || source.endsWith('\\'))) source.chop(1);
    if (source.isEmpty()) {
        m_proposed.clear();
    } else {
        const QFileInfo info(source);
        const QString base = info.isDir() ? info.fileName() : info.completeBaseName();
        m_proposed =
            QDir(info.absolutePath())
                .filePath(QStringLiteral("%1-%2.gguf").arg(base, m_type->currentData().toString()));
    }
    m_output->setText(m_proposed);
}

QString ConvertDialog::problem() const {
    const QString source = m_source->text().trimmed();
    const QString output = m_output->text().trimmed();
    if (source.isEmpty())
        return tr("Choose the model to convert.");
    if (const QString p = modelPathProblem(source); !p.isEmpty())
        return p;
    const QFileInfo in(source);
    if (output.isEmpty() || !output.endsWith(QLatin1String(".gguf")))
        return tr("The output file name must end in .gguf.");
    const QFileInfo out(output);
    if (in.isFile() && out.absoluteFilePath() == in.absoluteFilePath())
        return tr("The output would replace the model being read; choose another name.");
    if (!out.absoluteDir().exists())
        return tr("The folder %1 does not exist.").arg(out.absolutePath());
    return {};
}

void ConvertDialog::validate() {
    const QString p = problem();
    m_convert->setEnabled(!running() && p.isEmpty());
    m_stop->setEnabled(running());
    // The last outcome stays shown until the choices change.
    if (!running() && !m_outcomeShown)
        m_status->setText(p);
}

void ConvertDialog::convert() {
    if (running() || !problem().isEmpty())
        return;
    const QString output = m_output->text().trimmed();
    if (QFileInfo::exists(output) &&
        QMessageBox::question(this, tr("Replace the file?"),
                              tr("%1 exists. Replace it with the converted model?").arg(output)) !=
            QMessageBox::Yes) {
        return;
    }
    const auto type = griffin::parseWeightType(m_type->currentData().toString().toStdString());
    m_written.clear();
    m_open->setVisible(false);
    m_progress->setValue(0);
    m_status->setText(tr("Converting… (chats go on meanwhile, more slowly)"));
    m_job = std::make_unique<ConvertJob>(m_source->text().trimmed(), *type, output);
    connect(m_job.get(), &ConvertJob::progress, this, [this](double f) {
        m_progress->setValue(static_cast<int>(f * 1000.0));
        if (m_job && !m_job->stopRequested()) {
            m_status->setText(tr("Converting… %1% (chats go on meanwhile, more slowly)")
                                  .arg(static_cast<int>(f * 100.0)));
        }
    });
    connect(m_job.get(), &ConvertJob::finished, this, &ConvertDialog::onFinished);
    m_job->start();
    validate();
}

void ConvertDialog::onFinished(const ConvertOutcome& outcome) {
    m_job.reset();  // its thread has ended or is about to: the join is immediate
    m_outcomeShown = true;
    m_status->setText(outcome.message);
    if (outcome.ok) {
        m_progress->setValue(m_progress->maximum());
        m_written = outcome.output;
        m_open->setVisible(true);
    } else {
        m_progress->setValue(0);
    }
    validate();
    emit conversionFinished(outcome);
}

void ConvertDialog::reject() {
    // Closing stops a conversion in progress (after asking): nothing half-written is left.
    if (m_job) {
        if (QMessageBox::question(this, tr("Stop the conversion?"),
                                  tr("The conversion is not finished. Stop it? No file is "
                                     "written.")) != QMessageBox::Yes) {
            return;
        }
        m_job->stop();
    }
    QDialog::reject();
}
