// SPDX-License-Identifier: Apache-2.0
// Generator on the conformance model with a 256-piece tokenizer: every stop reason, stop strings
// split across tokens, cancellation, progress, reproducibility, and incremental chat equal to a
// full re-prefill.
#include "griffin/generator.h"

#include <QtTest>

#include "griffin/chat_template.h"
#include "test_files.h"

using namespace griffin;

namespace {

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tokenizer;

    Fixture() {
        test::makeTinyChatModel(dir.path());
        auto m = Model::load(dir.path());
        auto t = Tokenizer::load(dir.path() / "tokenizer.model");
        if (!m || !t)
            qFatal("fixture failed to load");
        model = std::move(*m);
        tokenizer = std::move(*t);
    }
    std::vector<int32_t> prompt(const std::string& text) const {
        std::vector<int32_t> ids{tokenizer->bosId()};
        const auto rest = tokenizer->encode(text);
        ids.insert(ids.end(), rest.begin(), rest.end());
        return ids;
    }
    GenerationResult run(const GenerateOptions& options, const std::string& text = "The tower",
                         State* keep = nullptr) {
        State state = model->newState();
        auto r = Generator(*model, *tokenizer).generate(state, prompt(text), options);
        if (!r)
            qFatal("generate failed: %s", r.error().message.c_str());
        if (keep != nullptr)
            *keep = std::move(state);
        return std::move(*r);
    }
};

GenerateOptions greedy(int64_t maxTokens) {
    GenerateOptions o;
    o.sampling.temperature = 0.0f;
    o.maxTokens = maxTokens;
    o.stopAtEndOfTurn = false;
    return o;
}

}  // namespace

class GeneratorTest : public QObject {
    Q_OBJECT

private slots:
    void maxTokensLeavesTheLastTokenPending() {
        Fixture f;
        State state;
        const auto r = f.run(greedy(7), "The tower", &state);
        QCOMPARE(r.stats.stopReason, StopReason::MaxTokens);
        QCOMPARE(r.tokens.size(), size_t{7});
        QCOMPARE(r.stats.generatedTokens, 7);
        QVERIFY(r.pending.has_value());
        QCOMPARE(*r.pending, r.tokens.back());
        QCOMPARE(state.position(), r.stats.promptTokens + 6);  // the pending token is not fed
        QCOMPARE(r.text, f.tokenizer->decode(r.tokens));
        QVERIFY(r.stats.ttftMs > 0.0 && r.stats.decodeTokensPerS > 0.0);
    }

    // Random weights: sample hot until the model happens to emit each stop token.
    void eosAndEndOfTurnStopWithoutBeingShown_data() {
        QTest::addColumn<bool>("endOfTurn");
        QTest::newRow("eos") << false;
        QTest::newRow("end_of_turn") << true;
    }
    void eosAndEndOfTurnStopWithoutBeingShown() {
        QFETCH(bool, endOfTurn);
        Fixture f;
        const int32_t stopId = endOfTurn ? *f.tokenizer->endOfTurnId() : f.tokenizer->eosId();
        const StopReason wanted = endOfTurn ? StopReason::EndOfTurn : StopReason::Eos;
        bool found = false;
        for (uint64_t seed = 0; seed < 400 && !found; ++seed) {
            GenerateOptions o;
            o.sampling.temperature = 4.0f;
            o.sampling.topK = 0;
            o.sampling.topP = 1.0f;
            o.sampling.seed = seed;
            o.maxTokens = 64;
            o.stopAtEndOfTurn = true;
            std::vector<int32_t> events;
            o.onToken = [&](const TokenEvent& e) { events.push_back(e.id); };
            State state;
            const auto r = f.run(o, "The tower", &state);
            if (r.stats.stopReason != wanted)
                continue;
            found = true;
            QCOMPARE(events.back() == -1 ? events[events.size() - 2] : events.back(), stopId);
            QVERIFY(std::find(r.tokens.begin(), r.tokens.end(), stopId) == r.tokens.end());
            QCOMPARE(static_cast<int64_t>(r.tokens.size()), r.stats.generatedTokens - 1);
            QVERIFY(!r.pending.has_value());
            QCOMPARE(state.position(), r.stats.promptTokens + r.stats.generatedTokens - 1);
        }
        QVERIFY2(found, "no seed produced the stop token");
    }

    void stopStringSplitAcrossTokensIsDetectedAndNotEmitted() {
        Fixture f;
        std::vector<std::string> pieces;
        GenerateOptions o = greedy(40);
        o.onToken = [&](const TokenEvent& e) { pieces.push_back(e.text); };
        const auto full = f.run(o);
        // A stop string made of the end of one token's text and the start of the next.
        size_t k = 0;
        while (k + 1 < pieces.size() && (pieces[k].empty() || pieces[k + 1].empty())) ++k;
        QVERIFY(k + 1 < pieces.size());
        const std::string stop =
            pieces[k].substr(pieces[k].size() - 1) + pieces[k + 1].substr(0, 1);
        std::string emitted;
        o.stopStrings = {stop, "never-appears-anywhere"};
        o.onToken = [&](const TokenEvent& e) { emitted += e.text; };
        const auto r = f.run(o);
        QCOMPARE(r.stats.stopReason, StopReason::StopString);
        QCOMPARE(r.text, full.text.substr(0, full.text.find(stop)));
        QCOMPARE(emitted, r.text);
        QVERIFY(r.pending.has_value());
    }

    void cancellationTakesEffectWithinOneToken() {
        Fixture f;
        std::stop_source source;
        GenerateOptions o = greedy(50);
        o.stop = source.get_token();
        int seen = 0;
        o.onToken = [&](const TokenEvent&) {
            if (++seen == 3)
                source.request_stop();
        };
        const auto r = f.run(o);
        QCOMPARE(r.stats.stopReason, StopReason::Cancelled);
        QCOMPARE(r.stats.generatedTokens, 3);
        QCOMPARE(r.tokens.size(), size_t{3});
    }

    void cancellationDuringPrefillReturnsNoTokens() {
        Fixture f;
        std::stop_source source;
        GenerateOptions o = greedy(50);
        o.prefillChunk = 2;
        o.stop = source.get_token();
        o.prefillProgress = [&](int64_t done, int64_t) {
            if (done >= 2)
                source.request_stop();
        };
        const auto r = f.run(o, "the quick brown fox jumps over the lazy dog");
        QCOMPARE(r.stats.stopReason, StopReason::Cancelled);
        QCOMPARE(r.stats.generatedTokens, 0);
    }

    void prefillProgressIsMonotoneAndEndsAtTotal() {
        Fixture f;
        std::vector<std::pair<int64_t, int64_t>> calls;
        GenerateOptions o = greedy(2);
        o.prefillChunk = 3;
        o.prefillProgress = [&](int64_t done, int64_t total) { calls.emplace_back(done, total); };
        const auto r = f.run(o, "the quick brown fox jumps over the lazy dog");
        QVERIFY(calls.size() >= 3);
        for (size_t i = 1; i < calls.size(); ++i) QVERIFY(calls[i].first > calls[i - 1].first);
        QCOMPARE(calls.back().first, r.stats.promptTokens);
        QCOMPARE(calls.back().second, r.stats.promptTokens);
    }

    // Plain greedy decoding asks the model for each step's argmax only (Model::stepGreedy);
    // asking for alternatives goes through the sampler. Same tokens, same probabilities.
    void plainGreedyEqualsTheSamplersGreedy() {
        Fixture f;
        GenerateOptions o = greedy(20);
        o.stopAtEndOfTurn = false;
        std::vector<std::pair<int32_t, float>> fast, full;
        o.onToken = [&](const TokenEvent& e) {
            if (e.id >= 0)
                fast.emplace_back(e.id, e.probability);
        };
        const auto a = f.run(o);
        o.sampling.topAlternatives = 1;
        o.onToken = [&](const TokenEvent& e) {
            if (e.id >= 0)
                full.emplace_back(e.id, e.probability);
        };
        const auto b = f.run(o);
        QVERIFY(fast.size() >= 2);
        QCOMPARE(a.tokens, b.tokens);
        QCOMPARE(fast, full);  // bit for bit: greedyChoice is the sampler's arithmetic
    }

    void sameSeedReproducesTheText() {
        Fixture f;
        GenerateOptions o;
        o.sampling.temperature = 1.2f;
        o.sampling.seed = 1234;
        o.maxTokens = 30;
        o.stopAtEndOfTurn = false;
        const auto a = f.run(o), b = f.run(o);
        QCOMPARE(a.tokens, b.tokens);
        QCOMPARE(a.text, b.text);
        o.sampling.seed = 99;
        QVERIFY(f.run(o).tokens != a.tokens);
    }

    // griffin-spec.md §5.4: continuing the State with only the new ids gives the same logits as
    // prefilling the whole conversation.
    void incrementalChatEqualsFullRePrefill() {
        Fixture f;
        ChatTemplate chat(*f.tokenizer);
        const std::vector<ChatMessage> first = {{Role::User, "what does quick mean"}};
        const auto firstIds = *chat.encode(first, "answer briefly", true);
        State state = f.model->newState();
        GenerateOptions o = greedy(6);
        o.stopAtEndOfTurn = true;
        auto reply = Generator(*f.model, *f.tokenizer).generate(state, firstIds, o);
        QVERIFY(reply.has_value());
        const auto next = chat.continuation(reply->pending, "and the opposite of quick");
        auto incremental = f.model->prefill(state, next);
        QVERIFY(incremental.has_value());

        std::vector<int32_t> all = firstIds;
        all.insert(all.end(), reply->tokens.begin(), reply->tokens.end());
        if (reply->pending)
            all.pop_back();  // continuation() feeds the pending token itself
        all.insert(all.end(), next.begin(), next.end());
        State fresh = f.model->newState();
        auto full = f.model->prefill(fresh, all);
        QVERIFY(full.has_value());
        QCOMPARE(fresh.position(), state.position());
        const double err = test::maxAbsDiff(*incremental, *full);
        qInfo("incremental vs full prefill: max |delta| = %.3g", err);
        QVERIFY(err <= 1e-3);
    }

    void tokenizerLargerThanTheModelIsRejected() {
        Fixture f;
        auto big = Tokenizer::load(test::testTokenizer("multi.model"));
        QVERIFY(big.has_value());
        State state = f.model->newState();
        auto r = Generator(*f.model, **big).generate(state, std::vector<int32_t>{2}, greedy(3));
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
    }

    void stopStringMatcherHoldsBackOnlyPossiblePrefixes() {
        StopStringMatcher m({"STOP"});
        QCOMPARE(m.push("abc S"), std::string("abc "));
        QCOMPARE(m.push("T"), std::string());
        QCOMPARE(m.push("x"), std::string("STx"));
        QCOMPARE(m.push("ST"), std::string());
        QCOMPARE(m.push("OP and more"), std::string());
        QVERIFY(m.matched());
        StopStringMatcher n({"\n\n"});
        QCOMPARE(n.push("line\n"), std::string("line"));
        QCOMPARE(n.flush(), std::string("\n"));
    }
};

QTEST_APPLESS_MAIN(GeneratorTest)
#include "generator_test.moc"
