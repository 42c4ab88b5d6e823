// SPDX-License-Identifier: Apache-2.0
// ServiceRuntime: the threads of the application services — the EngineWorker on one QThread and
// the StoreWriter on another — created together and shut down in order.
#pragma once

#include <QString>
#include <QThread>

#include "services/engine_worker.h"
#include "services/store_writer.h"

class ServiceRuntime {
public:
    // `conversationsDirectory` holds the conversation files and state snapshots.
    explicit ServiceRuntime(const QString& conversationsDirectory);
    // Stops both threads (after the job in progress; request its stop first) and waits.
    ~ServiceRuntime();
    ServiceRuntime(const ServiceRuntime&) = delete;
    ServiceRuntime& operator=(const ServiceRuntime&) = delete;

    EngineWorker* worker() const { return m_worker; }
    StoreWriter* writer() const { return m_writer; }
    const QString& conversationsDirectory() const { return m_directory; }

private:
    QString m_directory;
    QThread m_engineThread;
    QThread m_storeThread;
    EngineWorker* m_worker;
    StoreWriter* m_writer;
};

// Registers the value types that cross threads in queued connections. Call once.
void registerServiceMetaTypes();
