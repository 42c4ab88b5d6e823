// SPDX-License-Identifier: Apache-2.0
// Long bf16 rows in column blocks (cpu/weight_layout.h, Matrix::blockCols): the block widths, the
// values each row keeps, products that match whole rows for one row of activations and for
// several, on one thread and two, in place and as a copy of a file's matrices, and a model whose
// logits stay those of whole rows.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <QtTest>

#include "bf16.h"
#include "cpu/ops.h"
#include "cpu/thread_pool.h"
#include "cpu/weight_layout.h"
#include "gguf_model.h"
#include "griffin/gguf.h"
#include "griffin/model.h"
#include "io/gguf.h"
#include "io/page_arena.h"
#include "io/safetensors.h"
#include "model_runs.h"
#include "quant.h"
#include "test_files.h"
#include "weights.h"

using namespace griffin;

namespace {

// Sets GRIFFIN_COLUMN_BLOCKS for its lifetime.
class BlocksEnv {
public:
    explicit BlocksEnv(const char* value) { ::setenv("GRIFFIN_COLUMN_BLOCKS", value, 1); }
    ~BlocksEnv() { ::unsetenv("GRIFFIN_COLUMN_BLOCKS"); }
};

std::vector<float> rowsOf(const Matrix& m) {
    std::vector<float> v(static_cast<size_t>(m.rows * m.cols));
    for (int64_t r = 0; r < m.rows; ++r) loadRow(m, r, v.data() + r * m.cols);
    return v;
}

int64_t blockedMatrices(ModelWeights& w) {
    int64_t n = 0;
    forEachMatrix(w, [&](Matrix& m) { n += m.blockCols > 0 ? 1 : 0; });
    return n;
}

}  // namespace

class ColumnBlocksTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        test::makeTinyChatModel(m_dir.path() / "model");
        auto summary =
            quantizeModel(m_dir.path() / "model", WeightType::BF16, m_dir.path() / "bf16.gguf");
        QVERIFY2(summary, summary ? "" : summary.error().message.c_str());
    }

    void widths() {
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 7680), int64_t{2560});  // 2B MLP down
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 12288), int64_t{2048});
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 2560), int64_t{0});  // short already
        QCOMPARE(cpu::columnBlockWidth(WeightType::F32, 7680), int64_t{0});   // bf16 only
        QCOMPARE(cpu::columnBlockWidth(WeightType::Q8_0, 7680), int64_t{0});
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 96, 32), int64_t{32});
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 100, 64), int64_t{0});  // no whole 32s
        QCOMPARE(cpu::columnBlockWidth(WeightType::BF16, 7681), int64_t{0});
    }

    void theEnvironmentSetsTheWidestBlock() {
        QCOMPARE(cpu::columnBlockMaxAtLoad(), cpu::kColumnBlockMax);
        {
            BlocksEnv env("0");
            QCOMPARE(cpu::columnBlockMaxAtLoad(), int64_t{0});
        }
        {
            BlocksEnv env("128");
            QCOMPARE(cpu::columnBlockMaxAtLoad(), int64_t{128});
        }
        BlocksEnv env("many");  // not a number: the default
        QCOMPARE(cpu::columnBlockMaxAtLoad(), cpu::kColumnBlockMax);
    }

    // Products over blocks match those over whole rows: one row of activations (decode, read in
    // place) and several (prefill, gathered by block), with a bias, on one thread and two.
    void productsMatchWholeRows() {
        std::mt19937 rng(11);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int64_t rows = 45, cols = 384, width = 128;
        std::vector<uint16_t> whole(static_cast<size_t>(rows * cols));
        for (uint16_t& v : whole) v = floatToBf16(dist(rng));
        std::vector<uint16_t> blocked(whole.size());
        for (int64_t b = 0; b < cols / width; ++b)
            for (int64_t r = 0; r < rows; ++r)
                std::copy_n(whole.begin() + r * cols + b * width, width,
                            blocked.begin() + (b * rows + r) * width);
        const Matrix w{WeightType::BF16, whole.data(), rows, cols};
        Matrix wb{WeightType::BF16, blocked.data(), rows, cols};
        wb.blockCols = width;
        QCOMPARE(wb.blockCount(), int64_t{3});
        QCOMPARE(rowsOf(wb), rowsOf(w));
        std::vector<float> bias(static_cast<size_t>(rows));
        for (float& v : bias) v = dist(rng);
        for (int threads : {1, 2}) {
            cpu::ThreadPool pool(threads);
            for (int64_t tokens : {1, 2, 7}) {
                std::vector<float> x(static_cast<size_t>(tokens * cols));
                for (float& v : x) v = dist(rng);
                std::vector<float> y(static_cast<size_t>(tokens * rows)), yb(y.size());
                cpu::matmul(pool, w, x.data(), tokens, bias.data(), y.data());
                cpu::matmul(pool, wb, x.data(), tokens, bias.data(), yb.data());
                const std::vector<float> values = rowsOf(w);
                for (int64_t t = 0; t < tokens; ++t) {
                    for (int64_t r = 0; r < rows; ++r) {
                        double mag = std::fabs(bias[static_cast<size_t>(r)]);
                        for (int64_t i = 0; i < cols; ++i)
                            mag += std::fabs(static_cast<double>(values[r * cols + i]) *
                                             x[static_cast<size_t>(t * cols + i)]);
                        const size_t at = static_cast<size_t>(t * rows + r);
                        QVERIFY2(std::fabs(yb[at] - y[at]) <= 1e-6 * mag,
                                 qPrintable(QString("threads %1 tokens %2 row %3: %4 vs %5")
                                                .arg(threads)
                                                .arg(tokens)
                                                .arg(r)
                                                .arg(yb[at])
                                                .arg(y[at])));
                    }
                }
            }
        }
    }

    // Memory the archive owns (a conversion at load) is rearranged where it lies.
    void memoryTheArchiveOwnsIsBlockedInPlace() {
        auto source = io::SafetensorsArchive::open(m_dir.path() / "model");
        QVERIFY(source);
        auto config = loadModelConfig(m_dir.path() / "model" / "config.json");
        QVERIFY(config);
        auto converted = convertMatrices(std::move(*source), WeightType::BF16, 1, {}, {});
        QVERIFY(converted);
        auto weights = bindWeights(*config, **converted, "tiny", {}, {});
        QVERIFY(weights);
        const Matrix down = weights->layers[0].mlpDown;
        QCOMPARE(down.type, WeightType::BF16);
        const std::vector<float> before = rowsOf(down);
        const std::vector<float> embedding = rowsOf(weights->embedding);
        QCOMPARE(cpu::columnBlockCopyBytes(*weights, **converted, 128), int64_t{0});

        io::PageArena arena;
        auto change = cpu::blockLongRows(*weights, **converted, arena, {}, 128);
        QVERIFY2(change, change ? "" : change.error().message.c_str());
        QVERIFY(change->matrices > 0);
        QCOMPARE(change->copiedBytes, int64_t{0});
        QCOMPARE(arena.reservedBytes(), size_t{0});
        const Matrix& after = weights->layers[0].mlpDown;
        QCOMPARE(after.data, down.data);  // same memory, new order
        QVERIFY(after.blockCols > 0 && after.blockCols <= 128);
        QCOMPARE(rowsOf(after), before);
        // Row 1's first values now lie where row 0's second block began.
        const auto* bytes = static_cast<const uint16_t*>(after.data);
        QCOMPARE(bf16ToFloat(bytes[after.blockCols]), before[static_cast<size_t>(down.cols)]);
        // The embedding (gathered by row) and the RG-LRU gates keep whole rows.
        QCOMPARE(weights->embedding.blockCols, int64_t{0});
        QCOMPARE(rowsOf(weights->embedding), embedding);
        for (const LayerWeights& l : weights->layers) {
            if (l.type == BlockType::Recurrent) {
                QCOMPARE(l.recurrent.inputGate.blockCols, int64_t{0});
                QCOMPARE(l.recurrent.recurrentGate.blockCols, int64_t{0});
            }
        }
        // Done once: a second pass finds nothing left to block.
        auto again = cpu::blockLongRows(*weights, **converted, arena, {}, 128);
        QVERIFY(again);
        QCOMPARE(again->matrices, int64_t{0});
    }

    // A GGUF file's matrices are copied, the file's pages released and still read back right.
    void aFilesMatricesAreCopied() {
        auto archive = io::GgufArchive::open(m_dir.path() / "bf16.gguf");
        QVERIFY(archive);
        auto config = configFromGguf(**archive);
        QVERIFY(config);
        auto weights = bindWeights(*config, **archive, "bf16.gguf", {}, {});
        QVERIFY(weights);
        ModelWeights original = *weights;
        const std::vector<float> before = rowsOf(weights->layers[1].mlpDown);
        const int64_t copy = cpu::columnBlockCopyBytes(*weights, **archive, 128);
        QVERIFY(copy > 0);
        io::PageArena arena;
        auto change = cpu::blockLongRows(*weights, **archive, arena, {}, 128);
        QVERIFY2(change, change ? "" : change.error().message.c_str());
        QCOMPARE(change->inPlaceBytes, int64_t{0});
        QCOMPARE(change->copiedBytes, copy);
        QCOMPARE(blockedMatrices(*weights), change->matrices);
        QVERIFY(weights->layers[1].mlpDown.data != original.layers[1].mlpDown.data);
        QCOMPARE(rowsOf(weights->layers[1].mlpDown), before);
        QCOMPARE(rowsOf(original.layers[1].mlpDown), before);  // the file's pages, read again
    }

    // The tiny model in bf16 with long rows in blocks: the logits of a prefill and of decode
    // steps stay those of whole rows (the sums only add in another order). Blocks of 128 columns
    // split the MLP down projection (384) alone; blocks of 32 every projection, also those that
    // run together (matmulAll, matmulByRow with fused steps).
    void aModelKeepsItsLogits_data() {
        QTest::addColumn<QByteArray>("width");
        QTest::newRow("128") << QByteArray("128");
        QTest::newRow("32") << QByteArray("32");
    }
    void aModelKeepsItsLogits() {
        QFETCH(QByteArray, width);
        LoadOptions options;
        options.threads = 2;
        std::vector<float> whole, blocked;
        {
            BlocksEnv env("0");
            whole = test::tinyPrefillThenSteps(m_dir.path() / "bf16.gguf", options);
        }
        {
            BlocksEnv env(width.constData());
            blocked = test::tinyPrefillThenSteps(m_dir.path() / "bf16.gguf", options);
        }
        QCOMPARE(blocked.size(), whole.size());
        double worst = 0.0;
        for (size_t i = 0; i < whole.size(); ++i)
            worst = std::max(worst, static_cast<double>(std::fabs(blocked[i] - whole[i])));
        qInfo("bf16 logits, blocks of %s columns against whole rows: max |delta| %.3g",
              width.constData(), worst);
        QVERIFY(worst <= 1e-4);
    }

private:
    test::TempDir m_dir;
};

QTEST_APPLESS_MAIN(ColumnBlocksTest)
#include "column_blocks_test.moc"
