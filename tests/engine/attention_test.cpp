// SPDX-License-Identifier: Apache-2.0
// The CPU local attention (cpu/attention.cpp) against a naive float64 version of
// griffin-spec.md §2.7, on every instruction-set path: multi-query and grouped-query heads,
// head sizes that are not a multiple of the SIMD width, rings empty, partly filled, full and
// wrapped, with holes, chunks longer than the window, and single tokens whose keys are split
// across the pool.
#include "cpu/attention.h"

#include <cmath>
#include <random>
#include <vector>

#include <QtTest>

#include "cpu/kernels.h"
#include "cpu/thread_pool.h"

using namespace griffin;

namespace {

struct Case {
    cpu::AttentionShape shape;
    int64_t firstPos = 0;
    int64_t T = 1;
    bool holes = false;  // some ring slots empty although their position would be visible
};

struct Data {
    std::vector<float> q, k, v, ringKeys, ringValues;
    std::vector<int64_t> positions;
};

Data makeData(const Case& c, uint32_t seed) {
    const cpu::AttentionShape& s = c.shape;
    const int64_t qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim, W = s.window;
    std::mt19937 rng(seed);
    // Scores spread over a few units, as in a trained model, so the softmax is not flat.
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto fill = [&](std::vector<float>& x, int64_t n) {
        x.resize(static_cast<size_t>(n));
        for (float& e : x) e = normal(rng);
    };
    Data d;
    fill(d.q, c.T * qDim);
    fill(d.k, c.T * kvDim);
    fill(d.v, c.T * kvDim);
    fill(d.ringKeys, W * kvDim);
    fill(d.ringValues, W * kvDim);
    d.positions.assign(static_cast<size_t>(W), -1);
    // Positions firstPos - W .. firstPos - 1 (those >= 0) in slot p % W, as the state keeps them.
    for (int64_t p = std::max<int64_t>(0, c.firstPos - W); p < c.firstPos; ++p) {
        if (c.holes && p % 7 == 3)
            continue;
        d.positions[static_cast<size_t>(p % W)] = p;
    }
    return d;
}

// griffin-spec.md §2.7 in float64: query t at position firstPos + t sees ring keys at positions
// >= firstPos + t - W and its chunk's keys t - W .. t.
std::vector<double> reference(const Case& c, const Data& d) {
    const cpu::AttentionShape& s = c.shape;
    const int64_t H = s.heads, hd = s.headDim, W = s.window, G = H / s.kvHeads;
    const int64_t qDim = H * hd, kvDim = s.kvHeads * hd;
    std::vector<double> out(static_cast<size_t>(c.T * qDim), 0.0);
    for (int64_t t = 0; t < c.T; ++t) {
        const int64_t pos = c.firstPos + t;
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / G;
            const float* query = d.q.data() + t * qDim + h * hd;
            std::vector<double> scores;
            std::vector<const float*> values;
            auto visit = [&](const float* key, const float* value) {
                double dot = 0.0;
                for (int64_t i = 0; i < hd; ++i) dot += static_cast<double>(query[i]) * key[i];
                scores.push_back(dot / std::sqrt(static_cast<double>(hd)));
                values.push_back(value);
            };
            for (int64_t slot = 0; slot < W; ++slot) {
                const int64_t p = d.positions[static_cast<size_t>(slot)];
                if (p >= 0 && p >= pos - W) {
                    visit(d.ringKeys.data() + slot * kvDim + g * hd,
                          d.ringValues.data() + slot * kvDim + g * hd);
                }
            }
            for (int64_t j = std::max<int64_t>(0, t - W); j <= t; ++j)
                visit(d.k.data() + j * kvDim + g * hd, d.v.data() + j * kvDim + g * hd);
            double m = scores[0], sum = 0.0;
            for (double x : scores) m = std::max(m, x);
            for (double& x : scores) sum += (x = std::exp(x - m));
            double* o = out.data() + t * qDim + h * hd;
            for (size_t j = 0; j < scores.size(); ++j) {
                for (int64_t i = 0; i < hd; ++i) o[i] += scores[j] / sum * values[j][i];
            }
        }
    }
    return out;
}

}  // namespace

class AttentionTest : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { cpu::setIsa(cpu::supportedIsa()); }

    void matchesTheFloat64Formula_data() {
        QTest::addColumn<int>("isa");
        QTest::addColumn<int>("threads");
        for (int isa = 0; isa <= static_cast<int>(cpu::supportedIsa()); ++isa) {
            for (int threads : {1, 2, 3}) {
                QTest::addRow("%s, %d threads", cpu::isaName(static_cast<cpu::Isa>(isa)), threads)
                    << isa << threads;
            }
        }
    }
    void matchesTheFloat64Formula() {
        QFETCH(int, isa);
        QFETCH(int, threads);
        cpu::setIsa(static_cast<cpu::Isa>(isa));
        cpu::ThreadPool pool(threads);
        const cpu::AttentionShape mqa{10, 1, 64, 600};  // multi-query, as RecurrentGemma
        const cpu::AttentionShape gqa{6, 2, 40, 48};    // grouped, head size not 16k
        const cpu::AttentionShape small{4, 4, 20, 8};   // one head per key head, tiny window
        const Case cases[] = {
            {mqa, 0, 1},           // the first token: only its own key
            {mqa, 5, 1},           // decode, ring partly filled
            {mqa, 200, 1},         // decode, one part's worth of keys split over the threads
            {mqa, 599, 1},         // decode, ring one short of full: keys split across parts
            {mqa, 1000, 1},        // decode, ring full and wrapped
            {mqa, 1000, 1, true},  // ... with empty slots
            {mqa, 0, 45},          // prefill of two query blocks from empty
            {mqa, 700, 37},        // chunk after a full ring
            {gqa, 0, 130},         // chunk longer than the window, from empty
            {gqa, 30, 1},          // decode with groups
            {gqa, 100, 70, true},  // chunk over a wrapped ring with holes
            {small, 3, 20},        // window smaller than the chunk and a query block
            {small, 50, 1},
        };
        uint32_t seed = 1;
        for (const Case& c : cases) {
            const Data d = makeData(c, seed++);
            const int64_t qDim = c.shape.heads * c.shape.headDim;
            std::vector<float> out(static_cast<size_t>(c.T * qDim), std::nanf(""));
            const cpu::AttentionRing ring{d.ringKeys.data(), d.ringValues.data(),
                                          d.positions.data()};
            cpu::localAttention(pool, c.shape, ring, c.firstPos, d.q.data(), d.k.data(), d.v.data(),
                                c.T, out.data());
            const std::vector<double> want = reference(c, d);
            double worst = 0.0;
            for (size_t i = 0; i < want.size(); ++i) {
                const double err = std::fabs(out[i] - want[i]);
                worst = std::isnan(err) ? 1e9 : std::max(worst, err);
            }
            // Outputs are averages of N(0, 1) values: float rounding stays near 1e-6.
            QVERIFY2(worst < 2e-5, qPrintable(QString("heads %1/%2, hd %3, W %4, first %5, T %6: "
                                                      "max |err| %7")
                                                  .arg(c.shape.heads)
                                                  .arg(c.shape.kvHeads)
                                                  .arg(c.shape.headDim)
                                                  .arg(c.shape.window)
                                                  .arg(c.firstPos)
                                                  .arg(c.T)
                                                  .arg(worst)));
        }
    }

    void accumulateRowsMatchesTheDefinition_data() {
        QTest::addColumn<int>("isa");
        for (int isa = 0; isa <= static_cast<int>(cpu::supportedIsa()); ++isa)
            QTest::addRow("%s", cpu::isaName(static_cast<cpu::Isa>(isa))) << isa;
    }
    void accumulateRowsMatchesTheDefinition() {
        // o += p v with row counts around the register tiles (AVX-512: up to 6 rows, split
        // evenly, so 10 as 5 + 5 and 13 as 5 + 4 + 4; AVX2: 4) and column counts around their
        // widths (64 and 32 columns), odd ones included.
        QFETCH(int, isa);
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (int64_t rows : {1, 4, 5, 6, 7, 10, 12, 13, 25}) {
            for (int64_t cols : {7, 32, 45, 64, 70, 256}) {
                const int64_t keys = 19, ldp = keys + 3, ldv = cols + 5, ldo = cols + 2;
                std::vector<float> p(static_cast<size_t>(rows * ldp)),
                    v(static_cast<size_t>(keys * ldv)), o(static_cast<size_t>(rows * ldo));
                for (float& x : p) x = u(rng);
                for (float& x : v) x = u(rng);
                for (float& x : o) x = u(rng);
                std::vector<double> want(o.begin(), o.end());
                for (int64_t n = 0; n < rows; ++n) {
                    for (int64_t f = 0; f < cols; ++f) {
                        for (int64_t j = 0; j < keys; ++j) {
                            want[static_cast<size_t>(n * ldo + f)] +=
                                static_cast<double>(p[static_cast<size_t>(n * ldp + j)]) *
                                v[static_cast<size_t>(j * ldv + f)];
                        }
                    }
                }
                cpu::accumulateRows(static_cast<cpu::Isa>(isa), p.data(), ldp, rows, keys, v.data(),
                                    ldv, cols, o.data(), ldo);
                for (int64_t n = 0; n < rows; ++n) {
                    for (int64_t f = 0; f < ldo; ++f) {
                        const size_t i = static_cast<size_t>(n * ldo + f);
                        // Padding past `cols` is left alone; the rest within float rounding.
                        QVERIFY2(std::fabs(o[i] - want[i]) < 1e-5,
                                 qPrintable(QString("rows %1 cols %2: o[%3][%4] = %5, want %6")
                                                .arg(rows)
                                                .arg(cols)
                                                .arg(n)
                                                .arg(f)
                                                .arg(o[i])
                                                .arg(want[i])));
                    }
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(AttentionTest)
#include "attention_test.moc"
