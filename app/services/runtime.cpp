// SPDX-License-Identifier: Apache-2.0
#include "services/runtime.h"

#include <QDir>

ServiceRuntime::ServiceRuntime(const QString& conversationsDirectory)
    : m_directory(conversationsDirectory) {
    registerServiceMetaTypes();
    QDir().mkpath(m_directory);
    m_worker = new EngineWorker(m_directory);
    m_worker->moveToThread(&m_engineThread);
    QObject::connect(&m_engineThread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_engineThread.setObjectName(QStringLiteral("engine"));
    m_engineThread.start();
    m_writer = new StoreWriter(m_directory);
    m_writer->moveToThread(&m_storeThread);
    QObject::connect(&m_storeThread, &QThread::finished, m_writer, &QObject::deleteLater);
    m_storeThread.setObjectName(QStringLiteral("store"));
    m_storeThread.start();
}

ServiceRuntime::~ServiceRuntime() {
    // The store goes last so that saves queued by the engine's final signals still happen.
    m_engineThread.quit();
    m_engineThread.wait();
    m_storeThread.quit();
    m_storeThread.wait();
}

void registerServiceMetaTypes() {
    qRegisterMetaType<ModelSummary>();
    qRegisterMetaType<GenerationRequest>();
    qRegisterMetaType<std::stop_token>();
    qRegisterMetaType<std::vector<int32_t>>();
    qRegisterMetaType<MessageStats>();
    qRegisterMetaType<Conversation>();
    qRegisterMetaType<GenerationParams>();
    qRegisterMetaType<SafetySettings>();
}
