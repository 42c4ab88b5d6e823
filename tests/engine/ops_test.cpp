// SPDX-License-Identifier: Apache-2.0
// CPU ops against the test vectors of griffin-spec.md (computed in float64 there) and against
// naive scalar versions.
#include "cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <QtTest>

#include "bf16.h"
#include "cpu/thread_pool.h"
#include "quant.h"

using namespace griffin;

class OpsTest : public QObject {
    Q_OBJECT

private slots:
    void geluIsTheTanhApproximation_data() {
        QTest::addColumn<float>("x");
        QTest::addColumn<float>("expected");
        QTest::newRow("-3") << -3.0f << -0.0036374f;
        QTest::newRow("-1") << -1.0f << -0.1588080f;
        QTest::newRow("-0.5") << -0.5f << -0.1542860f;
        QTest::newRow("0.5") << 0.5f << 0.3457140f;
        QTest::newRow("1") << 1.0f << 0.8411920f;
        QTest::newRow("3") << 3.0f << 2.9963626f;
    }
    void geluIsTheTanhApproximation() {
        QFETCH(float, x);
        QFETCH(float, expected);
        QVERIFY2(std::fabs(cpu::gelu(x) - expected) < 1e-6f,
                 qPrintable(QString::number(cpu::gelu(x))));
    }

    void geluAndSoftCapStayWithinTheirBoundsOfTheDoubleFormula() {
        // Our vectorisable tanh against libm's in double, densely over the range that matters.
        double worstGelu = 0.0, worstCap = 0.0;
        std::vector<float> xs, gates, ups;
        for (int i = -200000; i <= 200000; ++i) xs.push_back(static_cast<float>(i) * 5e-5f);
        for (float x : xs) {
            const double xd = x;
            const double inner = 0.7978845608028654 * (xd + 0.044715 * xd * xd * xd);
            const double want = 0.5 * xd * (1.0 + std::tanh(inner));
            const double err = std::fabs(cpu::gelu(x) - want) / std::max(1.0, std::fabs(xd));
            worstGelu = std::max(worstGelu, err);
        }
        QVERIFY2(worstGelu < 5e-7, qPrintable(QString::number(worstGelu)));
        // The in-place and GeGLU loops compute the same values as gelu().
        std::vector<float> inPlace = xs, times = xs, ones(xs.size(), 1.0f);
        cpu::geluInPlace(inPlace.data(), static_cast<int64_t>(inPlace.size()));
        cpu::geluTimes(times.data(), ones.data(), static_cast<int64_t>(times.size()));
        for (size_t i = 0; i < xs.size(); i += 997) {
            QCOMPARE(inPlace[i], cpu::gelu(xs[i]));
            QCOMPARE(times[i], cpu::gelu(xs[i]));
        }
        std::vector<float> logits;
        for (int i = -40000; i <= 40000; ++i) logits.push_back(static_cast<float>(i) * 5e-3f);
        std::vector<float> capped = logits;
        cpu::softCap(capped.data(), static_cast<int64_t>(capped.size()), 30.0f);
        for (size_t i = 0; i < logits.size(); ++i) {
            const double want = 30.0 * std::tanh(static_cast<double>(logits[i]) / 30.0);
            worstCap = std::max(worstCap, std::fabs(capped[i] - want));
        }
        QVERIFY2(worstCap < 1e-5, qPrintable(QString::number(worstCap)));
        qInfo("max |gelu - double formula| / max(1, |x|) = %.2e; soft cap (30) max error %.2e",
              worstGelu, worstCap);
    }

    void rmsNormAddsEpsInsideTheRootAndUsesOnePlusScale() {
        const float x1[] = {0.1f, 0.2f}, gain1[] = {1.0f, 1.0f};
        float y1[2];
        cpu::rmsNorm(x1, gain1, 1, 2, 1e-6, y1);
        QVERIFY(std::fabs(y1[0] - 0.6324429f) < 1e-6f && std::fabs(y1[1] - 1.2648858f) < 1e-6f);
        const float x2[] = {1, 2, 3, 4}, gain2[] = {1.0f, 1.5f, 0.5f, 2.0f};  // 1 + scale
        const float expected[] = {0.3651484f, 1.0954450f, 0.5477225f, 2.9211868f};
        float y2[4];
        cpu::rmsNorm(x2, gain2, 1, 4, 1e-6, y2);
        for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(y2[i] - expected[i]) < 1e-6f);
    }

    void ropeRotatesHalfSplitPairsOfTheFirstHalf() {
        float head[] = {1, 2, 3, 4, 5, 6, 7, 8};
        const float invFreq[] = {1.0f, 0.01f};
        cpu::applyRope(head, 4, 3, invFreq);
        const float expected[] = {-1.4133525f, 1.8791181f, -2.8288575f, 4.0581911f, 5, 6, 7, 8};
        for (int i = 0; i < 8; ++i) {
            QVERIFY2(std::fabs(head[i] - expected[i]) < 1e-5f, qPrintable(QString::number(i)));
        }
    }

    // The rotation computed once per position and applied to each head gives the one-call
    // values bit for bit (the CPU backend rotates every head of a position with one rotation).
    void ropeInTwoStepsIsTheSame() {
        std::vector<float> inv(64);
        cpu::ropeInverseFrequencies(128, 10000.0, inv.data());
        std::vector<float> cos(64), sin(64);
        for (int64_t position : {0, 1, 7, 1000, 32767, 1 << 20}) {
            std::vector<float> one(256), two(256);
            for (int i = 0; i < 256; ++i) one[i] = two[i] = std::sin(0.37f * i + position);
            cpu::applyRope(one.data(), 128, position, inv.data());
            cpu::ropeRotation(128, position, inv.data(), cos.data(), sin.data());
            cpu::applyRope(two.data(), 128, cos.data(), sin.data());
            QVERIFY2(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0,
                     qPrintable(QString("position %1").arg(position)));
        }
    }

    void ropeInverseFrequenciesFollowTheBase() {
        std::vector<float> inv(64);
        cpu::ropeInverseFrequencies(128, 10000.0, inv.data());
        QCOMPARE(inv[0], 1.0f);
        QVERIFY(std::fabs(inv[1] - 0.8659643f) < 1e-6f);
        QVERIFY(std::fabs(inv[63] - 1.1547820e-4f) / 1.1547820e-4f < 1e-5f);
    }

    void rgLruStepMatchesTheSpecVectors_data() {
        QTest::addColumn<double>("aParam");
        QTest::addColumn<float>("gateAPre");
        QTest::addColumn<float>("gateXPre");
        QTest::addColumn<float>("x");
        QTest::addColumn<float>("h");
        QTest::addColumn<float>("expected");
        QTest::addColumn<float>("expectedReset");
        QTest::newRow("a=-2") << -2.0 << 0.5f << 1.0f << 0.8f << 0.3f << 0.6548497f << 0.5848469f;
        QTest::newRow("a=1") << 1.0 << -1.0f << 0.0f << -1.2f << 2.0f << -0.4803897f << -0.6f;
    }
    void rgLruStepMatchesTheSpecVectors() {
        QFETCH(double, aParam);
        QFETCH(float, gateAPre);
        QFETCH(float, gateXPre);
        QFETCH(float, x);
        QFETCH(float, h);
        QFETCH(float, expected);
        QFETCH(float, expectedReset);
        const float logA = static_cast<float>(-8.0 * std::log1p(std::exp(aParam)));
        QVERIFY(std::fabs(cpu::rgLruStep(x, gateXPre, gateAPre, logA, h, false) - expected) <
                1e-6f);
        QVERIFY(std::fabs(cpu::rgLruStep(x, gateXPre, gateAPre, logA, h, true) - expectedReset) <
                1e-6f);
    }

    void softCapBendsLargeLogits() {
        float v[] = {0.0f, 10.0f, 30.0f, 100.0f, -50.0f};
        const float expected[] = {0.0f, 9.645382f, 22.847825f, 29.923739f, -27.933288f};
        cpu::softCap(v, 5, 30.0f);
        for (int i = 0; i < 5; ++i) QVERIFY(std::fabs(v[i] - expected[i]) < 1e-5f);
    }

    void bf16RoundsToNearestEven() {
        QCOMPARE(roundToBf16(50.59644f), 50.5f);  // the 2B embedding scale
        QCOMPARE(roundToBf16(1.0f), 1.0f);
        QCOMPARE(floatToBf16(1.00390625f), uint16_t{0x3F80});  // tie -> even
        QCOMPARE(floatToBf16(1.01171875f), uint16_t{0x3F82});  // tie -> even (up)
        QVERIFY(std::isnan(bf16ToFloat(floatToBf16(NAN))));
        QCOMPARE(f16ToFloat(0x3C00), 1.0f);
        QCOMPARE(f16ToFloat(0xC000), -2.0f);
        QCOMPARE(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
    }

    // The threaded matmul against a naive triple loop, for every weight type.
    void matmulMatchesNaiveLoopsForEveryType() {
        const int64_t rows = 37, cols = 53, T = 5;
        std::vector<float> wf(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(T * cols));
        std::vector<float> bias(static_cast<size_t>(rows));
        for (size_t i = 0; i < wf.size(); ++i) wf[i] = roundToBf16(std::sin(static_cast<float>(i)));
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(static_cast<float>(i) * 0.7f);
        for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * static_cast<float>(i);
        std::vector<uint16_t> wb(wf.size());
        for (size_t i = 0; i < wf.size(); ++i) wb[i] = floatToBf16(wf[i]);
        cpu::ThreadPool pool(3);
        for (const Matrix& m : {Matrix{WeightType::F32, wf.data(), rows, cols},
                                Matrix{WeightType::BF16, wb.data(), rows, cols}}) {
            std::vector<float> y(static_cast<size_t>(T * rows));
            cpu::matmul(pool, m, x.data(), T, bias.data(), y.data());
            for (int64_t t = 0; t < T; ++t) {
                for (int64_t o = 0; o < rows; ++o) {
                    double ref = bias[static_cast<size_t>(o)];
                    for (int64_t i = 0; i < cols; ++i) {
                        ref += static_cast<double>(wf[static_cast<size_t>(o * cols + i)]) *
                               x[static_cast<size_t>(t * cols + i)];
                    }
                    QVERIFY(std::fabs(y[static_cast<size_t>(t * rows + o)] - ref) < 1e-4);
                }
            }
        }
    }

    // matmulAll splits the pool over several products' rows at once (a share can end inside one
    // product and start inside the next): the same values as separate matmul calls, for one
    // token and for several, with quantized weights, and with mixed types (run one by one).
    void matmulAllMatchesSeparateProducts() {
        const int64_t cols = 64;
        const int64_t outs[3] = {5, 38, 13};
        std::vector<std::vector<float>> wf(3);
        std::vector<std::vector<unsigned char>> wq(3);
        for (int i = 0; i < 3; ++i) {
            wf[static_cast<size_t>(i)].resize(static_cast<size_t>(outs[i] * cols));
            for (size_t j = 0; j < wf[static_cast<size_t>(i)].size(); ++j)
                wf[static_cast<size_t>(i)][j] = std::sin(static_cast<float>(j * (i + 2)));
            const size_t perRow = rowBytes(WeightType::Q8_0, cols);
            wq[static_cast<size_t>(i)].resize(perRow * static_cast<size_t>(outs[i]));
            for (int64_t r = 0; r < outs[i]; ++r) {
                quantizeRow(WeightType::Q8_0, wf[static_cast<size_t>(i)].data() + r * cols, cols,
                            wq[static_cast<size_t>(i)].data() + static_cast<size_t>(r) * perRow);
            }
        }
        std::vector<float> bias(64);
        for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.5f - 0.01f * static_cast<float>(i);
        cpu::ThreadPool pool(3);
        for (int64_t T : {int64_t{1}, int64_t{9}}) {
            std::vector<float> x(static_cast<size_t>(T * cols));
            for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(static_cast<float>(i) * 0.3f);
            for (int mix = 0; mix < 3; ++mix) {
                // 0: all f32, 1: all q8_0, 2: f32, q8_0, f32.
                std::vector<Matrix> m;
                for (int i = 0; i < 3; ++i) {
                    const bool q = mix == 1 || (mix == 2 && i == 1);
                    m.push_back(q ? Matrix{WeightType::Q8_0, wq[static_cast<size_t>(i)].data(),
                                           outs[i], cols}
                                  : Matrix{WeightType::F32, wf[static_cast<size_t>(i)].data(),
                                           outs[i], cols});
                }
                std::vector<std::vector<float>> together(3), apart(3);
                for (int i = 0; i < 3; ++i) {
                    together[static_cast<size_t>(i)].assign(static_cast<size_t>(T * outs[i]), -1);
                    apart[static_cast<size_t>(i)].assign(static_cast<size_t>(T * outs[i]), -2);
                    cpu::matmul(pool, m[static_cast<size_t>(i)], x.data(), T,
                                i == 1 ? nullptr : bias.data(),
                                apart[static_cast<size_t>(i)].data());
                }
                // Each product's `after` step: its ranges must cover its rows once, and see
                // them final (bias included) for every token.
                std::mutex mutex;
                std::vector<std::vector<int>> seen(3);
                std::vector<std::function<void(int64_t, int64_t)>> after;
                for (int i = 0; i < 3; ++i) {
                    seen[static_cast<size_t>(i)].assign(static_cast<size_t>(outs[i]), 0);
                    after.emplace_back([&, i](int64_t r0, int64_t r1) {
                        std::lock_guard lock(mutex);
                        const auto& want = apart[static_cast<size_t>(i)];
                        const auto& got = together[static_cast<size_t>(i)];
                        for (int64_t r = r0; r < r1; ++r) {
                            ++seen[static_cast<size_t>(i)][static_cast<size_t>(r)];
                            for (int64_t t = 0; t < T; ++t) {
                                const size_t at = static_cast<size_t>(t * outs[i] + r);
                                if (std::fabs(got[at] - want[at]) >= 1e-5f)
                                    seen[static_cast<size_t>(i)][static_cast<size_t>(r)] = 100;
                            }
                        }
                    });
                }
                cpu::matmulAll(pool,
                               {cpu::Product{&m[0], bias.data(), together[0].data(), &after[0]},
                                cpu::Product{&m[1], nullptr, together[1].data(), &after[1]},
                                cpu::Product{&m[2], bias.data(), together[2].data(), &after[2]}},
                               x.data(), T);
                for (int i = 0; i < 3; ++i) {
                    for (int v : seen[static_cast<size_t>(i)])
                        QVERIFY2(v == 1, qPrintable(QString("T %1, mix %2, product %3: %4")
                                                        .arg(T)
                                                        .arg(mix)
                                                        .arg(i)
                                                        .arg(v)));
                }
                for (int i = 0; i < 3; ++i) {
                    for (size_t j = 0; j < apart[static_cast<size_t>(i)].size(); ++j) {
                        QVERIFY2(std::fabs(together[static_cast<size_t>(i)][j] -
                                           apart[static_cast<size_t>(i)][j]) < 1e-5f,
                                 qPrintable(QString("T %1, mix %2, product %3, value %4")
                                                .arg(T)
                                                .arg(mix)
                                                .arg(i)
                                                .arg(j)));
                    }
                }
            }
        }
    }

    // matmulByRow: the same values as separate products, and its step sees each row once, with
    // every product's row final (bias included), for one and nine tokens, one weight type or two.
    void matmulByRowRunsTheStepOnFinalRows() {
        const int64_t cols = 64, out = 37;
        std::vector<float> wf[2];
        std::vector<unsigned char> wq[2];
        const size_t perRow = rowBytes(WeightType::Q8_0, cols);
        for (int i = 0; i < 2; ++i) {
            wf[i].resize(static_cast<size_t>(out * cols));
            for (size_t j = 0; j < wf[i].size(); ++j)
                wf[i][j] = std::sin(static_cast<float>(j) * 0.7f + static_cast<float>(i));
            wq[i].resize(perRow * static_cast<size_t>(out));
            for (int64_t r = 0; r < out; ++r)
                quantizeRow(WeightType::Q8_0, wf[i].data() + r * cols, cols,
                            wq[i].data() + static_cast<size_t>(r) * perRow);
        }
        std::vector<float> bias(static_cast<size_t>(out));
        for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.25f - 0.02f * static_cast<float>(i);
        cpu::ThreadPool pool(3);
        for (int64_t T : {int64_t{1}, int64_t{9}}) {
            std::vector<float> x(static_cast<size_t>(T * cols));
            for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(static_cast<float>(i) * 0.3f);
            for (int mix = 0; mix < 3; ++mix) {  // 0: f32, 1: q8_0, 2: f32 and q8_0
                Matrix m[2];
                for (int i = 0; i < 2; ++i) {
                    const bool q = mix == 1 || (mix == 2 && i == 1);
                    m[i] = q ? Matrix{WeightType::Q8_0, wq[i].data(), out, cols}
                             : Matrix{WeightType::F32, wf[i].data(), out, cols};
                }
                std::vector<float> apart[2], together[2];
                for (int i = 0; i < 2; ++i) {
                    apart[i].assign(static_cast<size_t>(T * out), -2.0f);
                    together[i].assign(static_cast<size_t>(T * out), -1.0f);
                    cpu::matmul(pool, m[i], x.data(), T, bias.data(), apart[i].data());
                }
                std::mutex mutex;
                std::vector<int> seen(static_cast<size_t>(out), 0);
                cpu::matmulByRow(
                    pool,
                    {cpu::Product{&m[0], bias.data(), together[0].data()},
                     cpu::Product{&m[1], bias.data(), together[1].data()}},
                    x.data(), T, [&](int64_t r0, int64_t r1) {
                        std::lock_guard lock(mutex);
                        for (int64_t r = r0; r < r1; ++r) {
                            int& v = seen[static_cast<size_t>(r)];
                            ++v;
                            for (int i = 0; i < 2; ++i) {
                                for (int64_t t = 0; t < T; ++t) {
                                    const size_t at = static_cast<size_t>(t * out + r);
                                    if (std::fabs(together[i][at] - apart[i][at]) >= 1e-5f)
                                        v = 100;
                                }
                            }
                        }
                    });
                const QString where = QString("T %1, mix %2").arg(T).arg(mix);
                for (int v : seen) QVERIFY2(v == 1, qPrintable(where));
            }
        }
    }
};

QTEST_APPLESS_MAIN(OpsTest)
#include "ops_test.moc"
