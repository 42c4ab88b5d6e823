// SPDX-License-Identifier: Apache-2.0
#include "services/lab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <QFile>
#include <QRegularExpression>
#include <QUuid>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "atomic_file.h"
#include "griffin/chat_template.h"
#include "griffin/generator.h"
#include "services/engine_worker.h"
#include "services/safety_setup.h"

using nlohmann::json;

namespace {

constexpr int kAlternatives = 10;
constexpr int kSchema = 1;

template <typename T>
T number(const json& j, const char* key, T fallback, T lo, T hi) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return fallback;
    const double v = it->get<double>();
    if (!std::isfinite(v))
        return fallback;
    return static_cast<T>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
}

QString str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                            : QString();
}

QString fromUtf8Lossy(const std::string& s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

}  // namespace

QVector<LabPreset> builtInLabPresets() {
    LabParams precise;
    precise.temperature = 0.2;
    precise.topK = 20;
    precise.topP = 0.9;
    LabParams balanced;  // the app's chat defaults
    LabParams creative;
    creative.temperature = 1.1;
    creative.topK = 0;
    creative.topP = 0.98;
    creative.minP = 0.05;
    creative.repeatPenalty = 1.1;
    return {{QStringLiteral("Precise"), precise, true},
            {QStringLiteral("Balanced"), balanced, true},
            {QStringLiteral("Creative"), creative, true}};
}

json labParamsToJson(const LabParams& p) {
    json stop = json::array();
    for (const QString& s : p.stop) stop.push_back(s.toStdString());
    return {{"temperature", p.temperature},
            {"top_k", p.topK},
            {"top_p", p.topP},
            {"min_p", p.minP},
            {"repeat_penalty", p.repeatPenalty},
            {"max_tokens", p.maxTokens},
            {"seed", p.seed},
            {"stop", stop}};
}

LabParams labParamsFromJson(const json& j) {
    LabParams d, p;
    if (!j.is_object())
        return d;
    p.temperature = number(j, "temperature", d.temperature, 0.0, 5.0);
    p.topK = number(j, "top_k", d.topK, 0, 100000);
    p.topP = number(j, "top_p", d.topP, 0.0, 1.0);
    p.minP = number(j, "min_p", d.minP, 0.0, 1.0);
    p.repeatPenalty = number(j, "repeat_penalty", d.repeatPenalty, 0.5, 5.0);
    p.maxTokens = number(j, "max_tokens", d.maxTokens, 1, 1 << 20);
    p.seed = number<qint64>(j, "seed", d.seed, 0, (qint64{1} << 53));
    if (auto it = j.find("stop"); it != j.end() && it->is_array()) {
        for (const json& s : *it) {
            if (s.is_string() && !s.get<std::string>().empty())
                p.stop << QString::fromStdString(s.get<std::string>());
        }
    }
    return p;
}

json labRunToJson(const LabRun& r) {
    json tokens = json::array();
    for (const LabToken& t : r.tokens) {
        json alts = json::array();
        for (const LabAlternative& a : t.alternatives)
            alts.push_back({{"id", a.id}, {"text", a.text.toStdString()}, {"prob", a.prob}});
        tokens.push_back({{"id", t.id},
                          {"text", t.text.toStdString()},
                          {"prob", t.prob},
                          {"alternatives", std::move(alts)}});
    }
    json forced = json::array();
    for (int id : r.forced) forced.push_back(id);
    return {{"id", r.id.toStdString()},
            {"time", r.time.toString(Qt::ISODateWithMs).toStdString()},
            {"mode", r.chat ? "chat" : "raw"},
            {"system", r.system.toStdString()},
            {"prompt", r.prompt.toStdString()},
            {"params", labParamsToJson(r.params)},
            {"model", r.modelName.toStdString()},
            {"fingerprint", r.fingerprint.toStdString()},
            {"parent", r.parentId.toStdString()},
            {"branch_at", r.branchAt},
            {"forced", std::move(forced)},
            {"text", r.text.toStdString()},
            {"tokens", std::move(tokens)},
            {"stats",
             {{"prompt_tokens", r.promptTokens},
              {"stop_reason", r.stopReason.toStdString()},
              {"ttft_ms", r.ttftMs},
              {"tokens_per_s", r.tokensPerSecond}}},
            {"error", r.error.toStdString()},
            {"safety", [&] {
                 json notes = json::array();
                 for (const QString& n : r.safety) notes.push_back(n.toStdString());
                 return notes;
             }()}};
}

griffin::Result<LabRun> labRunFromJson(const json& j) {
    if (!j.is_object() || !j.contains("id") || !j.at("id").is_string() || !j.contains("prompt") ||
        !j.at("prompt").is_string()) {
        return griffin::makeError(griffin::ErrorCode::Corrupt, "a run without id or prompt");
    }
    LabRun r;
    r.id = str(j, "id");
    r.time = QDateTime::fromString(str(j, "time"), Qt::ISODateWithMs);
    r.chat = str(j, "mode") != QLatin1String("raw");
    r.system = str(j, "system");
    r.prompt = str(j, "prompt");
    r.params = labParamsFromJson(j.value("params", json::object()));
    r.modelName = str(j, "model");
    r.fingerprint = str(j, "fingerprint");
    r.parentId = str(j, "parent");
    r.branchAt = number(j, "branch_at", -1, -1, 1 << 24);
    if (auto it = j.find("forced"); it != j.end() && it->is_array()) {
        for (const json& id : *it) {
            if (id.is_number_integer())
                r.forced << id.get<int>();
        }
    }
    r.text = str(j, "text");
    if (auto it = j.find("tokens"); it != j.end() && it->is_array()) {
        for (const json& t : *it) {
            if (!t.is_object())
                continue;
            LabToken token;
            token.id = number(t, "id", 0, 0, 1 << 30);
            token.text = str(t, "text");
            token.prob = number(t, "prob", 0.0, 0.0, 1.0);
            if (auto a = t.find("alternatives"); a != t.end() && a->is_array()) {
                for (const json& alt : *a) {
                    if (alt.is_object())
                        token.alternatives.push_back({number(alt, "id", 0, 0, 1 << 30),
                                                      str(alt, "text"),
                                                      number(alt, "prob", 0.0, 0.0, 1.0)});
                }
            }
            r.tokens.push_back(std::move(token));
        }
    }
    const json stats = j.value("stats", json::object());
    r.promptTokens = number(stats, "prompt_tokens", 0, 0, 1 << 30);
    r.stopReason = str(stats, "stop_reason");
    r.ttftMs = number(stats, "ttft_ms", 0.0, 0.0, 1e12);
    r.tokensPerSecond = number(stats, "tokens_per_s", 0.0, 0.0, 1e12);
    r.error = str(j, "error");
    if (auto it = j.find("safety"); it != j.end() && it->is_array()) {
        for (const json& n : *it) {
            if (n.is_string())
                r.safety << QString::fromStdString(n.get<std::string>());
        }
    }
    return r;
}

griffin::Status LabHistory::load() {
    m_runs.clear();
    QFile f(m_file);
    if (!f.exists())
        return {};
    if (!f.open(QIODevice::ReadOnly))
        return griffin::makeError(griffin::ErrorCode::Io, m_file.toStdString() + ": cannot read");
    const QByteArray bytes = f.readAll();
    f.close();
    const json j = json::parse(bytes.constData(), bytes.constData() + bytes.size(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("schema", 0) != kSchema ||
        !j.contains("runs") || !j.at("runs").is_array()) {
        const QString aside = m_file + QStringLiteral(".corrupt");
        QFile::remove(aside);
        QFile::rename(m_file, aside);
        return griffin::makeError(griffin::ErrorCode::Corrupt,
                                  m_file.toStdString() +
                                      ": not a prompt-lab history (schema 1); moved aside to " +
                                      aside.toStdString());
    }
    for (const json& r : j.at("runs")) {
        if (auto run = labRunFromJson(r); run && m_runs.size() < kMaxRuns)
            m_runs.push_back(std::move(*run));
    }
    return {};
}

griffin::Status LabHistory::save() const {
    json runs = json::array();
    for (const LabRun& r : m_runs) runs.push_back(labRunToJson(r));
    const json j = {{"schema", kSchema}, {"runs", std::move(runs)}};
    return writeFileAtomically(
        m_file,
        QByteArray::fromStdString(j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

griffin::Status LabHistory::add(const LabRun& run) {
    m_runs.prepend(run);
    if (m_runs.size() > kMaxRuns)
        m_runs.resize(kMaxRuns);
    return save();
}

griffin::Status LabHistory::clear() {
    m_runs.clear();
    return save();
}

const LabRun* LabHistory::find(const QString& id) const {
    for (const LabRun& r : m_runs) {
        if (r.id == id)
            return &r;
    }
    return nullptr;
}

griffin::Result<QVector<LabPreset>> loadLabPresets(const QString& file) {
    QVector<LabPreset> presets;
    QFile f(file);
    if (!f.exists())
        return presets;
    if (!f.open(QIODevice::ReadOnly))
        return griffin::makeError(griffin::ErrorCode::Io, file.toStdString() + ": cannot read");
    const QByteArray bytes = f.readAll();
    const json j = json::parse(bytes.constData(), bytes.constData() + bytes.size(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("presets") ||
        !j.at("presets").is_array()) {
        return griffin::makeError(griffin::ErrorCode::Corrupt,
                                  file.toStdString() + ": not a presets file");
    }
    for (const json& p : j.at("presets")) {
        if (!p.is_object() || str(p, "name").trimmed().isEmpty())
            continue;
        presets.push_back({str(p, "name").trimmed(),
                           labParamsFromJson(p.value("params", json::object())), false});
    }
    return presets;
}

griffin::Status saveLabPresets(const QString& file, const QVector<LabPreset>& presets) {
    json list = json::array();
    for (const LabPreset& p : presets) {
        if (!p.builtIn)
            list.push_back({{"name", p.name.toStdString()}, {"params", labParamsToJson(p.params)}});
    }
    const json j = {{"schema", kSchema}, {"presets", std::move(list)}};
    return writeFileAtomically(file, QByteArray::fromStdString(j.dump(2)));
}

// --- LabWorker ---------------------------------------------------------------------------

LabWorker::LabWorker(EngineWorker* engine, QObject* parent) : QObject(parent), m_engine(engine) {
    qRegisterMetaType<LabRequest>();
    qRegisterMetaType<LabRun>();
    qRegisterMetaType<LabScore>();
    qRegisterMetaType<QVector<LabTokenPiece>>();
    qRegisterMetaType<std::stop_token>();
}
LabWorker::~LabWorker() = default;

qint64 LabWorker::snapshotBytes() const {
    qint64 total = 0;
    for (const Trail& t : m_trails) total += static_cast<qint64>(t.snapshots.bytes());
    return total;
}

void LabWorker::forgetTrails() {
    m_trails.clear();
}

griffin::Result<std::vector<int32_t>> LabWorker::encodePrompt(const LabRun& run) const {
    const griffin::Tokenizer& tokenizer = *m_engine->tokenizer();
    if (!run.chat) {
        std::vector<int32_t> ids = tokenizer.encode(run.prompt.toStdString());
        ids.insert(ids.begin(), tokenizer.bosId());
        return ids;
    }
    if (!griffin::ChatTemplate::supports(tokenizer)) {
        return griffin::makeError(griffin::ErrorCode::InvalidArgument,
                                  "this model's tokenizer has no chat turns: use raw completion");
    }
    const griffin::ChatMessage message{griffin::Role::User, run.prompt.toStdString()};
    return griffin::ChatTemplate(tokenizer).encode(std::span(&message, 1), run.system.toStdString(),
                                                   true);
}

void LabWorker::run(const LabRequest& request) {
    LabRun run = request.run;
    m_lastRunUsedTrail = false;
    if (run.id.isEmpty())
        run.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    run.time = QDateTime::currentDateTimeUtc();
    run.tokens.clear();
    run.text.clear();
    run.error.clear();
    run.safety.clear();  // a branch or re-run starts from a copy of its parent
    griffin::Model* model = m_engine->model();
    if (model == nullptr || m_engine->tokenizer() == nullptr) {
        run.error = QStringLiteral("No model is loaded.");
        emit labFinished(run);
        return;
    }
    const griffin::Tokenizer& tokenizer = *m_engine->tokenizer();
    run.modelName = m_engine->summary().name;
    run.fingerprint = m_engine->summary().fingerprint;
    if (run.params.seed == 0) {
        std::random_device rd;
        run.params.seed = static_cast<qint64>(((uint64_t{rd()} << 21) ^ rd()) & ((1ull << 53) - 1));
        if (run.params.seed == 0)
            run.params.seed = 1;
    }
    auto prompt = encodePrompt(run);
    if (!prompt) {
        run.error = QString::fromStdString(prompt.error().message);
        emit labFinished(run);
        return;
    }
    run.promptTokens = static_cast<int>(prompt->size());

    griffin::GenerateOptions options;
    applySampling(run.params, &options.sampling);
    options.sampling.topAlternatives = kAlternatives;
    options.maxTokens = run.params.maxTokens;
    for (const QString& s : run.params.stop) options.stopStrings.push_back(s.toStdString());
    options.stopAtEndOfTurn = run.chat;
    options.stop = request.stop;
    for (int id : run.forced) options.forced.push_back(id);

    // A branch whose parent's trail is still here: restore the state before the parent's token
    // branchAt - 1, feed that token and force the alternative; the parent's first branchAt
    // tokens are carried over. Equal to the full forced run (lab_worker_test checks it).
    std::vector<int32_t> feed = *prompt;
    std::optional<griffin::State> restored;
    const Trail* parentTrail = nullptr;
    for (const Trail& t : m_trails) {
        if (t.runId == run.parentId && t.prompt == *prompt)
            parentTrail = &t;
    }
    const int k = run.branchAt;
    Trail trail{run.id, *prompt, {}, {}, griffin::SnapshotTrail(static_cast<size_t>(m_budget / 8))};
    if (parentTrail != nullptr && k >= 1 && k + 1 == run.forced.size() &&
        k <= parentTrail->tokens.size() && k < run.params.maxTokens &&
        std::equal(run.forced.begin(), run.forced.begin() + k, parentTrail->reply.begin())) {
        auto state =
            griffin::stateBeforeToken(*model, parentTrail->snapshots, parentTrail->reply, k - 1);
        if (state) {
            restored = std::move(*state);
            const auto reply = parentTrail->reply.begin();
            feed = {parentTrail->reply[static_cast<size_t>(k - 1)]};
            options.context = *prompt;
            options.context.insert(options.context.end(), reply, reply + (k - 1));
            options.emitted.assign(reply, reply + k);
            options.forced = {run.forced.back()};
            options.maxTokens = run.params.maxTokens - k;
            run.tokens = parentTrail->tokens.mid(0, k);
            // The parent's snapshots before the branch point serve this run too.
            for (int64_t n = 0; n < k; ++n) {
                int64_t at = -1;
                if (const griffin::State* s = parentTrail->snapshots.nearest(n, &at); s && at == n)
                    trail.snapshots.offer(n, *s);
            }
            m_lastRunUsedTrail = true;
        }
    }
    const int offset = static_cast<int>(run.tokens.size());
    options.beforeToken = [&](int64_t n, const griffin::State& state) {
        trail.snapshots.offer(n + offset, state);
    };
    auto lastEmit = std::chrono::steady_clock::now();
    options.onToken = [&](const griffin::TokenEvent& e) {
        if (e.id < 0) {
            if (!run.tokens.isEmpty())
                run.tokens.back().text += fromUtf8Lossy(e.text);
            return;
        }
        LabToken token;
        token.id = e.id;
        token.text = fromUtf8Lossy(e.text);
        token.prob = e.probability;
        for (const griffin::TokenProbability& a : e.alternatives)
            token.alternatives.push_back(
                {a.id, fromUtf8Lossy(tokenizer.pieceBytes(a.id)), a.probability});
        run.tokens.push_back(std::move(token));
        const auto now = std::chrono::steady_clock::now();
        if (now - lastEmit > std::chrono::milliseconds(50)) {
            lastEmit = now;
            emit labTokens(run.id, static_cast<int>(run.tokens.size()));
        }
    };
    griffin::State state = restored ? std::move(*restored) : model->newState();
    auto result = griffin::Generator(*model, tokenizer).generate(state, feed, options);
    if (!result) {
        run.error = QString::fromStdString(result.error().message);
        emit labFinished(run);
        return;
    }
    // End-of-turn/EOS tokens are reported as events but are not part of the reply.
    const qsizetype replyTokens = offset + static_cast<qsizetype>(result->tokens.size());
    while (run.tokens.size() > replyTokens) run.tokens.removeLast();
    for (const LabToken& t : run.tokens) run.text += t.text;
    run.stopReason = QString::fromLatin1(griffin::stopReasonName(result->stats.stopReason));
    run.ttftMs = result->stats.ttftMs;
    run.tokensPerSecond = result->stats.decodeTokensPerS;
    applySafety(run);  // may replace the text (block) or mask tokens (redact)

    for (const LabToken& t : run.tokens) trail.reply.push_back(t.id);
    trail.tokens = run.tokens;
    if (m_budget > 0) {
        m_trails.push_front(std::move(trail));
        while (m_trails.size() > 8) m_trails.pop_back();
    }
    emit labFinished(run);
}

bool isInstructionTunedModel(const QString& name, bool isDemo) {
    static const QRegularExpression kIt(QStringLiteral("-it($|[-_.])"),
                                        QRegularExpression::CaseInsensitiveOption);
    return isDemo || kIt.match(name).hasMatch();
}

void LabWorker::applySafety(LabRun& run) const {
    const SafetyFilters& filters = m_engine->safetyFilters();
    if (!filters.output || run.text.isEmpty())
        return;
    const bool base =
        !isInstructionTunedModel(m_engine->summary().name, m_engine->summary().isDemo);
    const std::string text = run.text.toStdString();
    const griffin::safety::Verdict verdict = filters.output->check(text);
    for (const griffin::safety::Finding& f : verdict.findings) {
        const char* action = base ? "flag" : griffin::safety::actionName(f.action);
        nlohmann::json note = {{"filter", f.filter}, {"category", f.category}, {"rule", f.ruleId},
                               {"action", action},   {"begin", f.begin},       {"end", f.end}};
        if (base)
            note["base_model"] = true;
        run.safety << QString::fromStdString(note.dump());
    }
    if (base || verdict.action == griffin::safety::Action::Allow ||
        verdict.action == griffin::safety::Action::Flag)
        return;
    if (verdict.action == griffin::safety::Action::Block) {
        run.text = QString::fromStdString(verdict.output);
        run.tokens.clear();
        run.stopReason = QStringLiteral("blocked");
        return;
    }
    // Redact: every token that overlaps a redacted span shows the mask instead of its text.
    size_t offset = 0;
    for (LabToken& t : run.tokens) {
        const size_t bytes = t.text.toUtf8().size();
        for (const griffin::safety::Finding& f : verdict.findings) {
            if (f.action == griffin::safety::Action::Redact && f.begin < offset + bytes &&
                f.end > offset)
                t.text = QStringLiteral("[redacted]");
        }
        offset += bytes;
    }
    run.text = QString::fromStdString(verdict.output);
}

void LabWorker::tokenize(quint64 requestId, const QString& text, bool chat, const QString& system) {
    QVector<LabTokenPiece> pieces;
    if (m_engine->tokenizer() == nullptr) {
        emit tokenized(requestId, pieces);
        return;
    }
    const griffin::Tokenizer& tokenizer = *m_engine->tokenizer();
    LabRun run;
    run.chat = chat;
    run.prompt = text;
    run.system = system;
    auto ids = encodePrompt(run);
    if (ids) {
        for (int32_t id : *ids) {
            pieces.push_back({id, fromUtf8Lossy(tokenizer.piece(id)), tokenizer.isControl(id)});
        }
    }
    emit tokenized(requestId, pieces);
}

void LabWorker::score(quint64 requestId, const QString& text, std::stop_token stop) {
    LabScore result;
    griffin::Model* model = m_engine->model();
    if (model == nullptr || m_engine->tokenizer() == nullptr) {
        emit scored(requestId, result, QStringLiteral("No model is loaded."));
        return;
    }
    const griffin::Tokenizer& tokenizer = *m_engine->tokenizer();
    std::vector<int32_t> ids = tokenizer.encode(text.toStdString());
    ids.insert(ids.begin(), tokenizer.bosId());
    if (ids.size() < 2) {
        emit scored(requestId, result, QStringLiteral("There is no text to score."));
        return;
    }
    griffin::ScoreOptions options;
    options.vocabLimit = tokenizer.vocabSize();
    options.stop = stop;
    auto score = griffin::scoreTokens(*model, ids, options);
    if (!score) {
        emit scored(requestId, result, QString::fromStdString(score.error().message));
        return;
    }
    result.tokens = score->tokens;
    result.nll = score->nll;
    result.perplexity = score->perplexity;
    for (size_t i = 1; i < ids.size(); ++i) {
        result.pieces.push_back(
            {ids[i], fromUtf8Lossy(tokenizer.pieceBytes(ids[i])), tokenizer.isControl(ids[i])});
        result.logprobs.push_back(score->logprobs[i - 1]);
    }
    emit scored(requestId, result, QString());
}
