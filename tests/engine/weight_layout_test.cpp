// SPDX-License-Identifier: Apache-2.0
// The CPU backend's q8_0 / q4_0 layout (cpu/weight_layout.h): matrices the archive owns are
// rearranged in place, those of a GGUF file are copied and the file's pages released (and still
// read back right), a matrix bound twice is rearranged once, a copy is only made where it fits in
// the memory the system reports, and a model computes the same logits bit for bit whichever
// layout it gets.
#include "cpu/weight_layout.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <QtTest>

#include "cpu/kernels.h"
#include "gguf_model.h"
#include "griffin/gguf.h"
#include "griffin/model.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "io/system_memory.h"
#include "model_runs.h"
#include "quant.h"
#include "test_files.h"
#include "weights.h"

using namespace griffin;

Q_DECLARE_METATYPE(griffin::WeightType)

namespace {

// Sets GRIFFIN_BLOCK_LAYOUT for its lifetime.
class LayoutEnv {
public:
    explicit LayoutEnv(const char* value) {
        if (value != nullptr)
            ::setenv("GRIFFIN_BLOCK_LAYOUT", value, 1);
        else
            ::unsetenv("GRIFFIN_BLOCK_LAYOUT");
    }
    ~LayoutEnv() { ::unsetenv("GRIFFIN_BLOCK_LAYOUT"); }
};

// Each matrix's rows as floats.
std::vector<std::vector<float>> valuesOf(ModelWeights& weights) {
    std::vector<std::vector<float>> out;
    forEachMatrix(weights, [&](Matrix& m) {
        std::vector<float> v(static_cast<size_t>(m.rows * m.cols));
        for (int64_t r = 0; r < m.rows; ++r) loadRow(m, r, v.data() + r * m.cols);
        out.push_back(std::move(v));
    });
    return out;
}

// The GGUF archive at `path` and its weights bound.
struct BoundGguf {
    std::unique_ptr<io::GgufArchive> archive;
    ModelWeights weights;
};
BoundGguf bindGguf(const std::filesystem::path& path) {
    auto archive = io::GgufArchive::open(path);
    if (!archive)
        qFatal("%s", archive.error().message.c_str());
    auto config = configFromGguf(**archive);
    if (!config)
        qFatal("%s", config.error().message.c_str());
    auto weights = bindWeights(*config, **archive, path.string(), {}, {});
    if (!weights)
        qFatal("%s", weights.error().message.c_str());
    return {std::move(*archive), std::move(*weights)};
}

int64_t blockBytes(ModelWeights& weights) {
    int64_t n = 0;
    forEachMatrix(weights, [&](Matrix& m) {
        if (isBlockQuantized(m.type))
            n += m.rows * static_cast<int64_t>(rowBytes(m.type, m.cols));
    });
    return n;
}

}  // namespace

class WeightLayoutTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        test::makeTinyChatModel(m_dir.path() / "model");
        for (WeightType type : {WeightType::Q4_0, WeightType::Q8_0}) {
            auto summary = quantizeModel(m_dir.path() / "model", type, ggufPath(type));
            QVERIFY2(summary, summary ? "" : summary.error().message.c_str());
        }
    }

    void theEnvironmentCanKeepGgufBlocks() {
        {
            LayoutEnv env("gguf");
            QVERIFY(!cpu::interleaveAtLoad());
        }
        LayoutEnv env(nullptr);
        QCOMPARE(cpu::interleaveAtLoad(), cpu::activeIsa() != cpu::Isa::Scalar);
    }

    void memoryTheArchiveOwnsIsRearrangedInPlace() {
        auto source = io::SafetensorsArchive::open(m_dir.path() / "model");
        QVERIFY(source);
        auto config = loadModelConfig(m_dir.path() / "model" / "config.json");
        QVERIFY(config);
        auto converted = convertMatrices(std::move(*source), WeightType::Q4_0, 1, {}, {});
        QVERIFY(converted);
        const io::MemoryArchive& archive = **converted;
        auto weights = bindWeights(*config, archive, "tiny", {}, {});
        QVERIFY(weights);
        const std::vector<std::vector<float>> before = valuesOf(*weights);
        // The down projection [64, 384]: a set of 12 blocks per row, whose bytes must change.
        const Matrix down = weights->layers[0].mlpDown;
        QCOMPARE(down.type, WeightType::Q4_0);
        const size_t downBytes = rowBytes(down.type, down.cols) * static_cast<size_t>(down.rows);
        const std::vector<std::byte> downGguf(static_cast<const std::byte*>(down.data),
                                              static_cast<const std::byte*>(down.data) + downBytes);

        io::PageArena arena;
        auto change = cpu::interleaveMatrices(*weights, archive, arena);
        QVERIFY2(change, change ? "" : change.error().message.c_str());
        QVERIFY(change->matrices > 0);
        QCOMPARE(change->copiedBytes, int64_t{0});
        QCOMPARE(change->inPlaceBytes, blockBytes(*weights));
        QCOMPARE(arena.reservedBytes(), size_t{0});
        QCOMPARE(weights->layers[0].mlpDown.data, down.data);  // same memory
        QVERIFY(weights->layers[0].mlpDown.interleaved);
        QVERIFY(std::memcmp(down.data, downGguf.data(), downBytes) != 0);
        QCOMPARE(valuesOf(*weights), before);  // every value where it was
    }

    void aGgufFileIsCopiedAndItsPagesStillReadBack() {
        BoundGguf bound = bindGguf(ggufPath());
        const std::unique_ptr<io::GgufArchive>& archive = bound.archive;
        ModelWeights* weights = &bound.weights;
        const std::vector<std::vector<float>> before = valuesOf(*weights);
        ModelWeights original = *weights;

        io::PageArena arena;
        auto change = cpu::interleaveMatrices(*weights, *archive, arena);
        QVERIFY2(change, change ? "" : change.error().message.c_str());
        QCOMPARE(change->inPlaceBytes, int64_t{0});
        QCOMPARE(change->copiedBytes, blockBytes(*weights));
        QVERIFY(arena.reservedBytes() > 0);
        QVERIFY(weights->layers[0].mlpDown.data != original.layers[0].mlpDown.data);
        QCOMPARE(valuesOf(*weights), before);
        // The released file pages come back from the file unchanged.
        QCOMPARE(valuesOf(original), before);
        auto again = io::GgufArchive::open(ggufPath());
        QVERIFY(again);
        for (const auto& [name, t] : archive->tensors()) {
            const io::TensorInfo* fresh = (*again)->find(name);
            QVERIFY(fresh != nullptr && fresh->bytes == t.bytes);
            QVERIFY2(std::memcmp(fresh->data, t.data, t.bytes) == 0, name.c_str());
        }
    }

    // The copy is sized before it is made, and made only where the memory is there.
    void theCopyIsSizedAndCheckedAgainstTheAvailableMemory() {
        BoundGguf bound = bindGguf(ggufPath());
        const int64_t copy = cpu::layoutCopyBytes(bound.weights, *bound.archive);
        QCOMPARE(copy, blockBytes(bound.weights));
        // A matrix bound twice is copied once.
        ModelWeights twice = bound.weights;
        const Matrix down = twice.layers[1].mlpDown;
        twice.layers[1].mlpDown = twice.layers[0].mlpDown;
        QCOMPARE(cpu::layoutCopyBytes(twice, *bound.archive),
                 copy - down.rows * static_cast<int64_t>(rowBytes(down.type, down.cols)));
        // Memory the archive owns is changed in place: nothing to copy.
        auto source = io::SafetensorsArchive::open(m_dir.path() / "model");
        QVERIFY(source);
        auto config = loadModelConfig(m_dir.path() / "model" / "config.json");
        QVERIFY(config);
        auto converted = convertMatrices(std::move(*source), WeightType::Q8_0, 1, {}, {});
        QVERIFY(converted);
        auto owned = bindWeights(*config, **converted, "tiny", {}, {});
        QVERIFY(owned);
        QCOMPARE(cpu::layoutCopyBytes(*owned, **converted), int64_t{0});

        const int64_t gib = int64_t{1} << 30, mib = int64_t{1} << 20;
        QVERIFY(cpu::layoutCopyFits(0, int64_t{0}));
        QVERIFY(cpu::layoutCopyFits(4 * gib, std::nullopt));  // unknown: assumed enough
        QVERIFY(cpu::layoutCopyFits(4 * gib, 5 * gib));       // 1 GiB left >= 512 MiB
        QVERIFY(!cpu::layoutCopyFits(4 * gib, 4 * gib + 256 * mib));
        QVERIFY(cpu::layoutCopyFits(16 * gib, 18 * gib));  // 2 GiB left >= 16/8 GiB
        QVERIFY(!cpu::layoutCopyFits(16 * gib, 18 * gib - mib));
        QVERIFY(!cpu::layoutCopyFits(copy, int64_t{0}));
    }

    void theSystemsMemoryFiguresAreRead() {
        const char* meminfo =
            "MemTotal:       24636372 kB\nMemFree:        22000000 kB\n"
            "MemAvailable:   23162880 kB\nBuffers:           12345 kB\n";
        QCOMPARE(io::parseMemAvailable(meminfo), std::optional<int64_t>(int64_t{23162880} * 1024));
        QCOMPARE(io::parseMemAvailable("MemTotal: 5 kB\n"), std::nullopt);
        QCOMPARE(io::parseMemAvailable("MemAvailable: lots kB\n"), std::nullopt);
        QCOMPARE(io::parseMemAvailable("MemAvailable: -5 kB\n"), std::nullopt);
        QCOMPARE(io::parseMemAvailable("MemAvailable: 99999999999999999999 kB\n"), std::nullopt);
        QCOMPARE(io::parseMemAvailable(""), std::nullopt);
        // cgroup v2: limit 8 GiB, 5 GiB used of which 3 GiB page cache -> 6 GiB to take.
        const int64_t gib = int64_t{1} << 30;
        const std::string stat = "anon 2147483648\nfile " + std::to_string(3 * gib) + "\n";
        QCOMPARE(io::cgroupHeadroom(std::to_string(8 * gib) + "\n", std::to_string(5 * gib), stat,
                                    "file"),
                 std::optional<int64_t>(6 * gib));
        QCOMPARE(io::cgroupHeadroom("max\n", std::to_string(5 * gib), stat, "file"), std::nullopt);
        // Over the limit: nothing left, not a negative figure.
        QCOMPARE(io::cgroupHeadroom("100", "400", "file 0\n", "file"), std::optional<int64_t>(0));
        // cgroup v1: its "no limit", and the cache key (not the per-group "cache" line).
        QCOMPARE(io::cgroupHeadroom("9223372036854771712", "1340387328", "", "total_cache"),
                 std::nullopt);
        QCOMPARE(io::cgroupHeadroom("1000", "600", "cache 1\ntotal_cache 200\n", "total_cache"),
                 std::optional<int64_t>(600));
        QCOMPARE(io::cgroupHeadroom("", "", "", "file"), std::nullopt);
        // This machine: a figure, and not more than MemAvailable says.
        const auto available = io::availableMemoryBytes();
        QVERIFY(available.has_value());
        QVERIFY(*available > 0);
        qInfo("available memory: %lld MiB", static_cast<long long>(*available >> 20));
    }

    void progressIsReportedAndAStopCancels() {
        BoundGguf bound = bindGguf(ggufPath());
        const std::unique_ptr<io::GgufArchive>& archive = bound.archive;
        ModelWeights* weights = &bound.weights;
        ModelWeights copy = *weights;
        std::vector<double> seen;
        io::PageArena arena;
        auto change = cpu::interleaveMatrices(*weights, *archive, arena, nullptr,
                                              [&](double f) { seen.push_back(f); });
        QVERIFY(change);
        QCOMPARE(static_cast<int64_t>(seen.size()), change->matrices);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()));
        QCOMPARE(seen.back(), 1.0);

        std::stop_source stop;
        stop.request_stop();
        io::PageArena other;
        auto cancelled =
            cpu::interleaveMatrices(copy, *archive, other, nullptr, {}, stop.get_token());
        QVERIFY(!cancelled);
        QCOMPARE(cancelled.error().code, ErrorCode::Cancelled);
        forEachMatrix(copy, [](Matrix& m) { QVERIFY(!m.interleaved); });
    }

    void aMatrixBoundTwiceIsRearrangedOnce() {
        BoundGguf bound = bindGguf(ggufPath());
        const std::unique_ptr<io::GgufArchive>& archive = bound.archive;
        ModelWeights* weights = &bound.weights;
        weights->layers[1].mlpDown = weights->layers[0].mlpDown;
        const std::vector<std::vector<float>> before = valuesOf(*weights);
        io::PageArena arena;
        auto change = cpu::interleaveMatrices(*weights, *archive, arena);
        QVERIFY(change);
        QCOMPARE(weights->layers[1].mlpDown.data, weights->layers[0].mlpDown.data);
        QVERIFY(weights->layers[1].mlpDown.interleaved);
        QCOMPARE(valuesOf(*weights), before);
    }

    // The model computes the same logits with either layout, loaded from the GGUF file and
    // quantized at load.
    void logitsAreTheSameWithEitherLayout_data() {
        QTest::addColumn<WeightType>("type");
        QTest::newRow("q4_0") << WeightType::Q4_0;
        QTest::newRow("q8_0") << WeightType::Q8_0;
    }
    void logitsAreTheSameWithEitherLayout() {
        QFETCH(WeightType, type);
        std::vector<float> gguf, interleaved;
        for (bool fromFile : {true, false}) {
            LoadOptions options;
            options.threads = 2;
            std::filesystem::path path = ggufPath(type);
            if (!fromFile) {
                path = m_dir.path() / "model";
                options.quantize = type;
            }
            {
                LayoutEnv env("gguf");
                gguf = test::tinyPrefillThenSteps(path, options);
            }
            {
                LayoutEnv env(nullptr);
                interleaved = test::tinyPrefillThenSteps(path, options);
            }
            QVERIFY(!gguf.empty());
            QCOMPARE(interleaved, gguf);
        }
    }

private:
    std::filesystem::path ggufPath(WeightType type = WeightType::Q4_0) const {
        return m_dir.path() / (std::string(weightTypeName(type)) + ".gguf");
    }
    test::TempDir m_dir;
};

QTEST_APPLESS_MAIN(WeightLayoutTest)
#include "weight_layout_test.moc"
