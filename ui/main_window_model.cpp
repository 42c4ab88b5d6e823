// SPDX-License-Identifier: Apache-2.0
// MainWindow, continued: the model — loading it with the settings' backend, weights and threads,
// the open dialogs and recent models, and the status bar that describes it.
#include <QFileDialog>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressDialog>
#include <spdlog/spdlog.h>

#include "main_window.h"

namespace {

QString bytesText(qint64 bytes) {
    if (bytes >= (qint64{1} << 30))
        return QStringLiteral("%1 GiB").arg(bytes / double(1 << 30), 0, 'f', 2);
    if (bytes >= (1 << 20))
        return QStringLiteral("%1 MiB").arg(bytes / double(1 << 20), 0, 'f', 1);
    return QStringLiteral("%1 KiB").arg(bytes / 1024.0, 0, 'f', 0);
}

}  // namespace

std::shared_ptr<spdlog::logger> MainWindow::log() {
    auto l = spdlog::get("ui");
    return l ? l : spdlog::default_logger();
}

// ---- model -------------------------------------------------------------------------------

void MainWindow::loadModel(const QString& path) {
    m_loadStop.request_stop();
    m_loadStop = std::stop_source();
    m_loadingPath = path;
    if (m_loadProgress == nullptr) {
        m_loadProgress = new QProgressDialog(tr("Loading the model…"), tr("Cancel"), 0, 100, this);
        m_loadProgress->setObjectName(QStringLiteral("loadProgress"));
        m_loadProgress->setWindowModality(Qt::WindowModal);
        m_loadProgress->setMinimumDuration(300);
        connect(m_loadProgress, &QProgressDialog::canceled, this,
                [this] { m_loadStop.request_stop(); });
    }
    m_loadProgress->setValue(0);
    m_statusModel->setText(tr("Loading model…"));
    emit loadModelRequested(path, m_settings.backend, m_loadStop.get_token(), m_settings.weights,
                            m_settings.cpuThreads);
    updateActions();
}

void MainWindow::onModelLoaded(const ModelSummary& summary) {
    m_model = summary;
    if (m_loadProgress != nullptr)
        m_loadProgress->reset();
    if (!summary.isDemo) {
        m_settings.addRecentModel(summary.path);
        rebuildRecentMenu();
        if (auto s = saveSettings(m_settings, m_settingsPath); !s) {
            log()->warn("{}", s.error().message);
        }
    }
    log()->info("model ready: {} ({})", summary.name.toStdString(), summary.path.toStdString());
    clearError();
    updateStatus();
    updateActions();
    emit modelReady();
}

void MainWindow::onModelFailed(const QString& message) {
    if (m_loadProgress != nullptr)
        m_loadProgress->reset();
    showError(tr("The model could not be loaded: %1").arg(message));
    updateStatus();
    updateActions();
    emit modelLoadFailed(message);
}

void MainWindow::openGgufDialog() {
    const QString file = QFileDialog::getOpenFileName(
        this, tr("Open a RecurrentGemma GGUF file (made by griffin quantize)"), QString(),
        tr("GGUF models (*.gguf)"));
    if (!file.isEmpty())
        inspectModel(file);
}

void MainWindow::openModelDialog() {
    const QString dir = QFileDialog::getExistingDirectory(
        this,
        tr("Open a RecurrentGemma model folder (config.json, model.safetensors, tokenizer.model)"));
    if (!dir.isEmpty())
        inspectModel(dir);
}

void MainWindow::inspectModel(const QString& path) {
    emit inspectModelRequested(path, m_settings.weights);
}

void MainWindow::onInspected(const QString& path, const QString& description, qint64 weightBytes,
                             qint64 stateBytes) {
    const auto answer = QMessageBox::question(
        this, tr("Load this model?"),
        tr("%1\n\n%2\n\nIt needs about %3 of memory for the weights plus %4 per open "
           "conversation.")
            .arg(path, description, bytesText(weightBytes), bytesText(stateBytes)));
    if (answer == QMessageBox::Yes)
        loadModel(path);
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    for (const QString& path : m_settings.recentModels) {
        m_recentMenu->addAction(path, this, [this, path] { inspectModel(path); });
    }
    m_recentMenu->setEnabled(!m_settings.recentModels.isEmpty());
}

void MainWindow::updateStatus() {
    if (!m_model) {
        m_statusModel->setText(tr("No model"));
        m_statusBackend->clear();
        m_statusWeights->clear();
        m_statusMemory->clear();
        return;
    }
    if (m_model->isDemo) {
        m_statusModel->setText(tr("Model: demo (built-in)"));
        m_statusModel->setToolTip(
            tr("The small demo model knows word meanings and little else. "
               "Open a RecurrentGemma model (File → Open model) for real "
               "answers."));
    } else {
        m_statusModel->setText(tr("Model: %1").arg(m_model->name));
        m_statusModel->setToolTip(m_model->path);
    }
    // The Vulkan device details are long: they go to the tooltip.
    const bool vulkan = m_model->backend.startsWith(QLatin1String("Vulkan"));
    QString backend = m_model->backend;
    if (m_model->threads == 1)
        backend = tr("%1, 1 thread").arg(backend);
    else if (m_model->threads > 1)
        backend = tr("%1, %2 threads").arg(backend).arg(m_model->threads);
    // Auto's reason up to its details (those are in the tooltip), e.g. "Auto chose the CPU: no
    // GPU found".
    QString reason = m_model->backendNote;
    for (const QString& cut : {QStringLiteral(";"), QStringLiteral(" (")}) {
        if (const qsizetype at = reason.indexOf(cut); at > 0)
            reason.truncate(at);
    }
    m_statusBackend->setToolTip(m_model->backendNote);
    m_statusBackend->setText(reason.isEmpty() || vulkan
                                 ? tr("Backend: %1").arg(backend)
                                 : tr("Backend: %1 (%2)").arg(backend, reason));
    m_statusWeights->setText(
        m_model->weightsNote.isEmpty()
            ? tr("Weights: %1").arg(m_model->weights)
            : tr("Weights: %1 (%2)").arg(m_model->weights, m_model->weightsNote));
    m_statusWeights->setToolTip(tr("Tensors in memory: %1 (%2); the matrices' type is set in "
                                   "Settings → Weights")
                                    .arg(m_model->weightTypes, bytesText(m_model->weightBytes)));
    m_statusMemory->setText(tr("State: %1").arg(bytesText(m_model->stateBytes)));
    if (m_lastStats) {
        m_statusSpeed->setText(tr("%1 tok/s").arg(m_lastStats->decodeTokensPerS, 0, 'f', 1));
    }
}
