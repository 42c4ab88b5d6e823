// SPDX-License-Identifier: Apache-2.0
#include "services/convert_job.h"

#include <chrono>

#include <QCoreApplication>

#include "griffin/gguf.h"

ConvertOutcome ConvertJob::run(const QString& input, griffin::WeightType type,
                               const QString& output, std::stop_token stop,
                               const std::function<void(double)>& progress) {
    griffin::QuantizeOptions options;
    options.stop = stop;
    options.progress = progress;
    const auto started = std::chrono::steady_clock::now();
    auto summary = griffin::quantizeModel(input.toStdString(), type, output.toStdString(), options);
    ConvertOutcome outcome;
    outcome.output = output;
    if (!summary) {
        outcome.cancelled = summary.error().code == griffin::ErrorCode::Cancelled;
        outcome.message = outcome.cancelled ? QCoreApplication::translate(
                                                  "ConvertJob", "Stopped; no file was written.")
                                            : QString::fromStdString(summary.error().message);
        return outcome;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    outcome.ok = true;
    outcome.message =
        QCoreApplication::translate("ConvertJob", "Wrote %1: %2 tensors (%3), %4 MiB in %5 s.")
            .arg(output)
            .arg(summary->tensors)
            .arg(QString::fromStdString(summary->weightTypes))
            .arg(static_cast<double>(summary->fileBytes) / (1 << 20), 0, 'f', 1)
            .arg(seconds, 0, 'f', 1);
    return outcome;
}

ConvertJob::ConvertJob(QString input, griffin::WeightType type, QString output)
    : m_input(std::move(input)), m_type(type), m_output(std::move(output)) {
    qRegisterMetaType<ConvertOutcome>();
}

void ConvertJob::start() {
    m_thread = std::jthread([this](std::stop_token stop) {
        int lastPermille = -1;
        const ConvertOutcome outcome = run(m_input, m_type, m_output, stop, [&](double f) {
            // At most 1000 progress signals per job, whatever the model's size.
            const int permille = static_cast<int>(f * 1000.0);
            if (permille != lastPermille) {
                lastPermille = permille;
                emit progress(f);
            }
        });
        emit finished(outcome);
    });
}

ConvertJob::~ConvertJob() {
    m_thread.request_stop();
    if (m_thread.joinable())
        m_thread.join();
}
