// SPDX-License-Identifier: Apache-2.0
// DecodeTuner: picks the candidate whose steps are fastest even while the machine's speed drifts
// and the steps are noisy, keeps its choice when no candidate is clearly faster, follows a
// change, and spends only its rounds on the other candidates. The CPU backend tunes its decode
// steps with it, and a tuned model computes exactly what it computes with the prefetch fixed.
#include "cpu/decode_tuner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>

#include <QtTest>

#include "cpu/kernels.h"
#include "griffin/model.h"
#include "test_files.h"

using namespace griffin;
using cpu::DecodeTuner;
using cpu::PrefetchSetting;

namespace {

const std::vector<PrefetchSetting> kCandidates = {{8192, 0}, {0, 0}, {3072, 768}, {16384, 0}};

size_t indexOf(const PrefetchSetting& s) {
    return static_cast<size_t>(std::find(kCandidates.begin(), kCandidates.end(), s) -
                               kCandidates.begin());
}

// Runs `steps` decode steps whose time is cost(candidate, step) times a machine speed that
// swings between 0.5x and 2x over some thousand steps, with +-noise; returns how many steps ran
// each candidate.
std::vector<int64_t> drive(DecodeTuner& tuner, int64_t steps,
                           const std::function<double(size_t, int64_t)>& cost, double noise,
                           std::mt19937& rng, int64_t first = 0) {
    std::uniform_real_distribution<double> jitter(1.0 - noise, 1.0 + noise);
    std::vector<int64_t> used(kCandidates.size(), 0);
    for (int64_t i = first; i < first + steps; ++i) {
        const size_t c = indexOf(tuner.next());
        if (c >= kCandidates.size())
            qFatal("the tuner returned a setting it was not given");
        ++used[c];
        const double machine = std::pow(2.0, std::sin(static_cast<double>(i) / 300.0));
        tuner.report(0.05 * cost(c, i) * machine * jitter(rng));
    }
    return used;
}

}  // namespace

class DecodeTunerTest : public QObject {
    Q_OBJECT

private slots:
    void candidatesStartWithTheDefaultWithoutRepeats() {
        const auto c = cpu::decodePrefetchCandidates();
        QVERIFY(c.size() >= 4);
        QCOMPARE(c[0].ahead, cpu::defaultDecodePrefetchBytes());
        for (size_t i = 0; i < c.size(); ++i) {
            for (size_t j = i + 1; j < c.size(); ++j) QVERIFY(!(c[i] == c[j]));
        }
        QVERIFY(std::find(c.begin(), c.end(), PrefetchSetting{0, 0}) != c.end());
    }

    void choosesTheFastestDespiteDriftAndNoise() {
        std::mt19937 rng(7);
        DecodeTuner tuner(kCandidates);
        // Candidate 2 is 10% faster than the rest; the machine's speed drifts by 4x meanwhile.
        const auto cost = [](size_t c, int64_t) { return c == 2 ? 0.9 : 1.0; };
        const int64_t firstRounds =
            DecodeTuner::kWarmupSteps + DecodeTuner::kFirstRounds * int64_t(kCandidates.size());
        drive(tuner, firstRounds, cost, 0.03, rng);
        QCOMPARE(tuner.rounds(), int64_t{DecodeTuner::kFirstRounds});
        QVERIFY(tuner.chosen() == kCandidates[2]);
        const auto scores = tuner.scores();
        QVERIFY(scores[2] < scores[0] && scores[2] < scores[1] && scores[2] < scores[3]);

        // Then the others only in a round every kStepsBetweenRounds steps.
        const int64_t later = 20 * DecodeTuner::kStepsBetweenRounds;
        const auto used = drive(tuner, later, cost, 0.03, rng, firstRounds);
        QVERIFY(tuner.chosen() == kCandidates[2]);
        const int64_t n = static_cast<int64_t>(kCandidates.size());
        const int64_t cycle = DecodeTuner::kStepsBetweenRounds + n;
        QCOMPARE(tuner.rounds() - DecodeTuner::kFirstRounds, later / cycle);
        // Each round runs each other candidate once; a last round may be under way.
        const int64_t others = used[0] + used[1] + used[3];
        const int64_t partial =
            std::max<int64_t>(0, later % cycle - DecodeTuner::kStepsBetweenRounds);
        QVERIFY(others >= later / cycle * (n - 1));
        QVERIFY(others <= later / cycle * (n - 1) + partial);
    }

    void keepsItsFirstCandidateWhenNoneIsClearlyFaster() {
        std::mt19937 rng(11);
        DecodeTuner tuner(kCandidates);
        // Within 0.6% of each other, with 1% noise: below the margin, so no switching.
        const auto cost = [](size_t c, int64_t) { return 1.0 - 0.002 * static_cast<double>(c); };
        drive(tuner, 40 * DecodeTuner::kStepsBetweenRounds, cost, 0.01, rng);
        QVERIFY(tuner.rounds() > 30);
        QVERIFY(tuner.chosen() == kCandidates[0]);
    }

    void followsAChange() {
        std::mt19937 rng(13);
        DecodeTuner tuner(kCandidates);
        const int64_t half = 10 * DecodeTuner::kStepsBetweenRounds;
        // Candidate 1 is fastest first, candidate 3 after `half` steps.
        const auto cost = [half](size_t c, int64_t step) {
            return c == (step < half ? 1u : 3u) ? 0.85 : 1.0;
        };
        drive(tuner, half, cost, 0.02, rng);
        QVERIFY(tuner.chosen() == kCandidates[1]);
        drive(tuner, (DecodeTuner::kKeptRounds + 2) * (DecodeTuner::kStepsBetweenRounds + 4), cost,
              0.02, rng, half);
        QVERIFY(tuner.chosen() == kCandidates[3]);
    }

    void unreportedStepsAndSingleCandidates() {
        DecodeTuner tuner(kCandidates);
        for (int i = 0; i < 100; ++i) (void)tuner.next();  // never reported: nothing learned
        QCOMPARE(tuner.rounds(), int64_t{0});
        QVERIFY(tuner.chosen() == kCandidates[0]);
        tuner.report(1.0);
        tuner.report(1.0);  // a second report for one step is ignored
        DecodeTuner single({{4096, 0}});
        for (int i = 0; i < 50; ++i) {
            QVERIFY((single.next() == PrefetchSetting{4096, 0}));
            single.report(0.01 * i);
        }
        QCOMPARE(single.rounds(), int64_t{0});
        DecodeTuner none({});
        QVERIFY((none.next() == PrefetchSetting{0, 0}));
    }

    // Last: fixing the prefetch (setDecodePrefetchBytes) ends tuning for the whole process.
    void tunedModelComputesWhatTheFixedPrefetchComputes() {
        if (cpu::decodePrefetchFixed())
            QSKIP("GRIFFIN_DECODE_PREFETCH(_NEAR) or GRIFFIN_DECODE_TUNE=0 fixes the prefetch");
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        LoadOptions options;
        options.backend = BackendKind::Cpu;
        auto model = Model::load(dir.path() / "model", options);
        QVERIFY2(model, model ? "" : model.error().message.c_str());
        Model& m = **model;
        QCOMPARE(m.backendCounters().decodePrefetchTuningRounds, int64_t{0});

        const int steps = 40;
        std::vector<std::vector<float>> tuned;
        std::set<std::pair<int64_t, int64_t>> settings;
        State state = m.newState();
        for (int i = 0; i < steps; ++i) {
            auto logits = m.step(state, static_cast<int32_t>(3 + i % 50));
            QVERIFY(logits);
            tuned.push_back(*logits);
            settings.insert({cpu::decodePrefetchBytes(), cpu::decodePrefetchNearBytes()});
        }
        const BackendCounters counters = m.backendCounters();
        QVERIFY(counters.decodePrefetchTuningRounds >= DecodeTuner::kFirstRounds);
        QCOMPARE(settings.size(), cpu::decodePrefetchCandidates().size());  // each one ran

        for (const PrefetchSetting fixed : cpu::decodePrefetchCandidates()) {
            cpu::setDecodePrefetchBytes(fixed.ahead);
            cpu::setDecodePrefetchNearBytes(fixed.nearAhead);
            QVERIFY(cpu::decodePrefetchFixed());
            State again = m.newState();
            for (int i = 0; i < steps; ++i) {
                auto logits = m.step(again, static_cast<int32_t>(3 + i % 50));
                QVERIFY(logits);
                QVERIFY2(*logits == tuned[static_cast<size_t>(i)], "logits differ");
            }
            QCOMPARE(cpu::decodePrefetchBytes(), fixed.ahead);  // not changed by the steps
            QCOMPARE(m.backendCounters().decodePrefetchTuningRounds, int64_t{-1});
        }
    }
};

QTEST_GUILESS_MAIN(DecodeTunerTest)
#include "decode_tuner_test.moc"
