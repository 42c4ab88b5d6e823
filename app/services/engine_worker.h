// SPDX-License-Identifier: Apache-2.0
// EngineWorker: owns the Model, the Tokenizer and one State per open conversation, and runs every
// engine call on its own thread (the Qt worker-object pattern). The GUI talks to it only through
// queued signals and slots carrying value types; cancellation is a std::stop_token in the request.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVector>

#include "generation_params.h"
#include "griffin/model.h"
#include "griffin/safety.h"
#include "griffin/tokenizer.h"
#include "services/conversation.h"
#include "services/safety_setup.h"

namespace griffin {
struct SamplingParams;
}

struct ModelSummary {
    QString path;
    QString name;  // folder name, e.g. "recurrentgemma-2b-it" or "demo"
    QString fingerprint;
    QString backend;
    QString backendNote;  // e.g. why Auto chose the CPU
    QString weightTypes;  // every tensor's type, e.g. "f32 (283), q8_0 (165)"
    QString weights;      // the matrices' type in memory, e.g. "q8_0"
    QString weightsNote;  // e.g. "converted from bf16 while loading"
    int threads = 0;      // CPU backend threads (0 on other backends)
    qint64 parameters = 0;
    qint64 weightBytes = 0;
    qint64 stateBytes = 0;
    bool isDemo = false;
};

struct GenerationRequest {
    QString conversationId;
    QString systemPrompt;
    QVector<ChatMessageData> messages;  // the history, ending with the user message to answer
    GenerationParams params;
    std::stop_token stop;
    bool safetyEnabled = true;  // the conversation's switch: false = no safety filter at all
    // Per message (by index; missing or empty = none): text the model reads before that user
    // message, e.g. the document sections a summary follow-up is about. Not part of the stored
    // message and not seen by the input filter. Must be the same for a message on every turn,
    // or the conversation is re-read from that message on.
    QVector<QString> modelPrefixes;
};

// Copies p's sampling parameters, its seed as it is (0 included), into *out.
void applySampling(const GenerationParams& p, griffin::SamplingParams* out);

Q_DECLARE_METATYPE(ModelSummary)
Q_DECLARE_METATYPE(GenerationRequest)
Q_DECLARE_METATYPE(std::stop_token)
Q_DECLARE_METATYPE(std::vector<int32_t>)

// Lives on its own QThread; every slot runs there. Not for direct calls from other threads.
class EngineWorker : public QObject {
    Q_OBJECT

public:
    // `stateDirectory`: where <conversation id>.state snapshots are kept (empty = none).
    explicit EngineWorker(QString stateDirectory, QObject* parent = nullptr);
    ~EngineWorker() override;

    // How often streamed text is emitted (coalesced); 0 = after every token (tests). Call before
    // moving the worker to its thread.
    void setEmitIntervalMs(int ms) { m_emitIntervalMs = ms; }

    // For other workers on the same thread (the prompt lab): the loaded model, or null.
    griffin::Model* model() const { return m_model.get(); }
    const griffin::Tokenizer* tokenizer() const { return m_tokenizer.get(); }
    const ModelSummary& summary() const { return m_summary; }
    const SafetyFilters& safetyFilters() const { return m_safety; }
    // Same thread only: starts conversation `id` from the state in `stateFile`, standing for
    // `messages` (which must end with a model message): it may hold more than they show, e.g. a
    // whole document before them. Kept and persisted like any turn boundary. False (logged) when
    // the file is not a state of this model.
    bool seedConversation(const QString& id, const QString& systemPrompt,
                          const QVector<ChatMessageData>& messages, const QString& stateFile);

    // The CPU threads loadModel uses for a `threads` setting (0 = one per core).
    static int threadsFor(int threads);

public slots:
    // Lists the Vulkan devices; answers with devicesFound.
    void findDevices();
    // Checks a model folder without loading it; answers with modelInspected or
    // modelInspectionFailed (a plain-words explanation). `weights` as for loadModel: the
    // description and memory say what loading with it does.
    void inspectModel(const QString& path, const QString& weights = QStringLiteral("stored"));
    // Loads a model folder (or "default"/empty for the demo model), replacing the current one.
    // `backend` as AppSettings::backend; `weights` as AppSettings::weights (matrices stored wider
    // than that type are converted while loading); `threads` for the CPU backend, 0 = one per
    // core.
    void loadModel(const QString& path, const QString& backend, std::stop_token stop,
                   const QString& weights = QStringLiteral("stored"), int threads = 0);
    // Answers the last user message of the request. Emits generationStarted, prefillProgress,
    // tokensReceived (coalesced, at most ~30 per second), then generationFinished or
    // generationFailed. A stop request ends the reply within one token (finished, "cancelled").
    void generate(const GenerationRequest& request);
    // Drops the cached State of a conversation (e.g. after it was deleted).
    void forgetConversation(const QString& conversationId);
    // Rebuilds the safety filters from the settings (the next reply uses them). A part that
    // cannot be used (a broken user rules file) is reported with safetyProblem; the built-in
    // rules stay active.
    void applySafetySettings(const SafetySettings& settings);

signals:
    // Backend choices beyond Auto and CPU: labels for people, values for settings ("vulkan:N").
    void devicesFound(const QStringList& labels, const QStringList& values);
    void modelInspected(const QString& path, const QString& description, qint64 weightBytes,
                        qint64 stateBytes);
    void modelInspectionFailed(const QString& path, const QString& message);
    void modelLoadProgress(double fraction);
    void modelLoaded(const ModelSummary& summary);
    void modelLoadFailed(const QString& message);
    void generationStarted(const QString& conversationId);
    void prefillProgress(const QString& conversationId, qint64 done, qint64 total);
    void tokensReceived(const QString& conversationId, const QString& text);
    // Tokens generated so far in this reply (coalesced like tokensReceived; the text itself may
    // be held back a little longer by the safety filter).
    void generationProgress(const QString& conversationId, int tokens);
    // `safety`: one JSON object per safety decision on the reply (filter, category, rule,
    // action, begin, end); a blocked reply has the notice as its text and no tokens.
    void generationFinished(const QString& conversationId, const QString& text,
                            const MessageStats& stats, const std::vector<int32_t>& tokens,
                            const QStringList& safety);
    void generationFailed(const QString& conversationId, const QString& message);
    // The input filter matched the request's last user message: `safety` as in
    // generationFinished, each with "direction": "input" and action "refuse" or "flag". Comes
    // after generationStarted. When `refused`, the model is not run and generationFinished
    // follows with an empty text and stop reason "refused".
    void inputFiltered(const QString& conversationId, bool refused, const QStringList& safety);
    // A plain-words warning about the safety settings (e.g. which file is broken and why).
    void safetyProblem(const QString& message);

private:
    // A conversation's live State, the exact ids it has consumed, and snapshots at the start of
    // recent replies (restored for regenerate and edit).
    struct Cached {
        QString id;
        griffin::State state;
        std::vector<int32_t> fed;
        std::vector<std::pair<std::vector<int32_t>, griffin::State>> snapshots;
    };
    Cached& cacheFor(const QString& id);
    // Brings `c` to a prefix of `ids` as long as possible; returns the ids still to feed.
    std::vector<int32_t> restoreLongestPrefix(Cached& c, const std::vector<int32_t>& ids);
    void pushSnapshot(Cached& c);
    void persist(const Cached& c);
    bool tryLoadPersisted(Cached& c, const std::vector<int32_t>& ids);
    // The input filter on the request's last message; true when it was refused (and answered).
    bool checkInput(const GenerationRequest& request);
    // The model-judged filter on a finished reply; appends its finding to `notes` when it flags.
    void judgeReply(const Cached& c, const std::string& reply, QStringList& notes);

    QString m_stateDirectory;
    std::unique_ptr<griffin::Model> m_model;
    std::unique_ptr<griffin::Tokenizer> m_tokenizer;
    ModelSummary m_summary;
    std::deque<Cached> m_cache;  // most recently used first
    int m_emitIntervalMs = 33;
    SafetyFilters m_safety;  // built-in (+ user) rules, as the settings say
};
