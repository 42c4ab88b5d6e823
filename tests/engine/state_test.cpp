// SPDX-License-Identifier: Apache-2.0
// State semantics: prefill + steps equals steps only, chunking does not change results, the state
// has a fixed size, clones are independent, bad tokens and cancellation leave it consistent.
#include <numeric>
#include <utility>

#include <QtTest>

#include "griffin/model.h"
#include "state_residence.h"
#include "test_files.h"

using namespace griffin;
using test::maxAbsDiff;

namespace {

std::unique_ptr<Model> tiny() {
    auto model = Model::load(test::tinyPublicDir() / "model-f32");
    if (!model)
        qFatal("%s", model.error().message.c_str());
    return std::move(*model);
}

// 100 tokens: far past the window of 8, so the ring wraps many times.
std::vector<int32_t> longSequence() {
    std::vector<int32_t> t(100);
    for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>((i * 37 + 11) % 256);
    t[0] = 2;
    return t;
}

// Stands in for a GPU backend's device copy: download() writes `value` into the first
// recurrent layer and counts the calls.
class FakeResidence final : public detail::StateResidence {
public:
    float value = 0.0f;
    int downloads = 0;

protected:
    bool download(State& state) override {
        ++downloads;
        recurrent(state)[0].h[0] = value;
        return true;
    }
};

}  // namespace

class StateTest : public QObject {
    Q_OBJECT

private slots:
    void prefillThenStepsEqualsStepsOnly() {
        auto model = tiny();
        const auto tokens = longSequence();
        State stepped = model->newState();
        std::vector<float> last;
        for (int32_t t : tokens) last = *model->step(stepped, t);

        for (size_t split : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{50}, size_t{99}}) {
            State s = model->newState();
            auto logits = model->prefill(s, std::span(tokens).first(split));
            QVERIFY(logits.has_value());
            for (size_t i = split; i < tokens.size(); ++i) logits = model->step(s, tokens[i]);
            const double err = maxAbsDiff(*logits, last);
            QVERIFY2(err <= 1e-4, qPrintable(QString("split %1: %2").arg(split).arg(err)));
            QCOMPARE(s.position(), stepped.position());
        }
    }

    void chunkSizeDoesNotChangeTheLogits() {
        auto model = tiny();
        const auto tokens = longSequence();
        std::vector<float> reference;
        for (int64_t chunk : {int64_t{256}, int64_t{1}, int64_t{3}, int64_t{8}, int64_t{33}}) {
            State s = model->newState();
            ForwardOptions options;
            options.allLogits = true;
            options.chunkSize = chunk;
            auto logits = model->prefill(s, tokens, options);
            QVERIFY(logits.has_value());
            QCOMPARE(logits->size(), tokens.size() * 256);
            if (reference.empty()) {
                reference = *logits;
            } else {
                QVERIFY2(maxAbsDiff(*logits, reference) <= 1e-4,
                         qPrintable(QString::number(chunk)));
            }
        }
    }

    void stateSizeIsConstantAtAnyPosition() {
        auto model = tiny();
        State s = model->newState();
        const size_t fresh = s.bytes();
        QCOMPARE(static_cast<int64_t>(fresh), model->info().stateBytes);
        QVERIFY(model->prefill(s, longSequence()).has_value());
        QVERIFY(model->prefill(s, longSequence()).has_value());
        QCOMPARE(s.position(), 200);
        QCOMPARE(s.bytes(), fresh);
    }

    void cloneIsIndependentAndContinuesIdentically() {
        auto model = tiny();
        State a = model->newState();
        QVERIFY(model->prefill(a, longSequence()).has_value());
        State b = a.clone();
        auto la = model->step(a, 42);
        auto lb = model->step(b, 42);
        QCOMPARE(*la, *lb);
        QVERIFY(model->step(a, 7).has_value());
        QCOMPARE(a.position(), b.position() + 1);
        b.reset();
        QCOMPARE(b.position(), 0);
    }

    void tokenOutsideTheVocabularyIsRejectedAndStateUnchanged_data() {
        QTest::addColumn<int>("bad");
        QTest::newRow("negative") << -1;
        QTest::newRow("vocab size") << 256;
        QTest::newRow("huge") << (1 << 30);
    }
    void tokenOutsideTheVocabularyIsRejectedAndStateUnchanged() {
        QFETCH(int, bad);
        auto model = tiny();
        State s = model->newState();
        QVERIFY(model->prefill(s, std::vector<int32_t>{2, 5}).has_value());
        const std::vector<int32_t> tokens = {3, bad, 4};
        auto logits = model->prefill(s, tokens);
        QVERIFY(!logits.has_value());
        QCOMPARE(logits.error().code, ErrorCode::InvalidArgument);
        QVERIFY(QString::fromStdString(logits.error().message).contains("outside the vocabulary"));
        QCOMPARE(s.position(), 2);
    }

    void cancelStopsBetweenChunksAndKeepsTheChunksDone() {
        auto model = tiny();
        State s = model->newState();
        std::stop_source source;
        ForwardOptions options;
        options.chunkSize = 10;
        options.stop = source.get_token();
        int calls = 0;
        options.progress = [&](int64_t done, int64_t total) {
            QCOMPARE(total, 100);
            if (++calls == 3)
                source.request_stop();
            QVERIFY(done <= total);
        };
        auto logits = model->prefill(s, longSequence(), options);
        QVERIFY(!logits.has_value());
        QCOMPARE(logits.error().code, ErrorCode::Cancelled);
        QCOMPARE(s.position(), 30);
    }

    // The hooks a GPU backend relies on to keep a state on its device (state_residence.h).
    void hostAccessBringsTheDeviceCopyBack() {
        auto model = tiny();
        auto fake = std::make_shared<FakeResidence>();
        State s = model->newState();
        fake->attach(s, fake);
        QCOMPARE(fake->state(), &s);
        // Nothing newer on the device: reading does not download.
        QCOMPARE(std::as_const(s).recurrentLayers()[0].h[0], 0.0f);
        QCOMPARE(fake->downloads, 0);
        // The device ran: the first read brings its copy back, once.
        fake->hostStale = true;
        fake->value = 42.0f;
        const State copy = s.clone();
        QCOMPARE(copy.recurrentLayers()[0].h[0], 42.0f);
        QCOMPARE(std::as_const(s).recurrentLayers()[0].h[0], 42.0f);
        QCOMPARE(fake->downloads, 1);
        QVERIFY(!fake->deviceStale);
        // Layer counts and size need no download.
        fake->hostStale = true;
        QCOMPARE(s.recurrentLayerCount(), copy.recurrentLayerCount());
        QCOMPARE(s.bytes(), copy.bytes());
        QCOMPARE(fake->downloads, 1);
        // A write access downloads first and marks the device copy stale.
        s.recurrentLayers()[0].h[1] = 7.0f;
        QCOMPARE(fake->downloads, 2);
        QVERIFY(fake->deviceStale);
        // reset() needs nothing back; the device copy is stale after it.
        fake->deviceStale = false;
        fake->hostStale = true;
        s.reset();
        QVERIFY(!fake->hostStale);
        QVERIFY(fake->deviceStale);
        QCOMPARE(fake->downloads, 2);
        // Moves carry the link; destruction cuts it.
        State moved = std::move(s);
        QCOMPARE(fake->state(), &moved);
        {
            State gone = std::move(moved);
            QCOMPARE(fake->state(), &gone);
        }
        QCOMPARE(fake->state(), nullptr);
        // release() syncs and unlinks.
        State t = model->newState();
        fake->attach(t, fake);
        fake->hostStale = true;
        fake->value = 5.0f;
        detail::StateResidence::release(t);
        QCOMPARE(fake->state(), nullptr);
        QCOMPARE(std::as_const(t).recurrentLayers()[0].h[0], 5.0f);
        QCOMPARE(fake->downloads, 3);
    }

    void emptyPrefillAndForeignStateAreRejected() {
        auto model = tiny();
        State s = model->newState();
        QVERIFY(!model->prefill(s, std::vector<int32_t>{}).has_value());
        State foreign;
        QVERIFY(!model->step(foreign, 2).has_value());
    }
};

QTEST_APPLESS_MAIN(StateTest)
#include "state_test.moc"
