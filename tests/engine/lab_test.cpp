// SPDX-License-Identifier: Apache-2.0
// Prompt-lab engine pieces on the shipped demo model: a run is reproducible from its seed,
// branching at a token (snapshot trail + the alternative) equals a generation with that prefix
// forced, the trail stays within its budget, and scoring does not depend on the chunking.
#include "griffin/lab.h"

#include <QtTest>

#include "griffin/chat_template.h"
#include "griffin/generator.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";

struct Run {
    std::vector<int32_t> tokens;
    std::vector<float> probs;
    std::vector<std::vector<TokenProbability>> alternatives;
    StopReason stop = StopReason::MaxTokens;
};

// The same two states give bit-identical logits for the same next token.
bool sameState(Model& model, const State& a, const State& b) {
    if (a.position() != b.position())
        return false;
    State x = a.clone(), y = b.clone();
    auto lx = model.step(x, 7);
    auto ly = model.step(y, 7);
    return lx && ly && *lx == *ly;
}

}  // namespace

class LabTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        auto model = Model::load(kDemo);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        m_model = std::move(*model);
        auto tokenizer = Tokenizer::loadForModel(kDemo);
        QVERIFY(tokenizer.has_value());
        m_tokenizer = std::move(*tokenizer);
        const ChatMessage message{Role::User, "Tell me what 'meadow' means."};
        auto prompt = ChatTemplate(*m_tokenizer).encode(std::span(&message, 1), "", true);
        QVERIFY(prompt.has_value());
        m_prompt = *prompt;
    }

    void sameSeedReproducesTokensAndProbabilities() {
        const Run a = run({}, 7), b = run({}, 7), c = run({}, 8);
        QCOMPARE(a.tokens, b.tokens);
        QCOMPARE(a.probs, b.probs);
        QVERIFY(a.tokens != c.tokens || a.probs != c.probs);
    }

    // The original run keeps a bounded trail; the branch restores the state before token k,
    // feeds the alternative and continues with a fresh sampler. A generation of the same prompt
    // whose first k + 1 tokens are forced (the original k, then the alternative) must produce
    // the same continuation, token for token and probability for probability.
    void branchAtTokenEqualsForcedPrefix() {
        SnapshotTrail trail(3 * m_model->newState().bytes());
        const Run original = run({}, 21, &trail);
        QVERIFY2(original.tokens.size() >= 8, "the reply is too short to branch in");
        QVERIFY(trail.count() <= 3);
        QVERIFY(trail.stride() > 1);  // the budget forced thinning

        for (int64_t k : {int64_t{0}, int64_t{3}, int64_t{5}}) {
            // An alternative the original did not take.
            int32_t alt = -1;
            for (const TokenProbability& a : original.alternatives[static_cast<size_t>(k)]) {
                if (a.id != original.tokens[static_cast<size_t>(k)]) {
                    alt = a.id;
                    break;
                }
            }
            QVERIFY(alt >= 0);

            auto state = stateBeforeToken(*m_model, trail, original.tokens, k);
            QVERIFY2(state.has_value(), state ? "" : state.error().message.c_str());
            GenerateOptions options = baseOptions(21);
            options.context = m_prompt;
            options.context.insert(options.context.end(), original.tokens.begin(),
                                   original.tokens.begin() + k);
            options.maxTokens = kMaxTokens - (k + 1);
            auto branch = Generator(*m_model, *m_tokenizer).generate(*state, {&alt, 1}, options);
            QVERIFY(branch.has_value());

            std::vector<int32_t> forced(original.tokens.begin(), original.tokens.begin() + k);
            forced.push_back(alt);
            const Run whole = run(forced, 21);
            QCOMPARE(std::vector<int32_t>(whole.tokens.begin(), whole.tokens.begin() + k + 1),
                     forced);
            // Forced tokens report the probabilities the original run saw for them.
            for (int64_t i = 0; i < k; ++i)
                QCOMPARE(whole.probs[static_cast<size_t>(i)],
                         original.probs[static_cast<size_t>(i)]);
            QCOMPARE(std::vector<int32_t>(whole.tokens.begin() + k + 1, whole.tokens.end()),
                     branch->tokens);
            QCOMPARE(branch->stats.stopReason, whole.stop);
        }
    }

    void trailRestoresTheExactStateAndRecomputesBetweenSnapshots() {
        std::vector<State> direct;
        SnapshotTrail trail(4 * m_model->newState().bytes());
        GenerateOptions options = baseOptions(3);
        options.beforeToken = [&](int64_t n, const State& s) {
            trail.offer(n, s);
            direct.push_back(s.clone());
        };
        State state = m_model->newState();
        auto result = Generator(*m_model, *m_tokenizer).generate(state, m_prompt, options);
        QVERIFY(result.has_value());
        QVERIFY(trail.count() <= 4);
        QVERIFY(trail.bytes() <= 4 * m_model->newState().bytes());
        for (size_t n = 0; n < direct.size(); ++n) {
            auto restored =
                stateBeforeToken(*m_model, trail, result->tokens, static_cast<int64_t>(n));
            QVERIFY(restored.has_value());
            QVERIFY2(sameState(*m_model, *restored, direct[n]), qPrintable(QString::number(n)));
        }
        SnapshotTrail empty(0);
        QCOMPARE(stateBeforeToken(*m_model, empty, result->tokens, 1).error().code,
                 ErrorCode::NotFound);
        QCOMPARE(stateBeforeToken(*m_model, trail, result->tokens, 1000).error().code,
                 ErrorCode::InvalidArgument);
    }

    void forcedTokenOutsideTheVocabularyIsRejected() {
        GenerateOptions options = baseOptions(1);
        options.forced = {m_tokenizer->vocabSize()};
        State state = m_model->newState();
        auto r = Generator(*m_model, *m_tokenizer).generate(state, m_prompt, options);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(state.position(), int64_t{0});
    }

    void scoringDoesNotDependOnTheChunkSize() {
        std::vector<int32_t> ids = m_tokenizer->encode(
            "a meadow is a field of grass and flowers, and a harbour shelters ships");
        ids.insert(ids.begin(), m_tokenizer->bosId());
        ScoreOptions a, b;
        a.chunkSize = 64;
        b.chunkSize = 5;
        std::vector<std::pair<int64_t, int64_t>> progress;
        b.progress = [&](int64_t done, int64_t total) { progress.emplace_back(done, total); };
        auto sa = scoreTokens(*m_model, ids, a);
        auto sb = scoreTokens(*m_model, ids, b);
        QVERIFY(sa && sb);
        QCOMPARE(sa->tokens, static_cast<int64_t>(ids.size() - 1));
        QCOMPARE(sa->logprobs.size(), ids.size() - 1);
        for (size_t i = 0; i < sa->logprobs.size(); ++i) {
            QVERIFY(sa->logprobs[i] <= 0.0);
            QVERIFY(std::abs(sa->logprobs[i] - sb->logprobs[i]) < 1e-4);
        }
        QVERIFY(std::abs(sa->perplexity - std::exp(sa->nll / sa->tokens)) < 1e-9 * sa->perplexity);
        QCOMPARE(progress.back().first, progress.back().second);
        std::stop_source stop;
        stop.request_stop();
        ScoreOptions cancelled;
        cancelled.stop = stop.get_token();
        QCOMPARE(scoreTokens(*m_model, ids, cancelled).error().code, ErrorCode::Cancelled);
        QCOMPARE(scoreTokens(*m_model, std::span(ids).first(1)).error().code,
                 ErrorCode::InvalidArgument);
    }

private:
    static constexpr int64_t kMaxTokens = 16;

    GenerateOptions baseOptions(uint64_t seed) const {
        GenerateOptions options;
        options.sampling.temperature = 1.0f;
        options.sampling.topK = 40;
        options.sampling.topP = 1.0f;
        options.sampling.repeatPenalty = 1.3f;
        options.sampling.seed = seed;
        options.sampling.topAlternatives = 4;
        options.maxTokens = kMaxTokens;
        return options;
    }

    Run run(const std::vector<int32_t>& forced, uint64_t seed, SnapshotTrail* trail = nullptr) {
        GenerateOptions options = baseOptions(seed);
        options.forced = forced;
        Run r;
        options.onToken = [&](const TokenEvent& e) {
            if (e.id < 0)
                return;
            r.probs.push_back(e.probability);
            r.alternatives.push_back(e.alternatives);
        };
        if (trail != nullptr)
            options.beforeToken = [&](int64_t n, const State& s) { trail->offer(n, s); };
        State state = m_model->newState();
        auto result = Generator(*m_model, *m_tokenizer).generate(state, m_prompt, options);
        if (!result)
            qFatal("%s", result.error().message.c_str());
        r.tokens = result->tokens;
        r.stop = result->stats.stopReason;
        return r;
    }

    std::unique_ptr<Model> m_model;
    std::unique_ptr<Tokenizer> m_tokenizer;
    std::vector<int32_t> m_prompt;
};

QTEST_GUILESS_MAIN(LabTest)
#include "lab_test.moc"
