// SPDX-License-Identifier: Apache-2.0
// The matrix kernels of every weight type and every instruction-set path against a float64
// reference on the same dequantized weights (and, for q8_0 / q4_0, the same quantized activations:
// 16-bit blocks, or 8-bit interleaved sets on the VNNI path), at odd sizes and on 1 and several
// threads; and the (de)quantizers against the GGUF block definitions.
#include "cpu/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include <QtTest>

#include "cpu/ops.h"
#include "quant.h"

using namespace griffin;

Q_DECLARE_METATYPE(griffin::WeightType)

namespace {

struct HostMatrix {
    std::vector<std::byte> bytes;
    std::vector<float> dequantized;  // [rows, cols]
    Matrix view;
};

HostMatrix randomMatrix(std::mt19937& rng, WeightType type, int64_t rows, int64_t cols) {
    std::normal_distribution<float> dist(0.0f, 0.5f);
    HostMatrix m;
    const size_t perRow = rowBytes(type, cols);
    m.bytes.resize(perRow * static_cast<size_t>(rows));
    m.dequantized.resize(static_cast<size_t>(rows * cols));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        for (float& v : row) v = dist(rng);
        quantizeRow(type, row.data(), cols, m.bytes.data() + r * perRow);
        dequantizeRow(type, m.bytes.data() + r * perRow, cols, m.dequantized.data() + r * cols);
    }
    m.view = Matrix{type, m.bytes.data(), rows, cols};
    return m;
}

// What the kernels multiply for `x`: x itself, or its quantized blocks decoded.
std::vector<float> effectiveActivations(const cpu::QuantizedActivations& q,
                                        const std::vector<float>& x, int64_t tokens, int64_t cols) {
    if (!isBlockQuantized(q.type))
        return x;
    std::vector<float> out(x.size());
    cpu::dequantizeActivations(q, tokens, cols, out.data());
    return out;
}

// The largest |y[t * ldy + r] - dot(row r, x row t)| over the sum of the terms' magnitudes, for
// r < rows and t < tokens, row r at w + r * ldw and x row t at x + t * k (double dot products).
double worstRelativeError(const float* w, int64_t ldw, int64_t rows, int64_t k, const float* x,
                          int64_t tokens, const std::vector<float>& y, int64_t ldy) {
    double worst = 0.0;
    for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
            double ref = 0.0, mag = 0.0;
            for (int64_t i = 0; i < k; ++i) {
                const double p = static_cast<double>(w[r * ldw + i]) * x[t * k + i];
                ref += p;
                mag += std::fabs(p);
            }
            worst = std::max(worst, std::fabs(y[static_cast<size_t>(t * ldy + r)] - ref) / mag);
        }
    }
    return worst;
}

const cpu::Isa kIsas[] = {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni};

}  // namespace

class KernelsTest : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { cpu::setIsa(cpu::supportedIsa()); }

    void quantizersFollowTheGgufBlockDefinitions() {
        // q8_0: d = max|x| / 127, q = round(x / d).
        std::vector<float> x(32);
        for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 16) * 0.25f;
        BlockQ8_0 q8;
        quantizeRow(WeightType::Q8_0, x.data(), 32, &q8);
        QCOMPARE(f16ToFloatValue(q8.d), f16ToFloatValue(floatToF16(4.0f / 127.0f)));
        QCOMPARE(static_cast<int>(q8.qs[0]), -127);
        QCOMPARE(static_cast<int>(q8.qs[16]), 0);
        // q4_0: the value of largest magnitude (-4 here) maps to nibble 0, i.e. d = -4 / -8.
        BlockQ4_0 q4;
        quantizeRow(WeightType::Q4_0, x.data(), 32, &q4);
        QCOMPARE(f16ToFloatValue(q4.d), 0.5f);
        QCOMPARE(q4.qs[0] & 0x0F, 0);     // element 0 = -4 -> -8 * 0.5
        QCOMPARE(q4.qs[0] >> 4, 8);       // element 16 = 0
        QCOMPARE(q4.qs[15] >> 4, 8 + 7);  // element 31 = 3.75 -> 7.5 -> clamped to 7
        std::vector<float> back(32);
        dequantizeRow(WeightType::Q4_0, &q4, 32, back.data());
        QCOMPARE(back[0], -4.0f);
        QCOMPARE(back[31], 3.5f);
        // A zero block stays zero (no division by zero).
        std::vector<float> zeros(32, 0.0f);
        quantizeRow(WeightType::Q8_0, zeros.data(), 32, &q8);
        dequantizeRow(WeightType::Q8_0, &q8, 32, back.data());
        for (float v : back) QCOMPARE(v, 0.0f);
    }

    void halfConversionRoundsToNearestEven() {
        QCOMPARE(floatToF16(1.0f), uint16_t{0x3C00});
        QCOMPARE(floatToF16(-2.0f), uint16_t{0xC000});
        QCOMPARE(floatToF16(65504.0f), uint16_t{0x7BFF});
        QCOMPARE(floatToF16(1e6f), uint16_t{0x7C00});
        QCOMPARE(floatToF16(5.9604645e-08f), uint16_t{0x0001});         // smallest subnormal
        QCOMPARE(floatToF16(1.0f + 1.0f / 2048.0f), uint16_t{0x3C00});  // tie -> even
        QCOMPARE(floatToF16(1.0f + 3.0f / 2048.0f), uint16_t{0x3C02});  // tie -> even (up)
        for (uint32_t h = 0; h < 0x7C00; h += 7) {
            const float f = f16ToFloatValue(static_cast<uint16_t>(h));
            QCOMPARE(floatToF16(f), static_cast<uint16_t>(h));
        }
    }

    void everyPathMatchesTheReference_data() {
        QTest::addColumn<WeightType>("type");
        QTest::addColumn<int>("isa");
        for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::F16, WeightType::Q8_0,
                             WeightType::Q4_0}) {
            for (cpu::Isa isa : kIsas) {
                QTest::newRow((std::string(weightTypeName(t)) + "/" + cpu::isaName(isa)).c_str())
                    << t << static_cast<int>(isa);
            }
        }
    }
    void everyPathMatchesTheReference() {
        QFETCH(WeightType, type);
        QFETCH(int, isa);
        const cpu::Isa active = cpu::setIsa(static_cast<cpu::Isa>(isa));
        if (active != static_cast<cpu::Isa>(isa))
            QSKIP("this CPU lacks the instruction set");
        std::mt19937 rng(7);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const bool blocks = isBlockQuantized(type);
        // Odd row counts (tile remainders), odd token counts, column counts with SIMD tails.
        // Block counts: 1, 3, 4, 5, 17, 35 and 81 (the VNNI path's sets of 16 blocks: one
        // partial set, a whole one and a partial one, two whole ones and a partial one, and
        // more than one slice of 4 sets for several tokens).
        const int64_t colsList[] = {32, 96, 128, 160, 544, 1120, 2592};
        const int64_t oddCols[] = {1, 7, 17, 33, 100};
        double worst = 0.0;
        // 13 and 200 tokens: the AVX-512 float path's packed panels (12 tokens per kernel, 192
        // per block), with 45 rows = a whole and a partial 32-row panel.
        for (int64_t rows : {1, 3, 4, 5, 13, 45}) {
            for (int64_t tokens : {1, 2, 3, 4, 7, 13, 200}) {
                if (tokens == 200 && rows != 45)
                    continue;
                std::vector<int64_t> cols(std::begin(colsList), std::end(colsList));
                if (!blocks)
                    cols.insert(cols.end(), std::begin(oddCols), std::end(oddCols));
                // Decode of long rows (bf16 reads them in pairs from 4096 columns on): 4128 =
                // 64 x 64 + 32, and 4133 with a masked tail.
                if (tokens == 1) {
                    cols.push_back(4128);
                    if (!blocks)
                        cols.push_back(4133);
                }
                for (int64_t k : cols) {
                    HostMatrix w = randomMatrix(rng, type, rows, k);
                    std::vector<float> x(static_cast<size_t>(tokens * k));
                    for (float& v : x) v = dist(rng);
                    cpu::QuantizedActivations xq;
                    cpu::quantizeActivations(active, type, x.data(), tokens, k, xq);
                    const std::vector<float> xe = effectiveActivations(xq, x, tokens, k);
                    // With 16 guard values after y, which no path may write (the decode
                    // kernels store 16 rows' sums at a time).
                    std::vector<float> y(static_cast<size_t>(tokens * rows), NAN);
                    y.resize(y.size() + 16, -7.0f);
                    cpu::gemmRows(active, w.view, 0, rows, x.data(), &xq, tokens, y.data(), rows);
                    QVERIFY(std::all_of(y.end() - 16, y.end(), [](float v) { return v == -7.0f; }));
                    for (int64_t t = 0; t < tokens; ++t) {
                        for (int64_t r = 0; r < rows; ++r) {
                            double ref = 0.0, mag = 0.0;
                            for (int64_t i = 0; i < k; ++i) {
                                const double p = static_cast<double>(w.dequantized[r * k + i]) *
                                                 xe[static_cast<size_t>(t * k + i)];
                                ref += p;
                                mag += std::fabs(p);
                            }
                            const double err = std::fabs(y[t * rows + r] - ref) / (mag + 1e-30);
                            worst = std::max(worst, err);
                            // Float accumulation: relative to the sum of magnitudes.
                            QVERIFY2(err < 1e-5,
                                     qPrintable(QString("rows %1 tokens %2 k %3: %4 vs %5")
                                                    .arg(rows)
                                                    .arg(tokens)
                                                    .arg(k)
                                                    .arg(y[t * rows + r])
                                                    .arg(ref)));
                        }
                    }
                }
            }
        }
        qInfo("%s on %s: max error / sum|w x| = %.2e", weightTypeName(type), cpu::isaName(active),
              worst);
    }

    // A prefill past every block edge of the AVX-512 panel GEMM: 400 tokens (a token block of
    // 384 and 16 more), 600 rows (a row block of 512 and 88 more, the last panel partial) and
    // 300 columns (a k slice of 256 and 44 more), against a float64 reference.
    void prefillCrossesThePanelBlocks_data() {
        QTest::addColumn<WeightType>("type");
        for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::F16})
            QTest::newRow(weightTypeName(t)) << t;
    }
    void prefillCrossesThePanelBlocks() {
        QFETCH(WeightType, type);
        std::mt19937 rng(23);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t rows = 600, k = 300, tokens = 400;
        HostMatrix w = randomMatrix(rng, type, rows, k);
        std::vector<float> x(static_cast<size_t>(tokens * k));
        for (float& v : x) v = dist(rng);
        for (cpu::Isa isa : kIsas) {
            if (cpu::setIsa(isa) != isa)
                continue;
            // Into a wider y (ldy > rows), whose other columns must stay as they were.
            const int64_t ldy = rows + 5;
            std::vector<float> y(static_cast<size_t>(tokens * ldy), -7.0f);
            cpu::gemmRows(isa, w.view, 0, rows, x.data(), nullptr, tokens, y.data(), ldy);
            const double worst =
                worstRelativeError(w.dequantized.data(), k, rows, k, x.data(), tokens, y, ldy);
            for (int64_t t = 0; t < tokens; ++t) {
                for (int64_t r = rows; r < ldy; ++r) QCOMPARE(y[t * ldy + r], -7.0f);
            }
            QVERIFY2(worst < 1e-5, qPrintable(QString("%1: %2").arg(cpu::isaName(isa)).arg(worst)));
        }
    }

    // gemmF32 as attention calls it (rows `ldw` floats apart, a head's slice of each), for every
    // token count a decode step can bring (the query heads sharing a key head: 1 to 16 and more,
    // the AVX-512 path for 2 to 16 is its own kernel), rows not a multiple of its tile of 4,
    // head widths with and without a multiple of 16, and a `next` to prefetch: against double
    // dot products, y's other columns untouched.
    void attentionScoresOnEveryPath() {
        std::mt19937 rng(29);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        for (int64_t hd : {int64_t{256}, int64_t{48}, int64_t{40}}) {
            const int64_t rows = 45, ldw = 3 * hd + 8;  // 3 heads per row, and a gap
            std::vector<float> keys(static_cast<size_t>(rows * ldw)), values(keys.size());
            for (float& v : keys) v = dist(rng);
            for (float& v : values) v = dist(rng);
            const float* w = keys.data() + hd;  // head 1's slice
            for (int64_t tokens : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{7}, int64_t{10},
                                   int64_t{16}, int64_t{17}}) {
                std::vector<float> x(static_cast<size_t>(tokens * hd));
                for (float& v : x) v = dist(rng);
                for (cpu::Isa isa : kIsas) {
                    if (cpu::setIsa(isa) != isa)
                        continue;
                    const int64_t ldy = rows + 3;
                    std::vector<float> y(static_cast<size_t>(tokens * ldy), -7.0f);
                    cpu::gemmF32(isa, w, ldw, rows, hd, x.data(), tokens, y.data(), ldy,
                                 values.data() + hd);
                    const double worst =
                        worstRelativeError(w, ldw, rows, hd, x.data(), tokens, y, ldy);
                    for (int64_t t = 0; t < tokens; ++t) {
                        for (int64_t r = rows; r < ldy; ++r) QCOMPARE(y[t * ldy + r], -7.0f);
                    }
                    QVERIFY2(worst < 1e-6, qPrintable(QString("%1, %2 tokens, width %3: %4")
                                                          .arg(cpu::isaName(isa))
                                                          .arg(tokens)
                                                          .arg(hd)
                                                          .arg(worst)));
                }
            }
        }
    }

    // The vector RG-LRU step against the scalar rgLruStep on every path: gate pre-activations
    // from -40 to 40 and a few far out (their exponentials overflow and underflow in double),
    // log a from -60 to -1e-7 (a from 0 to just under 1, where sqrt(1 - a^2) needs expm1), with
    // and without the reset, over an odd channel count (a masked tail). Each float must be the
    // scalar one or its neighbour, and neighbours must stay rare.
    void rgLruStepsMatchTheScalarStep() {
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> pre(-40.0f, 40.0f), unit(0.0f, 1.0f);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t n = 4099;
        std::vector<float> x(n), gx(n), ga(n), logA(n), y(n), h0(n);
        for (int64_t i = 0; i < n; ++i) {
            x[i] = dist(rng);
            gx[i] = pre(rng);
            ga[i] = pre(rng);
            logA[i] = -std::pow(10.0f, -7.0f + 8.78f * unit(rng));  // -1e-7 .. -60
            y[i] = dist(rng);
            h0[i] = dist(rng);
        }
        const float far[] = {-1e4f, 1e4f, -800.0f, 750.0f, 0.0f, -0.0f, 1e-30f, -90.0f, 90.0f};
        for (size_t j = 0; j < std::size(far); ++j) {
            gx[j] = far[j];
            ga[std::size(far) - 1 - j] = far[j];
        }
        auto ulps = [](float a, float b) {
            int32_t ia, ib;
            std::memcpy(&ia, &a, 4);
            std::memcpy(&ib, &b, 4);
            if ((ia < 0) != (ib < 0))
                return a == b ? 0L : 1L << 30;
            return std::labs(static_cast<long>(ia) - ib);
        };
        for (bool reset : {false, true}) {
            std::vector<float> wantH(h0), wantGated(n);
            for (int64_t i = 0; i < n; ++i) {
                wantH[i] = cpu::rgLruStep(x[i], gx[i], ga[i], logA[i], h0[i], reset);
                wantGated[i] = wantH[i] * y[i];
            }
            for (cpu::Isa isa : kIsas) {
                if (cpu::setIsa(isa) != isa)
                    continue;
                std::vector<float> h(h0), gated(n, -7.0f);
                cpu::rgLruSteps(isa, x.data(), gx.data(), ga.data(), logA.data(), y.data(), reset,
                                n, h.data(), gated.data());
                long worst = 0;
                int64_t differ = 0;
                for (int64_t i = 0; i < n; ++i) {
                    const long d = std::max(ulps(h[i], wantH[i]), ulps(gated[i], wantGated[i]));
                    worst = std::max(worst, d);
                    differ += d != 0;
                }
                qInfo("%s, reset %d: %lld of %lld channels differ, by at most %ld ulp",
                      cpu::isaName(isa), reset, static_cast<long long>(differ),
                      static_cast<long long>(n), worst);
                QVERIFY(worst <= 1);
                QVERIFY(differ <= n / 1000);
            }
        }
    }

    // The AVX-512 and AVX2 activation quantizers write the bytes of the portable definition.
    void interleavedActivationsMatchTheReference_data() {
        QTest::addColumn<int>("isa");
        for (cpu::Isa isa : {cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Avx512Vnni})
            QTest::newRow(cpu::isaName(isa)) << static_cast<int>(isa);
    }
    void interleavedActivationsMatchTheReference() {
        QFETCH(int, isa);
        const auto wanted = static_cast<cpu::Isa>(isa);
        if (cpu::setIsa(wanted) != wanted)
            QSKIP("this CPU lacks the instruction set");
        std::mt19937 rng(13);
        std::normal_distribution<float> dist(0.0f, 3.0f);
        for (WeightType type : {WeightType::Q8_0, WeightType::Q4_0}) {
            // Partial last sets (32, 96, 544), a whole one (512), several rows.
            for (int64_t cols : {32, 64, 96, 512, 544, 2560}) {
                const int64_t rows = 3;
                std::vector<float> x(static_cast<size_t>(rows * cols));
                for (float& v : x) v = dist(rng);
                // A zero block, a block of one tiny value, and exact ties (x * inv = k + 0.5).
                std::fill_n(x.begin(), 32, 0.0f);
                if (cols >= 64) {
                    std::fill_n(x.begin() + 32, 32, 0.0f);
                    x[40] = 1e-30f;
                }
                for (int i = 0; i < 8; ++i) x[static_cast<size_t>(cols + i)] = 0.5f + i;
                x[static_cast<size_t>(cols + 8)] = 127.0f;
                cpu::QuantizedActivations fast;
                cpu::quantizeActivations(wanted, type, x.data(), rows, cols, fast);
                QVERIFY(cpu::readsInterleaved(wanted, type));
                if (cpu::readsInterleaved16(wanted, type)) {  // q8_0 without VNNI: 16 bits
                    QVERIFY(fast.interleaved.empty() && fast.blocks.empty());
                    std::vector<cpu::abi::ActInterleaved16> reference16;
                    cpu::quantizeInterleaved16Reference(x.data(), rows, cols, reference16);
                    QCOMPARE(fast.interleaved16.size(), reference16.size());
                    QVERIFY2(
                        std::memcmp(fast.interleaved16.data(), reference16.data(),
                                    reference16.size() * sizeof(cpu::abi::ActInterleaved16)) == 0,
                        qPrintable(QString("16-bit, %1 columns").arg(cols)));
                    // Block 1's value 5 and its excess, by the definition (BlockAct's rounding).
                    const auto& set = reference16[0];
                    if (cols >= 64) {
                        const float* v = x.data() + 32;
                        float amax = 0.0f;
                        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
                        QCOMPARE(set.d[1], amax / 32767.0f);
                        QCOMPARE(static_cast<int>(set.q[64 + 4 + 1]),
                                 static_cast<int>(std::nearbyint(v[5] * (32767.0f / amax))));
                        int sum = 0;
                        for (int i = 0; i < 32; ++i) sum += set.q[64 * (i / 4) + 4 + i % 4];
                        QCOMPARE(set.corr[1], -128 * sum);
                    }
                    continue;
                }
                QVERIFY(fast.interleaved16.empty() && fast.blocks.empty());
                std::vector<cpu::abi::ActInterleaved> reference;
                cpu::quantizeInterleavedReference(type, x.data(), rows, cols, reference);
                QCOMPARE(fast.interleaved.size(), reference.size());
                QVERIFY2(std::memcmp(fast.interleaved.data(), reference.data(),
                                     reference.size() * sizeof(cpu::abi::ActInterleaved)) == 0,
                         qPrintable(QString("%1, %2 columns").arg(weightTypeName(type)).arg(cols)));
                // Block 1's value 5 (lane 1, load 1) and its excess, by the definition.
                const auto& set = reference[0];
                if (cols >= 64) {
                    const float* v = x.data() + 32;
                    float amax = 0.0f;
                    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
                    QCOMPARE(set.d[1], amax / 127.0f);
                    QCOMPARE(static_cast<int>(set.q[64 + 4 + 1]),
                             static_cast<int>(std::nearbyint(v[5] * (127.0f / amax))));
                    int sum = 0;
                    for (int i = 0; i < 32; ++i) sum += set.q[64 * (i / 4) + 4 + i % 4];
                    QCOMPARE(set.corr[1], -(type == WeightType::Q8_0 ? 128 : 8) * sum);
                }
            }
        }
    }

    void interleavedRowsRoundTrip_data() {
        QTest::addColumn<WeightType>("type");
        QTest::newRow("q8_0") << WeightType::Q8_0;
        QTest::newRow("q4_0") << WeightType::Q4_0;
    }
    void interleavedRowsRoundTrip() {
        QFETCH(WeightType, type);
        std::mt19937 rng(5);
        const bool q8 = type == WeightType::Q8_0;
        const size_t blockBytes = q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0);
        // Only a partial set, one whole set, a whole set and a 3-block one, the 2B width.
        for (int64_t cols : {32, 96, 512, 608, 2560}) {
            HostMatrix m = randomMatrix(rng, type, 1, cols);
            const size_t n = m.bytes.size();
            std::vector<std::byte> inter(n), back(n);
            interleaveRow(type, m.bytes.data(), cols, inter.data());
            QVERIFY(inter != m.bytes);
            // The definition (quant.h): block b's quant byte 4v + i at 4w * v + 4b + i of its set
            // (q8_0 plus 128), the set's scales after its quants.
            const auto* raw = reinterpret_cast<const unsigned char*>(m.bytes.data());
            const auto* got = reinterpret_cast<const unsigned char*>(inter.data());
            const int64_t blocks = cols / 32;
            for (int64_t blk = 0; blk < blocks; ++blk) {
                const int64_t first = blk / 16 * 16, b = blk - first;
                const int64_t w = std::min<int64_t>(16, blocks - first);
                const unsigned char* set = got + static_cast<size_t>(first) * blockBytes;
                const unsigned char* gguf = raw + static_cast<size_t>(blk) * blockBytes;
                const int64_t quants = q8 ? 32 : 16;
                for (int64_t q = 0; q < quants; ++q) {
                    const unsigned char want = gguf[2 + q] ^ (q8 ? 0x80 : 0x00);
                    QCOMPARE(set[4 * w * (q / 4) + 4 * b + q % 4], want);
                }
                QVERIFY(std::memcmp(set + w * quants + 2 * b, gguf, 2) == 0);
            }
            std::vector<float> values(static_cast<size_t>(cols));
            dequantizeInterleavedRow(type, inter.data(), cols, values.data());
            QCOMPARE(values, m.dequantized);
            deinterleaveRow(type, inter.data(), cols, back.data());
            QCOMPARE(back, m.bytes);
            // In place, both ways.
            std::vector<std::byte> inPlace = m.bytes;
            interleaveRow(type, inPlace.data(), cols, inPlace.data());
            QCOMPARE(inPlace, inter);
            deinterleaveRow(type, inPlace.data(), cols, inPlace.data());
            QCOMPARE(inPlace, m.bytes);
        }
    }

    // Interleaved rows give the GGUF rows' results bit for bit on every path: the VNNI kernels
    // read interleaved rows (and interleave GGUF ones as they read them), the others read GGUF
    // blocks (and get interleaved rows back in GGUF blocks).
    void interleavedMatchesGgufOnEveryPath_data() {
        QTest::addColumn<WeightType>("type");
        QTest::addColumn<int>("isa");
        for (WeightType type : {WeightType::Q8_0, WeightType::Q4_0}) {
            for (cpu::Isa isa : kIsas) {
                QTest::newRow(
                    qPrintable(QString("%1 %2").arg(weightTypeName(type)).arg(cpu::isaName(isa))))
                    << type << static_cast<int>(isa);
            }
        }
    }
    void interleavedMatchesGgufOnEveryPath() {
        QFETCH(WeightType, type);
        QFETCH(int, isa);
        const cpu::Isa active = cpu::setIsa(static_cast<cpu::Isa>(isa));
        if (active != static_cast<cpu::Isa>(isa))
            QSKIP("this CPU lacks the instruction set");
        std::mt19937 rng(9);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        for (int64_t rows : {1, 3, 5, 13, 37}) {
            for (int64_t tokens : {1, 2, 3, 7}) {
                for (int64_t k : {32, 96, 512, 544, 2592}) {
                    HostMatrix w = randomMatrix(rng, type, rows, k);
                    std::vector<std::byte> inter(w.bytes.size());
                    const size_t perRow = rowBytes(type, k);
                    for (int64_t r = 0; r < rows; ++r)
                        interleaveRow(type, w.bytes.data() + r * perRow, k,
                                      inter.data() + r * perRow);
                    Matrix g{type, inter.data(), rows, k};
                    g.interleaved = true;
                    std::vector<float> x(static_cast<size_t>(tokens * k));
                    for (float& v : x) v = dist(rng);
                    cpu::QuantizedActivations xq;
                    cpu::quantizeActivations(active, type, x.data(), tokens, k, xq);
                    // A range that starts past row 0, as the thread pool's shares do.
                    const int64_t begin = rows > 2 ? 2 : 0;
                    const int64_t n = rows - begin;
                    std::vector<float> yPlain(static_cast<size_t>(tokens * n), NAN);
                    std::vector<float> yInter(yPlain.size(), NAN);
                    cpu::gemmRows(active, w.view, begin, rows, x.data(), &xq, tokens, yPlain.data(),
                                  n);
                    cpu::gemmRows(active, g, begin, rows, x.data(), &xq, tokens, yInter.data(), n);
                    for (float v : yPlain) QVERIFY(!std::isnan(v));
                    QVERIFY2(
                        yInter == yPlain,
                        qPrintable(QString("rows %1 tokens %2 k %3").arg(rows).arg(tokens).arg(k)));
                }
            }
        }
        // The embedding lookup reads interleaved rows too.
        HostMatrix w = randomMatrix(rng, type, 3, 544);
        for (int64_t r = 0; r < 3; ++r) {
            const size_t at = static_cast<size_t>(r) * rowBytes(type, 544);
            interleaveRow(type, w.bytes.data() + at, 544, w.bytes.data() + at);
        }
        w.view.interleaved = true;
        std::vector<float> row(544);
        loadRow(w.view, 2, row.data());
        QVERIFY(std::equal(row.begin(), row.end(), w.dequantized.begin() + 2 * 544));
    }

    // The decode prefetch distances (GRIFFIN_DECODE_PREFETCH into L2, _NEAR into L1) only move
    // loads earlier: none, Intel's defaults (3 KiB and 768 bytes) and distances past the
    // matrix's end give the same results bit for bit, and both are clamped to [0, 1 MiB].
    void decodePrefetchLeavesResultsUnchanged() {
        const int64_t saved = cpu::decodePrefetchBytes();
        const int64_t savedNear = cpu::decodePrefetchNearBytes();
        cpu::setDecodePrefetchBytes(-5);
        QCOMPARE(cpu::decodePrefetchBytes(), int64_t{0});
        cpu::setDecodePrefetchBytes(int64_t{1} << 40);
        QCOMPARE(cpu::decodePrefetchBytes(), int64_t{1} << 20);
        cpu::setDecodePrefetchNearBytes(-5);
        QCOMPARE(cpu::decodePrefetchNearBytes(), int64_t{0});
        cpu::setDecodePrefetchNearBytes(int64_t{1} << 40);
        QCOMPARE(cpu::decodePrefetchNearBytes(), int64_t{1} << 20);
        std::mt19937 rng(17);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t rows = 37;
        // 4133: bf16's long rows (kernels_avx512_bf16.cpp), read in column blocks.
        for (const int64_t k : {int64_t{2592}, int64_t{4133}})
            for (WeightType type : {WeightType::F32, WeightType::BF16, WeightType::F16,
                                    WeightType::Q8_0, WeightType::Q4_0}) {
                if (k % 32 != 0 && isBlockQuantized(type))
                    continue;
                HostMatrix w = randomMatrix(rng, type, rows, k);
                if (isBlockQuantized(type)) {
                    const size_t perRow = rowBytes(type, k);
                    for (int64_t r = 0; r < rows; ++r)
                        interleaveRow(type, w.bytes.data() + r * perRow, k,
                                      w.bytes.data() + r * perRow);
                    w.view.interleaved = true;
                }
                std::vector<float> x(static_cast<size_t>(k));
                for (float& v : x) v = dist(rng);
                for (cpu::Isa isa : kIsas) {
                    if (cpu::setIsa(isa) != isa)
                        continue;
                    cpu::QuantizedActivations xq;
                    cpu::quantizeActivations(isa, type, x.data(), 1, k, xq);
                    std::vector<std::vector<float>> results;
                    const std::pair<int64_t, int64_t> distances[] = {
                        {0, 0}, {3072, 0}, {3072, 768}, {int64_t{1} << 20, int64_t{1} << 20}};
                    for (const auto& [bytes, nearBytes] : distances) {
                        cpu::setDecodePrefetchBytes(bytes);
                        cpu::setDecodePrefetchNearBytes(nearBytes);
                        // Rows 1.. (a share that starts past row 0); y[0] stays 0.
                        std::vector<float> y(static_cast<size_t>(rows), NAN);
                        y[0] = 0.0f;
                        cpu::gemmRows(isa, w.view, 1, rows, x.data(), &xq, 1, y.data() + 1, rows);
                        for (float v : y) QVERIFY(!std::isnan(v));
                        results.push_back(y);
                    }
                    QVERIFY2(
                        results[0] == results[1] && results[1] == results[2] &&
                            results[2] == results[3],
                        qPrintable(
                            QString("%1 %2").arg(weightTypeName(type)).arg(cpu::isaName(isa))));
                }
            }
        cpu::setDecodePrefetchBytes(saved);
        cpu::setDecodePrefetchNearBytes(savedNear);
    }

    void matmulIsTheSameOnOneAndManyThreads_data() {
        QTest::addColumn<WeightType>("type");
        for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::Q8_0, WeightType::Q4_0})
            QTest::newRow(weightTypeName(t)) << t;
    }
    void matmulIsTheSameOnOneAndManyThreads() {
        QFETCH(WeightType, type);
        std::mt19937 rng(11);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t rows = 203, k = 288, tokens = 5;
        HostMatrix w = randomMatrix(rng, type, rows, k);
        std::vector<float> x(static_cast<size_t>(tokens * k)), bias(static_cast<size_t>(rows));
        for (float& v : x) v = dist(rng);
        for (float& v : bias) v = dist(rng);
        std::vector<float> one(static_cast<size_t>(tokens * rows)), many(one.size());
        cpu::ThreadPool single(1), several(3);
        cpu::matmul(single, w.view, x.data(), tokens, bias.data(), one.data());
        cpu::matmul(several, w.view, x.data(), tokens, bias.data(), many.data());
        QCOMPARE(one, many);  // rows are independent: bit-identical
        // And the bias is added once.
        std::vector<float> noBias(one.size());
        cpu::matmul(several, w.view, x.data(), tokens, nullptr, noBias.data());
        for (int64_t t = 0; t < tokens; ++t)
            QCOMPARE(one[static_cast<size_t>(t * rows + 7)],
                     noBias[static_cast<size_t>(t * rows + 7)] + bias[7]);
    }

    void quantizedProductsStayCloseToFloat_data() {
        QTest::addColumn<WeightType>("type");
        QTest::addColumn<double>("tolerance");
        // Relative RMS error of a 1024-long dot product of N(0,1) values.
        QTest::newRow("q8_0") << WeightType::Q8_0 << 0.02;
        QTest::newRow("q4_0") << WeightType::Q4_0 << 0.12;
    }
    void quantizedProductsStayCloseToFloat() {
        QFETCH(WeightType, type);
        QFETCH(double, tolerance);
        std::mt19937 rng(3);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t rows = 64, k = 1024;
        std::vector<float> wf(static_cast<size_t>(rows * k)), x(static_cast<size_t>(k));
        for (float& v : wf) v = dist(rng);
        for (float& v : x) v = dist(rng);
        std::vector<std::byte> wq(rowBytes(type, k) * rows);
        for (int64_t r = 0; r < rows; ++r)
            quantizeRow(type, wf.data() + r * k, k, wq.data() + r * rowBytes(type, k));
        std::vector<float> yf(static_cast<size_t>(rows)), yq(yf.size());
        cpu::ThreadPool pool(1);
        cpu::matmul(pool, Matrix{WeightType::F32, wf.data(), rows, k}, x.data(), 1, nullptr,
                    yf.data());
        cpu::matmul(pool, Matrix{type, wq.data(), rows, k}, x.data(), 1, nullptr, yq.data());
        double errSq = 0.0, refSq = 0.0;
        for (int64_t r = 0; r < rows; ++r) {
            errSq += std::pow(yq[static_cast<size_t>(r)] - yf[static_cast<size_t>(r)], 2);
            refSq += std::pow(yf[static_cast<size_t>(r)], 2);
        }
        const double rel = std::sqrt(errSq / refSq);
        qInfo("%s: relative RMS error vs f32 = %.4f", weightTypeName(type), rel);
        QVERIFY(rel < tolerance);
        QVERIFY(rel > 0.0);  // it is really quantized
    }
};

QTEST_APPLESS_MAIN(KernelsTest)
#include "kernels_test.moc"
