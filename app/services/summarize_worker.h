// SPDX-License-Identifier: Apache-2.0
// SummarizeWorker: long-document summarisation for the app, on the engine thread beside
// EngineWorker (whose model it uses). Sessions live in a folder per document, options and model,
// so Pause (a stop that keeps the session) and Resume — also after the app was closed —
// continue exactly where the run stopped.
#pragma once

#include <stop_token>

#include <QDateTime>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include "services/conversation.h"

class EngineWorker;

struct SummarizeRequest {
    QString path;
    QString strategy = QStringLiteral("auto");  // auto, stream, map-reduce, refine
    QString length = QStringLiteral("short");   // short, page, bullets, detailed
    QString focus;
    QString language = QStringLiteral("auto");  // auto (the document's) or a language name
    bool restart = false;  // discard a saved session of the same document and options
    std::stop_token stop;
};

struct SummarizeProgressInfo {
    QString phase;  // reading, prefilling, summarizing, combining, finishing, done
    qint64 chunk = 0, chunks = 0;
    int level = 0;
    qint64 bytesDone = 0, bytesTotal = 0;
    qint64 tokensDone = 0, tokensTotal = 0;
    double tokensPerS = 0.0;
    double etaS = -1.0;
    bool resumed = false;
};

struct SummarySectionInfo {
    qint64 index = 0;
    qint64 firstLine = 0, lastLine = 0;
    int firstPage = 0, lastPage = 0;  // PDF only
    qint64 tokens = 0;
    QString summary;
};

struct SummarizeOutcome {
    QString path;
    qint64 bytes = 0;
    QString sha256;
    QString encoding;  // "utf-8", ..., or "pdf (N pages)"
    QString language;  // asked for: "german", ..., a name as requested, or "unknown"
    QString strategy;  // as run
    QString length;
    QString focus;
    qint64 documentTokens = 0;
    QVector<SummarySectionInfo> sections;
    QString summary;
    QString markdown;
    bool resumed = false;
    double seconds = 0.0;
    QString fingerprint;
    // Stream: the state with the document, the request and the summary (for follow-ups that
    // still see the document); empty for the other strategies.
    QString statePath;
};

// A summarisation that was paused or interrupted (its session folder is kept): what Start needs
// to resume it.
struct InterruptedSummary {
    SummarizeRequest request;  // path, strategy, length, focus, language
    QString sessionDir;
    qint64 chunksDone = 0;
    QDateTime modified;
};
// The interrupted sessions under `sessionRoot`, newest first (reads a few small files).
QVector<InterruptedSummary> findInterruptedSummaries(const QString& sessionRoot);

// The languages a summary can be asked for besides "auto": "english", "german", ...
QStringList summaryLanguages();
// For people: "German"; "unknown" -> "language not detected"; other names as given.
QString summaryLanguageLabel(const QString& language);

// A conversation of kind "summary" for follow-up questions: the request and the summary as its
// first turn, the chunk summaries (numbered, with their lines or pages) in the system prompt so
// answers can cite them as [n], and the source recorded.
Conversation summaryConversation(const SummarizeOutcome& outcome, const GenerationParams& params,
                                 const QString& modelName);

Q_DECLARE_METATYPE(SummarizeRequest)
Q_DECLARE_METATYPE(SummarizeProgressInfo)
Q_DECLARE_METATYPE(SummarizeOutcome)

class SummarizeWorker : public QObject {
    Q_OBJECT

public:
    // `sessionRoot`: where session folders are kept (e.g. <app data>/summaries).
    SummarizeWorker(EngineWorker* engine, QString sessionRoot, QObject* parent = nullptr);
    // Fixed at construction: safe to read from any thread.
    const QString& sessionRoot() const { return m_sessionRoot; }

public slots:
    // Emits progress (at most ~10 per second, and at every phase or chunk change), then one of
    // finished, paused (the stop fired; the session is kept) or failed.
    void summarize(const SummarizeRequest& request);

    // Makes `stateFile` (SummarizeOutcome::statePath) the state of conversation `id`, whose
    // messages are the request and the summary: follow-ups then continue after the document.
    // Emits conversationSeeded.
    void seedConversation(const QString& id, const QString& systemPrompt,
                          const QVector<ChatMessageData>& messages, const QString& stateFile);

signals:
    void conversationSeeded(const QString& id, bool ok);
    void progress(const SummarizeProgressInfo& info);
    void finished(const SummarizeOutcome& outcome);
    void paused(const QString& path, const QString& message);
    void failed(const QString& path, const QString& message);

private:
    EngineWorker* m_engine;
    QString m_sessionRoot;
};
