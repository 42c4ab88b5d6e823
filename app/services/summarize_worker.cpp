// SPDX-License-Identifier: Apache-2.0
#include "services/summarize_worker.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <nlohmann/json.hpp>

#include "griffin/summarize.h"
#include "services/engine_worker.h"
#include "services/pdf_text.h"

namespace {

QString hashFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&f);
    return QString::fromLatin1(hash.result().toHex());
}

}  // namespace

SummarizeWorker::SummarizeWorker(EngineWorker* engine, QString sessionRoot, QObject* parent)
    : QObject(parent), m_engine(engine), m_sessionRoot(std::move(sessionRoot)) {
    qRegisterMetaType<SummarizeRequest>();
    qRegisterMetaType<SummarizeProgressInfo>();
    qRegisterMetaType<SummarizeOutcome>();
}

void SummarizeWorker::summarize(const SummarizeRequest& request) {
    griffin::Model* model = m_engine->model();
    if (model == nullptr || m_engine->tokenizer() == nullptr) {
        emit failed(request.path, tr("No model is loaded."));
        return;
    }
    griffin::SummaryOptions options;
    const auto strategy = griffin::parseSummaryStrategy(request.strategy.toStdString());
    const auto length = griffin::parseSummaryLength(request.length.toStdString());
    if (!strategy || !length) {
        emit failed(request.path, tr("Unknown strategy or length."));
        return;
    }
    options.strategy = *strategy;
    options.length = *length;
    options.focus = request.focus.toStdString();
    const auto language = griffin::normalizeSummaryLanguage(request.language.toStdString());
    if (!language) {
        emit failed(request.path, tr("Unknown language \"%1\".").arg(request.language));
        return;
    }
    options.language = *language;

    // The document: PDF through Qt PDF (page numbers kept), everything else by the engine.
    const bool isPdf = request.path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive);
    std::optional<PdfText> pdf;
    std::optional<griffin::Document> document;
    if (isPdf) {
        auto text = extractPdfText(request.path);
        if (!text) {
            emit failed(request.path, QString::fromStdString(text.error().message));
            return;
        }
        pdf = std::move(*text);
        document = griffin::Document::fromText(
            pdf->text.toStdString(), QFileInfo(request.path).fileName().toStdString() + ".txt");
    } else {
        auto opened = griffin::Document::open(request.path.toStdString());
        if (!opened) {
            emit failed(request.path, QString::fromStdString(opened.error().message));
            return;
        }
        document = std::move(*opened);
    }

    const std::string fingerprint = model->info().fingerprint;
    const QString key =
        QString::fromStdString(griffin::summarySessionKey(document->info(), options, fingerprint));
    const QString sessionDir = m_sessionRoot + QLatin1Char('/') + key;
    if (request.restart)
        QDir(sessionDir).removeRecursively();
    QDir().mkpath(m_sessionRoot);

    // What the app needs to offer Resume later (the engine's session.json has no path for PDF
    // text): written once per session.
    QDir().mkpath(sessionDir);
    {
        const nlohmann::json j = {
            {"path", QFileInfo(request.path).absoluteFilePath().toStdString()},
            {"strategy", request.strategy.toStdString()},
            {"length", request.length.toStdString()},
            {"focus", request.focus.toStdString()},
            {"language", *language}};
        QFile f(sessionDir + QStringLiteral("/request.json"));
        if (!f.exists() && f.open(QIODevice::WriteOnly))
            f.write(QByteArray::fromStdString(j.dump(2)));
    }

    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    griffin::SummaryPhase lastPhase = griffin::SummaryPhase::Done;
    int64_t lastChunk = -1;
    auto onProgress = [&](const griffin::SummaryProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (p.phase == lastPhase && p.chunk == lastChunk &&
            now - last < std::chrono::milliseconds(100))
            return;
        last = now;
        lastPhase = p.phase;
        lastChunk = p.chunk;
        SummarizeProgressInfo info;
        info.phase = QString::fromLatin1(griffin::summaryPhaseName(p.phase));
        info.chunk = p.chunk;
        info.chunks = p.chunks;
        info.level = p.level;
        info.bytesDone = p.bytesDone;
        info.bytesTotal = p.bytesTotal;
        info.tokensDone = p.tokensDone;
        info.tokensTotal = p.tokensTotal;
        info.tokensPerS = p.tokensPerS;
        info.etaS = p.etaS;
        info.resumed = p.resumed;
        emit progress(info);
    };
    auto result = griffin::summarize(*model, *m_engine->tokenizer(), *document, options,
                                     sessionDir.toStdString(), onProgress, request.stop);
    if (!result) {
        if (result.error().code == griffin::ErrorCode::Cancelled) {
            emit paused(request.path, tr("Paused; Resume continues from here (also after the "
                                         "app was closed)."));
        } else {
            emit failed(request.path, QString::fromStdString(result.error().message));
        }
        return;
    }

    SummarizeOutcome out;
    out.path = QFileInfo(request.path).absoluteFilePath();
    if (pdf) {
        out.bytes = QFileInfo(request.path).size();
        out.sha256 = hashFile(request.path);
        out.encoding = tr("pdf (%n page(s))", nullptr, pdf->pages);
    } else {
        out.bytes = result->source.bytes;
        out.sha256 = QString::fromStdString(result->source.sha256);
        out.encoding = QString::fromLatin1(griffin::textEncodingName(result->source.encoding));
    }
    out.strategy = QString::fromLatin1(griffin::summaryStrategyName(result->strategy));
    out.language = QString::fromStdString(result->language);
    out.length = request.length;
    out.focus = request.focus;
    out.documentTokens = result->documentTokens;
    for (const griffin::SummarySection& s : result->sections) {
        SummarySectionInfo info;
        info.index = s.index;
        info.firstLine = s.firstLine;
        info.lastLine = s.lastLine;
        if (pdf) {
            info.firstPage = pageOfLine(*pdf, s.firstLine);
            info.lastPage = pageOfLine(*pdf, s.lastLine);
        }
        info.tokens = s.tokens;
        info.summary = QString::fromStdString(s.summary);
        out.sections.push_back(std::move(info));
    }
    out.summary = QString::fromStdString(result->summary);
    out.markdown = QString::fromStdString(griffin::summaryToMarkdown(*result));
    out.resumed = result->resumed;
    out.seconds = result->seconds;
    out.fingerprint = QString::fromStdString(fingerprint);
    if (result->strategy == griffin::SummaryStrategy::Stream &&
        QFileInfo::exists(sessionDir + QStringLiteral("/final.state")))
        out.statePath = sessionDir + QStringLiteral("/final.state");
    emit finished(out);
}

void SummarizeWorker::seedConversation(const QString& id, const QString& systemPrompt,
                                       const QVector<ChatMessageData>& messages,
                                       const QString& stateFile) {
    emit conversationSeeded(id, m_engine->seedConversation(id, systemPrompt, messages, stateFile));
}

QStringList summaryLanguages() {
    QStringList out;
    for (const std::string& name : griffin::knownSummaryLanguages())
        out << QString::fromStdString(name);
    return out;
}

QString summaryLanguageLabel(const QString& language) {
    if (language.isEmpty() || language == QLatin1String("unknown"))
        return QObject::tr("language not detected");
    if (language == QLatin1String("english"))
        return QObject::tr("English");
    return QString::fromStdString(griffin::summaryLanguageInstructionName(language.toStdString()));
}

Conversation summaryConversation(const SummarizeOutcome& outcome, const GenerationParams& params,
                                 const QString& modelName) {
    const QString name = QFileInfo(outcome.path).fileName();
    QString system = QObject::tr("You answer questions about the document \"%1\".").arg(name);
    if (!outcome.sections.isEmpty()) {
        system += QObject::tr(" It was summarised section by section:");
        for (const SummarySectionInfo& s : outcome.sections) {
            const QString range = s.firstPage > 0
                                      ? QObject::tr("pages %1-%2").arg(s.firstPage).arg(s.lastPage)
                                      : QObject::tr("lines %1-%2").arg(s.firstLine).arg(s.lastLine);
            system += QStringLiteral("\n[%1] (%2) %3").arg(s.index + 1).arg(range, s.summary);
        }
        system += QObject::tr(
            "\nBase your answers on these sections and name the ones you used, "
            "as [1], [2].");
    }
    Conversation c = Conversation::create(params, system);
    c.kind = QStringLiteral("summary");
    c.title = QObject::tr("Summary: %1").arg(name);
    c.modelName = modelName;
    c.modelFingerprint = outcome.fingerprint;
    ChatMessageData ask;
    ask.role = ChatMessageData::Role::User;
    ask.text = outcome.focus.isEmpty()
                   ? QObject::tr("Summarise %1.").arg(name)
                   : QObject::tr("Summarise %1, answering: %2").arg(name, outcome.focus);
    ask.time = QDateTime::currentDateTimeUtc();
    ChatMessageData answer;
    answer.role = ChatMessageData::Role::Model;
    answer.text = outcome.summary;
    answer.time = ask.time;
    c.messages = {ask, answer};
    SummarySourceData src;
    src.path = outcome.path;
    src.bytes = outcome.bytes;
    src.sha256 = outcome.sha256;
    src.encoding = outcome.encoding;
    src.language = outcome.language;
    src.strategy = outcome.strategy;
    src.length = outcome.length;
    src.focus = outcome.focus;
    src.documentTokens = outcome.documentTokens;
    for (const SummarySectionInfo& s : outcome.sections) {
        src.sections.push_back(
            {s.index, s.firstLine, s.lastLine, s.firstPage, s.lastPage, s.tokens, s.summary});
    }
    src.summary = outcome.summary;
    c.source = std::move(src);
    return c;
}

QVector<InterruptedSummary> findInterruptedSummaries(const QString& sessionRoot) {
    QVector<InterruptedSummary> out;
    const QDir root(sessionRoot);
    for (const QFileInfo& dir : root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        auto readJson = [](const QString& file) {
            QFile f(file);
            if (!f.open(QIODevice::ReadOnly) || f.size() > (qint64{64} << 20))
                return nlohmann::json();
            const QByteArray bytes = f.readAll();
            return nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size(),
                                         nullptr, false);
        };
        const nlohmann::json request =
            readJson(QDir(dir.absoluteFilePath()).filePath(QStringLiteral("request.json")));
        const nlohmann::json session =
            readJson(QDir(dir.absoluteFilePath()).filePath(QStringLiteral("session.json")));
        if (!request.is_object() || !session.is_object())
            continue;
        if (const auto status = session.find("status");
            status != session.end() && status->is_string() && *status == "done")
            continue;
        // A key of the wrong type reads as missing (these files may have been edited).
        auto text = [&request](const char* key, const char* fallback) {
            const auto it = request.find(key);
            return QString::fromStdString(it != request.end() && it->is_string()
                                              ? it->get<std::string>()
                                              : std::string(fallback));
        };
        InterruptedSummary s;
        s.request.path = text("path", "");
        s.request.strategy = text("strategy", "auto");
        s.request.length = text("length", "short");
        s.request.focus = text("focus", "");
        s.request.language = text("language", "auto");  // absent in older sessions
        s.sessionDir = dir.absoluteFilePath();
        if (auto chunks = session.find("chunks"); chunks != session.end() && chunks->is_array())
            s.chunksDone = static_cast<qint64>(chunks->size());
        s.modified =
            QFileInfo(QDir(dir.absoluteFilePath()).filePath(QStringLiteral("session.json")))
                .lastModified();
        if (!s.request.path.isEmpty())
            out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const InterruptedSummary& a, const InterruptedSummary& b) {
        return a.modified > b.modified;
    });
    return out;
}
