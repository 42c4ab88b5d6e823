// SPDX-License-Identifier: Apache-2.0
#include "services/engine_worker.h"

#include <algorithm>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QThread>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "atomic_file.h"
#include "default_model.h"
#include "griffin/chat_template.h"
#include "griffin/generator.h"
#include "griffin/safety_judge.h"

namespace {

constexpr size_t kCachedConversations = 4;
constexpr size_t kSnapshotsPerConversation = 6;

std::shared_ptr<spdlog::logger> log() {
    auto l = spdlog::get("app");
    return l ? l : spdlog::default_logger();
}

uint64_t hashIds(const std::vector<int32_t>& ids, size_t count) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < count; ++i) {
        h ^= static_cast<uint32_t>(ids[i]);
        h *= 0x100000001b3ull;
    }
    return h;
}

// Why a model cannot chat: a folder without tokenizer.model, or a .gguf without one embedded.
QString missingTokenizerMessage(const QString& path) {
    if (path.endsWith(QLatin1String(".gguf"))) {
        return QCoreApplication::translate("EngineWorker",
                                           "%1 has no embedded tokenizer; convert the model again "
                                           "with griffin quantize from a folder holding "
                                           "tokenizer.model.")
            .arg(path);
    }
    return QCoreApplication::translate("EngineWorker",
                                       "%1 has no tokenizer.model; copy it from the model's "
                                       "download into the folder.")
        .arg(path);
}

// The type the "weights" setting converts a model's matrices to: the chosen type when the model
// stores them wider, else none (a narrower file keeps its type: converting it up would cost
// memory and speed and restore nothing).
std::optional<griffin::WeightType> conversionFor(const QString& weights,
                                                 const griffin::ModelInspection& model) {
    const auto wanted = griffin::parseWeightType(weights.toStdString());
    if (!wanted || !model.matrixType ||
        griffin::weightTypeBits(*wanted) >= griffin::weightTypeBits(*model.matrixType)) {
        return std::nullopt;
    }
    return wanted;
}

// The weights' memory once loaded with `to` (approximate where the matrices mix types).
qint64 loadedWeightBytes(const griffin::ModelInspection& model,
                         std::optional<griffin::WeightType> to) {
    if (!to)
        return model.weightBytes;
    const double scale = griffin::weightTypeBits(*to) / griffin::weightTypeBits(*model.matrixType);
    return model.weightBytes - model.matrixBytes +
           static_cast<qint64>(static_cast<double>(model.matrixBytes) * scale);
}

size_t commonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

// `prefixes`: GenerationRequest::modelPrefixes (model-facing text before user messages).
std::vector<griffin::ChatMessage> toEngineMessages(const QVector<ChatMessageData>& messages,
                                                   const QVector<QString>& prefixes = {}) {
    std::vector<griffin::ChatMessage> out;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const ChatMessageData& m = messages[i];
        if (isRefusedBySafety(m))
            continue;  // never shown to the model (and it has no reply to alternate with)
        const bool user = m.role == ChatMessageData::Role::User;
        const QString text = user && i < prefixes.size() ? prefixes[i] + m.text : m.text;
        out.emplace_back(user ? griffin::Role::User : griffin::Role::Model, text.toStdString(),
                         m.tokens);
    }
    return out;
}

// One safety decision as stored in a message's `safety` list.
QString safetyNote(const griffin::safety::Finding& f, const char* action,
                   const char* direction = nullptr) {
    nlohmann::json j = {{"filter", f.filter}, {"category", f.category}, {"rule", f.ruleId},
                        {"action", action},   {"begin", f.begin},       {"end", f.end}};
    if (direction != nullptr)
        j["direction"] = direction;
    return QString::fromStdString(j.dump());
}

}  // namespace

void applySampling(const GenerationParams& p, griffin::SamplingParams* out) {
    out->temperature = static_cast<float>(p.temperature);
    out->topK = p.topK;
    out->topP = static_cast<float>(p.topP);
    out->minP = static_cast<float>(p.minP);
    out->repeatPenalty = static_cast<float>(p.repeatPenalty);
    out->seed = static_cast<uint64_t>(p.seed);
}

EngineWorker::EngineWorker(QString stateDirectory, QObject* parent)
    : QObject(parent), m_stateDirectory(std::move(stateDirectory)) {
    // Safety filters on every reply: the built-in rules with the default settings until
    // applySafetySettings; without them (a broken install) replies are not filtered and the log
    // says so.
    m_safety = buildSafetyFilters(SafetySettings{});
    for (const QString& problem : m_safety.problems) log()->error("{}", problem.toStdString());
}

EngineWorker::~EngineWorker() = default;

void EngineWorker::findDevices() {
    QStringList labels, values;
    for (const griffin::ComputeDevice& d : griffin::listComputeDevices()) {
        QString label = tr("Vulkan: %1 (%2)")
                            .arg(QString::fromStdString(d.name), QString::fromStdString(d.type));
        if (!d.unsuitable.empty())
            label += tr(" — unsuitable: %1").arg(QString::fromStdString(d.unsuitable));
        labels << label;
        values << QStringLiteral("vulkan:%1").arg(d.index);
    }
    emit devicesFound(labels, values);
}

void EngineWorker::inspectModel(const QString& path, const QString& weights) {
    auto inspection = griffin::inspectModel(path.toStdString());
    if (!inspection) {
        emit modelInspectionFailed(path, QString::fromStdString(inspection.error().message));
        return;
    }
    if (!inspection->hasTokenizer) {
        emit modelInspectionFailed(path, missingTokenizerMessage(path));
        return;
    }
    const griffin::ModelConfig& c = inspection->config;
    QString description = tr("%1 layers, width %2, vocabulary %3, %4 weights")
                              .arg(c.numLayers)
                              .arg(c.width)
                              .arg(c.vocabSize)
                              .arg(QString::fromStdString(inspection->weightTypes));
    const auto to = conversionFor(weights, *inspection);
    if (to) {
        description += tr(", converted to %1 while loading (Settings → Weights)")
                           .arg(QString::fromLatin1(griffin::weightTypeName(*to)));
    }
    emit modelInspected(path, description, loadedWeightBytes(*inspection, to),
                        inspection->stateBytes);
}

int EngineWorker::threadsFor(int chosen) {
    return chosen > 0 ? chosen : std::max(1, QThread::idealThreadCount());
}

void EngineWorker::loadModel(const QString& path, const QString& backend, std::stop_token stop,
                             const QString& weights, int threads) {
    const auto resolved = griffin::app::resolveModelPath(path.toStdString());
    if (!resolved) {
        emit modelLoadFailed(
            tr("The demo model is not installed. Open a RecurrentGemma model "
               "folder instead (File → Open model)."));
        return;
    }
    auto inspection = griffin::inspectModel(*resolved);
    if (!inspection) {
        emit modelLoadFailed(QString::fromStdString(inspection.error().message));
        return;
    }
    if (!inspection->hasTokenizer) {
        emit modelLoadFailed(
            missingTokenizerMessage(QString::fromStdString(inspection->path.string())));
        return;
    }
    griffin::LoadOptions options;
    options.stop = stop;
    options.threads = threadsFor(threads);
    options.quantize = conversionFor(weights, *inspection);
    // "vulkan" = the best device, "vulkan:N" = device N, "auto" = the best GPU, else the CPU.
    QString autoNote;
    if (backend == QLatin1String("vulkan") || backend.startsWith(QLatin1String("vulkan:"))) {
        options.backend = griffin::BackendKind::Vulkan;
        options.device = backend.section(QLatin1Char(':'), 1).toStdString();
    } else if (backend == QLatin1String("auto")) {
        const griffin::BackendChoice choice =
            griffin::chooseAutoBackend(griffin::listComputeDevices());
        options.backend = choice.backend;
        options.device = choice.device;
        autoNote = tr("Auto chose %1").arg(QString::fromStdString(choice.reason));
    }
    options.progress = [this](double f) { emit modelLoadProgress(f); };
    auto model = griffin::Model::load(*resolved, options);
    if (!model && !autoNote.isEmpty() && options.backend == griffin::BackendKind::Vulkan &&
        model.error().code != griffin::ErrorCode::Cancelled) {
        // Auto never fails for want of a GPU: the CPU backend takes over, and the note says why.
        const QString why = QString::fromStdString(model.error().message);
        log()->warn("auto: the Vulkan backend failed ({}); using the CPU", why.toStdString());
        options.backend = griffin::BackendKind::Cpu;
        options.device.clear();
        autoNote = tr("Auto chose the CPU: the GPU could not be used (%1)").arg(why);
        model = griffin::Model::load(*resolved, options);
    }
    if (!model) {
        emit modelLoadFailed(QString::fromStdString(model.error().message));
        return;
    }
    auto tokenizer = griffin::Tokenizer::loadForModel((*model)->info().path);
    if (!tokenizer) {
        emit modelLoadFailed(QString::fromStdString(tokenizer.error().message));
        return;
    }
    if (!griffin::ChatTemplate::supports(**tokenizer)) {
        emit modelLoadFailed(
            tr("This tokenizer has no <start_of_turn>/<end_of_turn> pieces, so "
               "the model cannot chat (is it an instruction-tuned model?)."));
        return;
    }
    if ((*tokenizer)->vocabSize() > (*model)->logitsSize()) {
        emit modelLoadFailed(tr("The tokenizer does not belong to this model (%1 pieces, the "
                                "model has %2 rows).")
                                 .arg((*tokenizer)->vocabSize())
                                 .arg((*model)->logitsSize()));
        return;
    }
    m_cache.clear();
    m_model = std::move(*model);
    m_tokenizer = std::move(*tokenizer);
    const griffin::ModelInfo& info = m_model->info();
    m_summary = ModelSummary{};
    m_summary.path = QString::fromStdString(info.path.string());
    m_summary.isDemo = griffin::app::isDefaultModel(info.path);
    m_summary.name =
        m_summary.isDemo ? QStringLiteral("demo") : QFileInfo(m_summary.path).fileName();
    m_summary.fingerprint = QString::fromStdString(info.fingerprint);
    m_summary.backend = QStringLiteral("CPU");
    if (info.backend == griffin::BackendKind::Vulkan) {
        // The device name without its driver details (those go to the note's tooltip text).
        const QString device = QString::fromStdString(info.device);
        m_summary.backend =
            QStringLiteral("Vulkan (%1)").arg(device.section(QStringLiteral(" ("), 0, 0));
        m_summary.backendNote = device;
    }
    if (!autoNote.isEmpty())
        m_summary.backendNote = autoNote;
    m_summary.weightTypes = QString::fromStdString(info.weightTypes);
    if (inspection->matrixType) {
        const auto matrices = options.quantize ? options.quantize : inspection->matrixType;
        m_summary.weights = QString::fromLatin1(griffin::weightTypeName(*matrices));
        if (options.quantize) {
            m_summary.weightsNote =
                tr("converted from %1 while loading")
                    .arg(QString::fromLatin1(griffin::weightTypeName(*inspection->matrixType)));
        }
    }
    m_summary.threads = info.backend == griffin::BackendKind::Cpu ? options.threads : 0;
    m_summary.parameters = info.embeddingParams + info.nonEmbeddingParams;
    m_summary.weightBytes = info.weightBytes;
    m_summary.stateBytes = info.stateBytes;
    emit modelLoaded(m_summary);
}

void EngineWorker::forgetConversation(const QString& conversationId) {
    m_cache.erase(std::remove_if(m_cache.begin(), m_cache.end(),
                                 [&](const Cached& c) { return c.id == conversationId; }),
                  m_cache.end());
}

EngineWorker::Cached& EngineWorker::cacheFor(const QString& id) {
    auto it =
        std::find_if(m_cache.begin(), m_cache.end(), [&](const Cached& c) { return c.id == id; });
    if (it != m_cache.end()) {
        Cached c = std::move(*it);
        m_cache.erase(it);
        m_cache.push_front(std::move(c));
    } else {
        m_cache.push_front(Cached{id, m_model->newState(), {}, {}});
        while (m_cache.size() > kCachedConversations) m_cache.pop_back();
    }
    return m_cache.front();
}

std::vector<int32_t> EngineWorker::restoreLongestPrefix(Cached& c,
                                                        const std::vector<int32_t>& ids) {
    auto isPrefix = [&](const std::vector<int32_t>& p) {
        return p.size() <= ids.size() && commonPrefix(p, ids) == p.size();
    };
    // Candidates: the live state, the snapshots, the snapshot on disk; the longest prefix wins.
    size_t best = isPrefix(c.fed) ? c.fed.size() : 0;
    const std::pair<std::vector<int32_t>, griffin::State>* bestSnapshot = nullptr;
    for (const auto& snap : c.snapshots) {
        if (isPrefix(snap.first) && snap.first.size() > best) {
            best = snap.first.size();
            bestSnapshot = &snap;
        }
    }
    if (bestSnapshot != nullptr) {
        c.state = bestSnapshot->second.clone();
        c.fed = bestSnapshot->first;
    } else if (!isPrefix(c.fed) || c.fed.empty()) {
        if (!tryLoadPersisted(c, ids)) {
            c.state.reset();
            c.fed.clear();
        }
    }
    return std::vector<int32_t>(ids.begin() + static_cast<ptrdiff_t>(c.fed.size()), ids.end());
}

bool EngineWorker::tryLoadPersisted(Cached& c, const std::vector<int32_t>& ids) {
    if (m_stateDirectory.isEmpty())
        return false;
    const QString base = m_stateDirectory + QLatin1Char('/') + c.id + QStringLiteral(".state");
    QFile metaFile(base + QStringLiteral(".meta"));
    if (!metaFile.open(QIODevice::ReadOnly))
        return false;
    try {
        const auto meta = nlohmann::json::parse(metaFile.readAll().toStdString());
        const size_t position = meta.at("position").get<size_t>();
        if (meta.at("fingerprint").get<std::string>() != m_model->info().fingerprint ||
            position > ids.size() ||
            meta.at("ids_hash").get<uint64_t>() != hashIds(ids, position)) {
            return false;  // another model or another history: re-prefill from the transcript
        }
        auto state = m_model->loadState(base.toStdString());
        // A seeded state holds more than its ids show (state_position, e.g. a document).
        const size_t statePosition = meta.value("state_position", position);
        if (!state || static_cast<size_t>(state->position()) != statePosition)
            return false;
        c.state = std::move(*state);
        c.fed.assign(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(position));
        return true;
    } catch (const std::exception& e) {
        log()->warn("ignoring state snapshot {}: {}", base.toStdString(), e.what());
        return false;
    }
}

void EngineWorker::persist(const Cached& c) {
    if (m_stateDirectory.isEmpty())
        return;
    QDir().mkpath(m_stateDirectory);
    const QString base = m_stateDirectory + QLatin1Char('/') + c.id + QStringLiteral(".state");
    if (auto s = m_model->saveState(c.state, base.toStdString()); !s) {
        log()->warn("cannot save the state snapshot: {}", s.error().message);
        return;
    }
    const nlohmann::json meta = {{"fingerprint", m_model->info().fingerprint},
                                 {"position", c.fed.size()},
                                 {"state_position", c.state.position()},
                                 {"ids_hash", hashIds(c.fed, c.fed.size())}};
    if (auto s = writeFileAtomically(base + QStringLiteral(".meta"),
                                     QByteArray::fromStdString(meta.dump()));
        !s) {
        log()->warn("cannot save the state snapshot: {}", s.error().message);
    }
}

bool EngineWorker::seedConversation(const QString& id, const QString& systemPrompt,
                                    const QVector<ChatMessageData>& messages,
                                    const QString& stateFile) {
    if (!m_model || !m_tokenizer || messages.isEmpty() ||
        messages.back().role != ChatMessageData::Role::Model)
        return false;
    auto state = m_model->loadState(stateFile.toStdString());
    if (!state) {
        log()->warn("cannot start conversation {} from {}: {}", id.toStdString(),
                    stateFile.toStdString(), state.error().message);
        return false;
    }
    griffin::ChatTemplate chat(*m_tokenizer);
    auto ids = chat.encode(toEngineMessages(messages), systemPrompt.toStdString(), false);
    if (!ids)
        return false;
    Cached& c = cacheFor(id);
    c.state = std::move(*state);
    c.fed = std::move(*ids);
    c.snapshots.clear();
    pushSnapshot(c);
    persist(c);
    return true;
}

void EngineWorker::pushSnapshot(Cached& c) {
    c.snapshots.emplace_back(c.fed, c.state.clone());
    if (c.snapshots.size() > kSnapshotsPerConversation)
        c.snapshots.erase(c.snapshots.begin());
}

void EngineWorker::generate(const GenerationRequest& request) {
    const QString& id = request.conversationId;
    if (!m_model) {
        emit generationFailed(id, tr("No model is loaded."));
        return;
    }
    if (request.messages.isEmpty() || request.messages.back().role != ChatMessageData::Role::User) {
        emit generationFailed(id,
                              tr("Internal error: the request does not end with a user message."));
        return;
    }
    emit generationStarted(id);
    if (checkInput(request))
        return;
    QElapsedTimer clock;
    clock.start();
    griffin::ChatTemplate chat(*m_tokenizer);
    auto ids = chat.encode(toEngineMessages(request.messages, request.modelPrefixes),
                           request.systemPrompt.toStdString(), true);
    if (!ids) {
        emit generationFailed(id, QString::fromStdString(ids.error().message));
        return;
    }
    // Everything but the last id goes in first (continuing from the longest usable prefix); the
    // state there is snapshotted, so regenerate and edit restore it instead of re-prefilling.
    Cached& c = cacheFor(id);
    const std::vector<int32_t> head(ids->begin(), ids->end() - 1);
    const std::vector<int32_t> toFeed = restoreLongestPrefix(c, head);
    QElapsedTimer sinceEmit;
    sinceEmit.start();
    auto progress = [&](int64_t done, int64_t total) {
        if (done == total || sinceEmit.elapsed() >= m_emitIntervalMs) {
            emit prefillProgress(id, done, total);
            sinceEmit.restart();
        }
    };
    if (!toFeed.empty()) {
        griffin::ForwardOptions forward;
        forward.stop = request.stop;
        forward.progress = [&](int64_t done, int64_t total) { progress(done, total + 1); };
        auto fed = m_model->prefill(c.state, toFeed, forward);
        if (!fed) {
            c.state.reset();  // a cancelled prefill leaves a partial state: start over next time
            c.fed.clear();
            if (fed.error().code == griffin::ErrorCode::Cancelled) {
                MessageStats stats;
                stats.stopReason = QStringLiteral("cancelled");
                emit generationFinished(id, QString(), stats, {}, {});
            } else {
                emit generationFailed(id, QString::fromStdString(fed.error().message));
            }
            return;
        }
    }
    c.fed = head;
    pushSnapshot(c);
    const double prefillMs = static_cast<double>(clock.nsecsElapsed()) / 1e6;

    const GenerationParams& p = request.params;
    griffin::GenerateOptions options;
    applySampling(p, &options.sampling);
    if (p.seed == 0)
        options.sampling.seed = QRandomGenerator::global()->bounded(1, 1 << 30);
    options.maxTokens = p.maxTokens;
    // The user's stop, or the safety filter's when it blocks the reply.
    std::stop_source stopSource;
    std::stop_callback forwardStop(request.stop, [&] { stopSource.request_stop(); });
    options.stop = stopSource.get_token();
    std::optional<griffin::safety::StreamFilter> safety;
    if (m_safety.output && request.safetyEnabled)
        safety.emplace(*m_safety.output);
    QString pending;
    std::string shownSoFar;
    int generated = 0;
    options.onToken = [&](const griffin::TokenEvent& e) {
        std::string shown = e.text;
        if (safety) {
            shown = safety->push(e.text);
            if (safety->blocked())
                stopSource.request_stop();
        }
        shownSoFar += shown;
        pending += QString::fromStdString(shown);
        ++generated;
        if (sinceEmit.elapsed() >= m_emitIntervalMs) {
            if (!pending.isEmpty())
                emit tokensReceived(id, pending);
            emit generationProgress(id, generated);
            pending.clear();
            sinceEmit.restart();
        }
    };
    const int32_t last = ids->back();
    auto result = griffin::Generator(*m_model, *m_tokenizer).generate(c.state, {&last, 1}, options);
    // The reply as the user sees it: what the filter released plus its tail, or only the notice.
    QStringList safetyNotes;
    std::string finalText = result ? result->text : std::string();
    bool blocked = false;
    if (safety) {
        const std::string tail = safety->finish();
        blocked = safety->blocked();
        if (!blocked)
            pending += QString::fromStdString(tail);
        finalText = blocked ? tail : shownSoFar + tail;
        for (const griffin::safety::Finding& f : safety->findings()) {
            safetyNotes << safetyNote(f, griffin::safety::actionName(f.action));
        }
    }
    if (!pending.isEmpty() && !blocked)
        emit tokensReceived(id, pending);
    if (!result) {
        c.state.reset();
        c.fed.clear();
        emit generationFailed(id, QString::fromStdString(result.error().message));
        return;
    }
    // The state consumed, in order: head, the last prompt id, the reply minus a pending token.
    std::vector<int32_t> consumed = head;
    consumed.push_back(last);
    consumed.insert(consumed.end(), result->tokens.begin(), result->tokens.end());
    if (result->pending)
        consumed.pop_back();
    consumed.resize(std::min(consumed.size(), static_cast<size_t>(c.state.position())));
    c.fed = std::move(consumed);
    if (c.fed.size() > head.size()) {
        // Close the reply so the state ends at a turn boundary: [pending] <end_of_turn> "\n".
        const auto closing = chat.continuation(result->pending, "");
        if (m_model->prefill(c.state, closing)) {
            c.fed.insert(c.fed.end(), closing.begin(), closing.end());
            pushSnapshot(c);  // the turn boundary: an edit of the next message restores it
            persist(c);
        } else {
            c.state.reset();
            c.fed.clear();
        }
    }
    MessageStats stats;
    stats.promptTokens = static_cast<int>(toFeed.size() + 1);
    stats.generatedTokens = static_cast<int>(result->stats.generatedTokens);
    stats.ttftMs = prefillMs + result->stats.ttftMs;
    stats.prefillTokensPerS = stats.promptTokens / std::max(stats.ttftMs / 1000.0, 1e-9);
    stats.decodeTokensPerS = result->stats.decodeTokensPerS;
    stats.stopReason = blocked
                           ? QStringLiteral("blocked")
                           : QString::fromLatin1(griffin::stopReasonName(result->stats.stopReason));
    stats.seed = static_cast<qint64>(options.sampling.seed);
    if (m_safety.judge && request.safetyEnabled && !blocked && !finalText.empty())
        judgeReply(c, finalText, safetyNotes);
    // A blocked reply keeps none of its tokens: the next turn continues from the notice text.
    emit generationFinished(id, QString::fromStdString(finalText), stats,
                            blocked ? std::vector<int32_t>{} : result->tokens, safetyNotes);
}

void EngineWorker::applySafetySettings(const SafetySettings& settings) {
    m_safety = buildSafetyFilters(settings);
    log()->info("safety filters: {}, input {} ({}), model-judged {}",
                m_safety.output ? "on" : "off", settings.inputMode.toStdString(),
                m_safety.refuseInput ? "refuse" : "flag", m_safety.judge ? "on" : "off");
    for (const QString& problem : m_safety.problems) {
        log()->warn("{}", problem.toStdString());
        emit safetyProblem(problem);
    }
}

bool EngineWorker::checkInput(const GenerationRequest& request) {
    if (!m_safety.input || !request.safetyEnabled)
        return false;
    const griffin::safety::Verdict verdict =
        m_safety.input->check(request.messages.back().text.toStdString());
    if (verdict.findings.empty())
        return false;
    const bool refuse = m_safety.refuseInput;
    QStringList notes;
    for (const griffin::safety::Finding& f : verdict.findings)
        notes << safetyNote(f, refuse ? "refuse" : "flag", "input");
    log()->debug("input filter: {} finding(s), {}", notes.size(), refuse ? "refused" : "flagged");
    emit inputFiltered(request.conversationId, refuse, notes);
    if (!refuse)
        return false;
    MessageStats stats;
    stats.stopReason = QStringLiteral("refused");
    emit generationFinished(request.conversationId, QString(), stats, {}, {});
    return true;
}

void EngineWorker::judgeReply(const Cached& c, const std::string& reply, QStringList& notes) {
    griffin::safety::JudgeOptions options;
    options.policy = m_safety.judgePolicy;
    options.threshold = m_safety.judgeThreshold;
    // The conversation's state ends at the reply's turn boundary: the question continues it on a
    // copy. Without one (a failed close) the judge starts from a fresh state.
    const bool atBoundary =
        c.state.position() > 0 && static_cast<size_t>(c.state.position()) == c.fed.size();
    auto r = griffin::safety::judge(*m_model, *m_tokenizer, atBoundary ? &c.state : nullptr, reply,
                                    options);
    if (!r) {
        log()->warn("the model-judged safety filter failed: {}", r.error().message);
        return;
    }
    log()->debug("model-judged filter: P(yes) {:.4f}, P(no) {:.4f}, threshold {:.2f}",
                 r->yesProbability, r->noProbability, options.threshold);
    if (!r->violates)
        return;
    nlohmann::json j = {{"filter", "judge"},
                        {"category", "model_judged"},
                        {"rule", "judge"},
                        {"action", "flag"},
                        {"begin", 0},
                        {"end", reply.size()},
                        {"probability", r->yesProbability},
                        {"no_probability", r->noProbability},
                        {"threshold", options.threshold}};
    notes << QString::fromStdString(j.dump());
}
