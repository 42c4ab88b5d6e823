// SPDX-License-Identifier: Apache-2.0
// ConvertJob: `griffin quantize` for the app (Tools → Convert a model). It runs on a thread of
// its own, not the EngineWorker's, so chatting goes on during a conversion that can take minutes;
// progress and the outcome come back as queued signals, and a stop leaves no file behind.
#pragma once

#include <functional>
#include <stop_token>
#include <thread>

#include <QObject>
#include <QString>

#include "griffin/model.h"

struct ConvertOutcome {
    bool ok = false;
    bool cancelled = false;
    QString message;  // the error, or what was written ("412 tensors (q8_0), 2.68 GiB in 41 s")
    QString output;
};

class ConvertJob : public QObject {
    Q_OBJECT

public:
    // Converts `input` (a model folder or .gguf file) to `type` into `output` (a .gguf path) on
    // the calling thread; `progress` gets the fraction done. What a ConvertJob runs.
    static ConvertOutcome run(const QString& input, griffin::WeightType type, const QString& output,
                              std::stop_token stop,
                              const std::function<void(double)>& progress = {});

    ConvertJob(QString input, griffin::WeightType type, QString output);
    // Starts run() on a thread of its own and returns at once; `progress` and then `finished`
    // come from that thread (queued to receivers on others). Connect to them first. Once only.
    void start();
    // Stops the conversion if it is still running and waits for its thread: deleting the job
    // when `finished` arrives, or when the app quits during a conversion, leaves nothing behind.
    ~ConvertJob() override;
    void stop() { m_thread.request_stop(); }
    bool stopRequested() const { return m_thread.get_stop_token().stop_requested(); }

signals:
    void progress(double fraction);
    void finished(const ConvertOutcome& outcome);

private:
    QString m_input;
    griffin::WeightType m_type;
    QString m_output;
    std::jthread m_thread;
};

Q_DECLARE_METATYPE(ConvertOutcome)
