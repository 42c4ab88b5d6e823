// SPDX-License-Identifier: Apache-2.0
// Prompt lab: runs with explicit parameters, token probabilities with alternatives, branching at
// a token, perplexity of a text, run history and parameter presets. LabWorker lives on the
// engine thread beside EngineWorker and uses its model (both run their slots on that thread, one
// at a time).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include <QDateTime>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <nlohmann/json_fwd.hpp>

#include "generation_params.h"
#include "griffin/lab.h"
#include "griffin/result.h"

class EngineWorker;

// A chat's sampling parameters, with shorter replies by default, and stop strings. seed 0: a
// fresh random seed (the one used is recorded in the run).
struct LabParams : GenerationParams {
    LabParams() { maxTokens = 128; }

    QStringList stop;

    bool operator==(const LabParams&) const = default;
};

struct LabPreset {
    QString name;
    LabParams params;
    bool builtIn = false;
};

// Precise, Balanced, Creative.
QVector<LabPreset> builtInLabPresets();

struct LabAlternative {
    int id = 0;
    QString text;
    double prob = 0.0;
};

struct LabToken {
    int id = 0;
    QString text;  // the text this token added to the output (may be empty while held back)
    double prob = 0.0;
    QVector<LabAlternative> alternatives;  // top 10, sorted by probability
};

// One run: its inputs (enough to re-run it exactly) and what it produced.
struct LabRun {
    QString id;
    QDateTime time;
    bool chat = true;  // chat template; false = raw completion (BOS + prompt)
    QString system;
    QString prompt;
    LabParams params;  // params.seed is the seed actually used
    QString modelName;
    QString fingerprint;
    // A branch: the run it came from and the reply tokens it forces (the parent's first
    // branchAt tokens, then the chosen alternative).
    QString parentId;
    int branchAt = -1;
    QVector<int> forced;

    QString text;
    QVector<LabToken> tokens;
    int promptTokens = 0;
    QString stopReason;
    double ttftMs = 0.0;
    double tokensPerSecond = 0.0;
    QString error;  // when the run failed
    // Safety decisions on the output (JSON objects as in a message's `safety` list). Base
    // (pretrained) models are flag-only: nothing is blocked or masked, every finding is noted.
    QStringList safety;
};

// Whether a model is instruction-tuned (its name ends in "-it", as Google's releases do, or it
// is the demo model, which was trained on chat turns); other models count as base models.
bool isInstructionTunedModel(const QString& name, bool isDemo);

nlohmann::json labParamsToJson(const LabParams& p);
// Missing or wrong-typed keys take the defaults; values are clamped to their valid ranges.
LabParams labParamsFromJson(const nlohmann::json& j);
nlohmann::json labRunToJson(const LabRun& run);
griffin::Result<LabRun> labRunFromJson(const nlohmann::json& j);

// Run history: one JSON file (schema 1) holding the newest runs first, at most kMaxRuns; written
// atomically. A file that does not parse is renamed to <file>.corrupt and the history starts
// empty (the error is reported once).
class LabHistory {
public:
    static constexpr int kMaxRuns = 200;
    explicit LabHistory(QString file) : m_file(std::move(file)) {}
    griffin::Status load();  // missing file = empty history
    griffin::Status add(const LabRun& run);
    const QVector<LabRun>& runs() const { return m_runs; }
    const LabRun* find(const QString& id) const;
    griffin::Status clear();

private:
    griffin::Status save() const;
    QString m_file;
    QVector<LabRun> m_runs;
};

// User presets: {"schema": 1, "presets": [{"name", "params"}]} beside the settings.
griffin::Result<QVector<LabPreset>> loadLabPresets(const QString& file);
griffin::Status saveLabPresets(const QString& file, const QVector<LabPreset>& presets);

struct LabRequest {
    LabRun run;  // inputs: id, chat, system, prompt, params, parentId, branchAt, forced
    std::stop_token stop;
};

struct LabTokenPiece {
    int id = 0;
    QString piece;  // as the tokenizer spells it ("▁" for a space), special tokens by name
    bool special = false;
};

struct LabScore {
    qint64 tokens = 0;
    double nll = 0.0;
    double perplexity = 0.0;
    QVector<LabTokenPiece> pieces;  // every scored token (the BOS is not)
    QVector<double> logprobs;
};

Q_DECLARE_METATYPE(LabRequest)
Q_DECLARE_METATYPE(LabRun)
Q_DECLARE_METATYPE(LabScore)
Q_DECLARE_METATYPE(QVector<LabTokenPiece>)

// On the engine thread. Keeps snapshot trails of recent runs within a memory budget so a branch
// restores a nearby state instead of re-running the prompt.
class LabWorker : public QObject {
    Q_OBJECT

public:
    explicit LabWorker(EngineWorker* engine, QObject* parent = nullptr);
    ~LabWorker() override;
    void setSnapshotBudget(qint64 bytes) { m_budget = bytes; }
    qint64 snapshotBytes() const;

public slots:
    // Emits labTokens while running (coalesced), then labFinished (run.error set on failure).
    void run(const LabRequest& request);
    void tokenize(quint64 requestId, const QString& text, bool chat, const QString& system);
    void score(quint64 requestId, const QString& text, std::stop_token stop);
    // The model changed: every trail belongs to the old one.
    void forgetTrails();

signals:
    void labTokens(const QString& runId, int tokens);
    void labFinished(const LabRun& run);
    void tokenized(quint64 requestId, const QVector<LabTokenPiece>& pieces);
    void scored(quint64 requestId, const LabScore& score, const QString& error);

private:
    struct Trail {
        QString runId;
        std::vector<int32_t> prompt;
        std::vector<int32_t> reply;
        QVector<LabToken> tokens;  // the run's tokens as reported (carried over by branches)
        griffin::SnapshotTrail snapshots;
    };
    griffin::Result<std::vector<int32_t>> encodePrompt(const LabRun& run) const;
    // The reply filters on the output: flag-only for base models; block/redact otherwise.
    void applySafety(LabRun& run) const;

    EngineWorker* m_engine;
    qint64 m_budget = 256ll << 20;
    std::deque<Trail> m_trails;  // newest first
    bool m_lastRunUsedTrail = false;

public:
    // For tests: whether the last branch restored a snapshot rather than re-running the prompt.
    bool lastRunUsedTrail() const { return m_lastRunUsedTrail; }
};
