// SPDX-License-Identifier: Apache-2.0
// Sampler: each truncation rule keeps exactly its set, the penalty lowers repeats, seeds
// reproduce, and ids past the tokenizer's vocabulary are never chosen.
#include "griffin/sampler.h"

#include <cmath>
#include <random>
#include <set>

#include <QtTest>

using namespace griffin;

namespace {

// Logits whose softmax is `probs`.
std::vector<float> logitsOf(std::initializer_list<double> probs) {
    std::vector<float> out;
    for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
    return out;
}

SamplingParams plain(float temperature = 1.0f) {
    SamplingParams p;
    p.temperature = temperature;
    p.topK = 0;
    p.topP = 1.0f;
    p.minP = 0.0f;
    p.repeatPenalty = 1.0f;
    return p;
}

std::set<int32_t> drawMany(const SamplingParams& params, const std::vector<float>& logits,
                           int n = 3000) {
    Sampler s(params, static_cast<int32_t>(logits.size()));
    std::set<int32_t> seen;
    for (int i = 0; i < n; ++i) seen.insert(s.sample(logits, {}).id);
    return seen;
}

// The truncated distribution by the book, in double: softmax of logits / temperature, every id
// ranked by probability (ties: lower id), then top-k, top-p and min-p, renormalised. Returns each
// id's probability (0 when cut) and the ranking.
std::pair<std::vector<double>, std::vector<int32_t>> truncatedByTheBook(
    const SamplingParams& p, const std::vector<float>& logits) {
    const size_t n = logits.size();
    double m = logits[0];
    for (float l : logits) m = std::max(m, static_cast<double>(l));
    std::vector<double> prob(n);
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += prob[i] = std::exp((logits[i] - m) / p.temperature);
    for (double& q : prob) q /= sum;
    std::vector<int32_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return prob[static_cast<size_t>(a)] > prob[static_cast<size_t>(b)];
    });
    size_t candidates = p.topK > 0 ? std::min(n, static_cast<size_t>(p.topK)) : n;
    size_t kept = 0;
    double mass = 0.0;
    const double best = prob[static_cast<size_t>(order[0])];
    for (; kept < candidates; ++kept) {
        const double q = prob[static_cast<size_t>(order[kept])];
        if (kept > 0 && p.minP > 0.0f && q < p.minP * best)
            break;
        mass += q;
        if (p.topP < 1.0f && mass >= p.topP) {
            ++kept;
            break;
        }
    }
    kept = std::max<size_t>(kept, 1);
    double keptMass = 0.0;
    for (size_t i = 0; i < kept; ++i) keptMass += prob[static_cast<size_t>(order[i])];
    std::vector<double> out(n, 0.0);
    for (size_t i = 0; i < kept; ++i) {
        out[static_cast<size_t>(order[i])] = prob[static_cast<size_t>(order[i])] / keptMass;
    }
    return {out, order};
}

}  // namespace

class SamplerTest : public QObject {
    Q_OBJECT

private slots:
    void temperatureZeroIsArgmaxWithTiesToTheLowestId() {
        const std::vector<float> logits = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};
        Sampler s(plain(0.0f), 5);
        for (int i = 0; i < 10; ++i) QCOMPARE(s.sample(logits, {}).id, 1);
    }

    void topKNeverLeavesTheTopK() {
        std::vector<float> logits(200);
        for (size_t i = 0; i < logits.size(); ++i)
            logits[i] = std::sin(static_cast<float>(i) * 1.7f) * 3.0f;
        std::vector<int32_t> order(logits.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
        SamplingParams p = plain(2.0f);
        p.topK = 5;
        const auto seen = drawMany(p, logits);
        const std::set<int32_t> top(order.begin(), order.begin() + 5);
        QVERIFY(std::includes(top.begin(), top.end(), seen.begin(), seen.end()));
        QCOMPARE(seen.size(), size_t{5});  // and at temperature 2 all five occur
    }

    void topPKeepsTheSmallestSetReachingP() {
        const auto logits = logitsOf({0.5, 0.3, 0.15, 0.05});
        SamplingParams p = plain();
        p.topP = 0.75f;
        QCOMPARE(drawMany(p, logits), (std::set<int32_t>{0, 1}));
        p.topP = 0.85f;
        QCOMPARE(drawMany(p, logits), (std::set<int32_t>{0, 1, 2}));
        p.topP = 0.4f;
        QCOMPARE(drawMany(p, logits), (std::set<int32_t>{0}));
    }

    void minPDropsTokensBelowTheFractionOfTheBest() {
        const auto logits = logitsOf({0.5, 0.3, 0.15, 0.05});
        SamplingParams p = plain();
        p.minP = 0.2f;  // threshold 0.1
        QCOMPARE(drawMany(p, logits), (std::set<int32_t>{0, 1, 2}));
        p.minP = 0.7f;  // threshold 0.35
        QCOMPARE(drawMany(p, logits), (std::set<int32_t>{0}));
    }

    // On a vocabulary of thousands (the sampler only ranks the tokens a rule could keep), every
    // id's probability under the truncated distribution and the reported alternatives match
    // the definition computed with a full sort, for each combination of the rules.
    void truncationMatchesTheDefinitionOnALargeVocabulary() {
        std::mt19937 rng(5);
        std::normal_distribution<float> normal(0.0f, 2.0f);
        std::vector<float> logits(3000);
        for (float& l : logits) l = normal(rng);
        for (int i = 0; i < 6; ++i) logits[static_cast<size_t>(i * 401)] += 9.0f;  // a few peaks
        struct Rules {
            int32_t topK;
            float topP, minP;
        };
        for (const Rules r : {Rules{0, 0.9f, 0.0f}, Rules{0, 0.999f, 0.0f}, Rules{0, 1.0f, 0.05f},
                              Rules{0, 0.95f, 0.01f}, Rules{0, 1.0f, 0.0f}, Rules{50, 0.9f, 0.0f},
                              Rules{0, 1.0f, 1.5f}}) {
            SamplingParams p = plain(0.7f);
            p.topK = r.topK;
            p.topP = r.topP;
            p.minP = r.minP;
            p.topAlternatives = 5;
            const auto [want, order] = truncatedByTheBook(p, logits);
            Sampler s(p, static_cast<int32_t>(logits.size()));
            const QString rules =
                QString("top-k %1, top-p %2, min-p %3").arg(r.topK).arg(r.topP).arg(r.minP);
            for (size_t id = 0; id < logits.size(); ++id) {
                const SampledToken t = s.force(logits, {}, static_cast<int32_t>(id));
                const double w = want[id];
                QVERIFY2(std::fabs(t.probability - w) <= 1e-5 * std::max(w, 1e-3),
                         qPrintable(
                             rules +
                             QString(": id %1 has %2, want %3").arg(id).arg(t.probability).arg(w)));
                if (id == 0) {
                    QCOMPARE(t.alternatives.size(), size_t{5});
                    for (size_t i = 0; i < 5; ++i) {
                        QCOMPARE(t.alternatives[i].id, order[i]);
                        QVERIFY(std::fabs(t.alternatives[i].probability -
                                          want[static_cast<size_t>(order[i])]) < 1e-6);
                    }
                }
            }
            const SampledToken drawn = s.sample(logits, {});
            QVERIFY2(want[static_cast<size_t>(drawn.id)] > 0.0, qPrintable(rules));
        }
    }

    void sampledFrequenciesFollowTheDistribution() {
        const auto logits = logitsOf({0.6, 0.3, 0.1});
        Sampler s(plain(), 3);
        int counts[3] = {};
        for (int i = 0; i < 20000; ++i) ++counts[s.sample(logits, {}).id];
        QVERIFY(std::abs(counts[0] / 20000.0 - 0.6) < 0.02);
        QVERIFY(std::abs(counts[2] / 20000.0 - 0.1) < 0.02);
    }

    void repetitionPenaltyLowersRepeatedTokens() {
        const std::vector<float> logits = {2.0f, 1.9f, -1.0f, -1.1f};
        SamplingParams p = plain(0.0f);
        p.repeatPenalty = 1.5f;
        Sampler s(p, 4);
        const int32_t recent[] = {0};
        QCOMPARE(s.sample(logits, {}).id, 0);
        QCOMPARE(s.sample(logits, recent).id, 1);  // 2.0 / 1.5 < 1.9
        // Negative logits are multiplied, i.e. also lowered; outside the window nothing changes.
        const std::vector<float> negative = {-1.0f, -1.1f};
        Sampler s2(p, 2);
        QCOMPARE(s2.sample(negative, recent).id, 1);  // -1.5 < -1.1
        p.repeatWindow = 1;
        Sampler s3(p, 4);
        const int32_t old[] = {0, 3};
        QCOMPARE(s3.sample(logits, old).id, 0);
    }

    void sameSeedReproducesAndOtherSeedsDiffer() {
        std::vector<float> logits(50);
        for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::cos(static_cast<float>(i));
        auto run = [&](uint64_t seed) {
            SamplingParams p = plain();
            p.seed = seed;
            Sampler s(p, 50);
            std::vector<int32_t> out;
            for (int i = 0; i < 100; ++i) out.push_back(s.sample(logits, {}).id);
            return out;
        };
        QCOMPARE(run(42), run(42));
        QVERIFY(run(42) != run(43));
    }

    void neverChoosesIdsPastTheVocabulary() {
        std::vector<float> logits(300, 0.0f);
        logits[299] = 50.0f;  // an embedding row the tokenizer does not have
        logits[280] = 40.0f;
        SamplingParams p = plain();
        p.topAlternatives = 5;
        Sampler s(p, 256);
        for (int i = 0; i < 500; ++i) {
            const SampledToken t = s.sample(logits, {});
            QVERIFY(t.id < 256);
            for (const auto& a : t.alternatives) QVERIFY(a.id < 256);
        }
        Sampler greedy(plain(0.0f), 256);
        QVERIFY(greedy.sample(logits, {}).id < 256);
    }

    void alternativesAreSortedAndReportProbabilities() {
        const auto logits = logitsOf({0.1, 0.6, 0.3});
        SamplingParams p = plain(0.0f);
        p.topAlternatives = 3;
        Sampler s(p, 3);
        const SampledToken t = s.sample(logits, {});
        QCOMPARE(t.id, 1);
        QVERIFY(std::abs(t.probability - 0.6f) < 1e-5f);
        QCOMPARE(t.alternatives.size(), size_t{3});
        QCOMPARE(t.alternatives[0].id, 1);
        QCOMPARE(t.alternatives[1].id, 2);
        QCOMPARE(t.alternatives[2].id, 0);
        QVERIFY(std::abs(t.alternatives[2].probability - 0.1f) < 1e-5f);
        // With top-k 1 the chosen token has probability 1 within the truncated distribution.
        SamplingParams k1 = plain();
        k1.topK = 1;
        Sampler s1(k1, 3);
        QCOMPARE(s1.sample(logits, {}).probability, 1.0f);
    }

    // Alternatives carry the probability of the distribution sampled from: top-k 2 keeps 0.5
    // and 0.3 (renormalised to 0.625 / 0.375) and gives the rest zero, still listed in order.
    void alternativesUseTheTruncatedDistribution() {
        const auto logits = logitsOf({0.5, 0.3, 0.15, 0.05});
        SamplingParams p = plain();
        p.topK = 2;
        p.topAlternatives = 4;
        Sampler s(p, 4);
        const SampledToken t = s.sample(logits, {});
        QCOMPARE(t.alternatives.size(), size_t{4});
        QVERIFY(std::abs(t.alternatives[0].probability - 0.625f) < 1e-5f);
        QVERIFY(std::abs(t.alternatives[1].probability - 0.375f) < 1e-5f);
        QCOMPARE(t.alternatives[2].id, 2);
        QCOMPARE(t.alternatives[2].probability, 0.0f);
        QCOMPARE(t.alternatives[3].probability, 0.0f);
        QCOMPARE(t.probability, t.alternatives[static_cast<size_t>(t.id)].probability);
    }

    // force() reports the forced token's probability and draws no random number: the next
    // sample equals the first sample of a fresh sampler with the same seed.
    void forcedTokensDrawNothing() {
        const auto logits = logitsOf({0.4, 0.3, 0.2, 0.1});
        SamplingParams p = plain();
        p.seed = 99;
        p.topK = 3;
        Sampler forced(p, 4), fresh(p, 4);
        const SampledToken f = forced.force(logits, {}, 1);
        QCOMPARE(f.id, 1);
        QVERIFY(std::abs(f.probability - 0.3f / 0.9f) < 1e-5f);
        QCOMPARE(forced.force(logits, {}, 3).probability, 0.0f);  // cut by top-k
        for (int i = 0; i < 20; ++i)
            QCOMPARE(forced.sample(logits, {}).id, fresh.sample(logits, {}).id);
    }
};

QTEST_APPLESS_MAIN(SamplerTest)
#include "sampler_test.moc"
