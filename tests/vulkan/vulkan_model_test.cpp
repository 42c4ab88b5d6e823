// SPDX-License-Identifier: Apache-2.0
// The whole model on the Vulkan backend against the CPU backend and the golden vectors of the
// official reference (tiny-public, f32 and bf16): prefill, step-by-step decode, and a split
// prefill followed by decode; hidden states per layer. Runs with the validation layer
// (GRIFFIN_VULKAN_VALIDATION=1, set by CTest); any validation message fails the test.
#include <algorithm>

#include <QtTest>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "backend.h"
#include "griffin/model.h"
#include "model_runs.h"
#include "test_files.h"

using namespace griffin;
using griffin::test::maxAbsDiff;

using griffin::test::prefillAll;
using griffin::test::stepAll;

namespace {

constexpr double kTolerance = 1e-3;

// Counts the validation messages that the engine's "vulkan" logger reports.
class CountingSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    int count = 0;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::string text(msg.payload.begin(), msg.payload.end());
        if (text.rfind("validation:", 0) == 0) {
            ++count;
            qWarning("%s", text.c_str());
        }
    }
    void flush_() override {}
};

std::vector<int32_t> prefillTokens() {
    return test::tinyManifest().at("cases").at("prefill").at("tokens").get<std::vector<int32_t>>();
}

std::vector<float> golden(const QString& dtype, const std::string& file) {
    return test::readFloats(test::tinyPublicDir() / ("golden-" + dtype.toStdString()) / file);
}

bool report(const std::string& what, double err) {
    qInfo("%-40s max |delta| = %.3g (tolerance %.0e)", what.c_str(), err, kTolerance);
    return err <= kTolerance;
}

}  // namespace

class VulkanModelTest : public QObject {
    Q_OBJECT

private:
    std::shared_ptr<CountingSink> m_sink = std::make_shared<CountingSink>();

    std::unique_ptr<Model> load(const QString& dtype, BackendKind backend) {
        LoadOptions options;
        options.backend = backend;
        auto model = Model::load(test::tinyPublicDir() / ("model-" + dtype.toStdString()), options);
        if (!model)
            qFatal("load failed: %s", model.error().message.c_str());
        return std::move(*model);
    }

private slots:
    void initTestCase() {
        spdlog::register_logger(std::make_shared<spdlog::logger>("vulkan", m_sink));
        LoadOptions options;
        options.backend = BackendKind::Vulkan;
        auto probe = Model::load(test::tinyPublicDir() / "model-f32", options);
        if (!probe)
            QSKIP(qPrintable(QString("no Vulkan device: ") + probe.error().message.c_str()));
        qInfo("device: %s", (*probe)->info().device.c_str());
    }
    void cleanup() { QCOMPARE(m_sink->count, 0); }
    void cleanupTestCase() { spdlog::drop("vulkan"); }

    void initTestCase_data() {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("f32") << "f32";
        QTest::newRow("bf16") << "bf16";
    }

    void prefillMatchesCpuAndGolden() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        auto cpu = load(dtype, BackendKind::Cpu);
        QCOMPARE(gpu->info().backend, BackendKind::Vulkan);
        const auto tokens = prefillTokens();
        State gs = gpu->newState(), cs = cpu->newState();
        const auto g = prefillAll(*gpu, gs, tokens), c = prefillAll(*cpu, cs, tokens);
        QVERIFY(report("prefill vs cpu", maxAbsDiff(g, c)));
        QVERIFY(report("prefill vs golden", maxAbsDiff(g, golden(dtype, "prefill_logits.bin"))));
        QCOMPARE(gs.position(), cs.position());
        // The state the Vulkan backend leaves behind is the CPU's.
        double worst = 0.0;
        for (size_t i = 0; i < gs.recurrentLayers().size(); ++i) {
            worst =
                std::max(worst, maxAbsDiff(gs.recurrentLayers()[i].h, cs.recurrentLayers()[i].h));
        }
        for (size_t i = 0; i < gs.attentionLayers().size(); ++i) {
            worst = std::max(
                worst, maxAbsDiff(gs.attentionLayers()[i].keys, cs.attentionLayers()[i].keys));
            QCOMPARE(gs.attentionLayers()[i].slotPositions, cs.attentionLayers()[i].slotPositions);
        }
        QVERIFY(report("state after prefill vs cpu", worst));
    }

    void decodeStepsMatchCpuAndGolden() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        auto cpu = load(dtype, BackendKind::Cpu);
        const auto tokens = prefillTokens();
        State gs = gpu->newState(), cs = cpu->newState();
        const auto g = stepAll(*gpu, gs, tokens), c = stepAll(*cpu, cs, tokens);
        QVERIFY(report("decode vs cpu", maxAbsDiff(g, c)));
        QVERIFY(report("decode vs golden", maxAbsDiff(g, golden(dtype, "decode_logits.bin"))));
    }

    void splitPrefillThenDecodeMatchesGolden_data() {
        QTest::addColumn<int>("split");
        QTest::newRow("split 5") << 5;
        QTest::newRow("split 25") << 25;
    }
    void splitPrefillThenDecodeMatchesGolden() {
        QFETCH_GLOBAL(QString, dtype);
        QFETCH(int, split);
        auto gpu = load(dtype, BackendKind::Vulkan);
        const auto tokens = prefillTokens();
        const std::span<const int32_t> all(tokens);
        State state = gpu->newState();
        const auto head = prefillAll(*gpu, state, all.first(static_cast<size_t>(split)));
        const auto tail = stepAll(*gpu, state, all.subspan(static_cast<size_t>(split)));
        const std::string prefix = "prefill" + std::to_string(split);
        QVERIFY(
            report(prefix + " vs golden", maxAbsDiff(head, golden(dtype, prefix + "_logits.bin"))));
        QVERIFY(report(prefix + " + decode vs golden",
                       maxAbsDiff(tail, golden(dtype, prefix + "_decode_logits.bin"))));
    }

    void hiddenStatesMatchCpu() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        auto cpu = load(dtype, BackendKind::Cpu);
        const int64_t layers = gpu->config().numLayers;
        std::vector<std::vector<float>> seenGpu(layers + 2), seenCpu(layers + 2);
        gpu->setLayerObserver([&](int64_t layer, const float* x, int64_t rows, int64_t width) {
            seenGpu[layer + 1].assign(x, x + rows * width);
        });
        cpu->setLayerObserver([&](int64_t layer, const float* x, int64_t rows, int64_t width) {
            seenCpu[layer + 1].assign(x, x + rows * width);
        });
        const auto tokens = prefillTokens();
        State gs = gpu->newState(), cs = cpu->newState();
        prefillAll(*gpu, gs, tokens);
        prefillAll(*cpu, cs, tokens);
        double worst = 0.0;
        for (size_t i = 0; i < seenGpu.size(); ++i) {
            QVERIFY(!seenGpu[i].empty());
            worst = std::max(worst, maxAbsDiff(seenGpu[i], seenCpu[i]));
        }
        QVERIFY(report("hidden states (all layers) vs cpu", worst));
    }

    // Prefill runs the matrix products over all tokens of a batch at once, the stateful ops
    // token by token: its logits equal step-by-step decoding bit for bit, across batch
    // boundaries (64 tokens) and many times around the attention window.
    void prefillEqualsStepByStepBitForBit() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        std::vector<int32_t> tokens(150);
        for (size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = static_cast<int32_t>((i * 53 + 7) % 256);
        tokens[0] = 2;
        State a = gpu->newState(), b = gpu->newState();
        const auto prefilled = prefillAll(*gpu, a, tokens);
        const auto stepped = stepAll(*gpu, b, tokens);
        QCOMPARE(prefilled.size(), stepped.size());
        QVERIFY(prefilled == stepped);
        QVERIFY(gpu->backendCounters().lastDispatches > 0);
        // The states match too.
        QCOMPARE(a.clone().attentionLayers()[0].keys, b.clone().attentionLayers()[0].keys);
        QCOMPARE(a.recurrentLayers()[0].h, b.recurrentLayers()[0].h);
        // And the CPU reference agrees within tolerance.
        auto cpu = load(dtype, BackendKind::Cpu);
        State c = cpu->newState();
        QVERIFY(
            report("150-token prefill vs cpu", maxAbsDiff(prefilled, prefillAll(*cpu, c, tokens))));
    }

    // Discrete GPUs without resizable BAR: everything through the staging buffer. The logits
    // must be the mapped run's, bit for bit, and the golden ones within tolerance.
    void stagingThroughoutMatchesMappedMemory() {
        QFETCH_GLOBAL(QString, dtype);
        auto mapped = load(dtype, BackendKind::Vulkan);
        qputenv("GRIFFIN_VULKAN_STAGING", "1");
        auto staged = load(dtype, BackendKind::Vulkan);
        qunsetenv("GRIFFIN_VULKAN_STAGING");
        QVERIFY(mapped->backendCounters().deviceMemoryMapped);
        QVERIFY(!staged->backendCounters().deviceMemoryMapped);
        const auto tokens = prefillTokens();
        const std::span<const int32_t> all(tokens);
        State a = mapped->newState(), b = staged->newState();
        const auto headA = prefillAll(*mapped, a, all.first(5));
        const auto headB = prefillAll(*staged, b, all.first(5));
        QCOMPARE(headB, headA);
        const auto tailA = stepAll(*mapped, a, all.subspan(5));
        const auto tailB = stepAll(*staged, b, all.subspan(5));
        QCOMPARE(tailB, tailA);
        QVERIFY(report("staged prefill5 + decode vs golden",
                       maxAbsDiff(tailB, golden(dtype, "prefill5_decode_logits.bin"))));
        // The state read back through staging is the mapped one's.
        QCOMPARE(b.clone().attentionLayers()[0].keys, a.clone().attentionLayers()[0].keys);
        QCOMPARE(b.recurrentLayers()[0].h, a.recurrentLayers()[0].h);
    }

    // The state stays on the device between calls: one upload for a whole conversation, a
    // download only when the host reads it, and switching states moves each one exactly.
    void stateStaysOnTheDeviceUntilTheHostNeedsIt() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        auto cpu = load(dtype, BackendKind::Cpu);
        const auto tokens = prefillTokens();
        const std::span<const int32_t> all(tokens);
        QVERIFY(all.size() >= 12);
        State s = gpu->newState(), ref = cpu->newState();
        prefillAll(*gpu, s, all.first(4));
        stepAll(*gpu, s, all.subspan(4, 4));
        BackendCounters n = gpu->backendCounters();
        QCOMPARE(n.stateUploads, uint64_t{1});
        QCOMPARE(n.stateDownloads, uint64_t{0});
        QVERIFY(n.lastDispatches > 0);

        // Reading it (clone, save) brings it back once; stepping on needs no new upload.
        prefillAll(*cpu, ref, all.first(8));
        State copy = s.clone();
        QCOMPARE(gpu->backendCounters().stateDownloads, uint64_t{1});
        QVERIFY(report("resident state read back vs cpu",
                       maxAbsDiff(copy.recurrentLayers()[0].h, ref.recurrentLayers()[0].h)));
        (void)s.clone();
        QCOMPARE(gpu->backendCounters().stateDownloads, uint64_t{1});  // already current

        // Two states in turns: each switch stores one and loads the other, results exact.
        State other = gpu->newState();
        const auto o1 = stepAll(*gpu, other, all.first(2));            // s goes back to the host
        QCOMPARE(gpu->backendCounters().stateDownloads, uint64_t{1});  // s was current already
        const auto s1 = stepAll(*gpu, s, all.subspan(8, 2));           // other goes back
        QCOMPARE(gpu->backendCounters().stateDownloads, uint64_t{2});
        QCOMPARE(gpu->backendCounters().stateUploads, uint64_t{3});
        const auto c1 = stepAll(*cpu, ref, all.subspan(8, 2));
        QVERIFY(report("interleaved states vs cpu", maxAbsDiff(s1, c1)));
        State refOther = cpu->newState();
        QVERIFY(report("the other state vs cpu",
                       maxAbsDiff(o1, stepAll(*cpu, refOther, all.first(2)))));

        // The CPU backend continues a state that lives on the GPU (it reads it back first), and
        // the GPU then takes the CPU's writes (it uploads again).
        const auto viaCpu = stepAll(*cpu, s, all.subspan(10, 1));
        const auto refCpu = stepAll(*cpu, ref, all.subspan(10, 1));
        QVERIFY(report("cpu continuing a gpu state", maxAbsDiff(viaCpu, refCpu)));
        const uint64_t uploads = gpu->backendCounters().stateUploads;
        const auto back = stepAll(*gpu, s, all.subspan(11, 1));
        QCOMPARE(gpu->backendCounters().stateUploads, uploads + 1);
        QVERIFY(report("gpu after cpu writes",
                       maxAbsDiff(back, stepAll(*cpu, ref, all.subspan(11, 1)))));

        // A moved state keeps its link; a reset one starts over on the device.
        State moved = std::move(s);
        const uint64_t before = gpu->backendCounters().stateUploads;
        moved.reset();
        const auto fresh = stepAll(*gpu, moved, all.first(3));
        QCOMPARE(gpu->backendCounters().stateUploads, before + 1);
        State refFresh = cpu->newState();
        QVERIFY(
            report("reset state vs cpu", maxAbsDiff(fresh, stepAll(*cpu, refFresh, all.first(3)))));

        // Destroying the model hands the state back to the host first.
        State kept = gpu->newState();
        stepAll(*gpu, kept, all.first(6));
        gpu.reset();
        State refKept = cpu->newState();
        stepAll(*cpu, refKept, all.first(6));
        QVERIFY(report(
            "state after the gpu model is gone",
            maxAbsDiff(kept.attentionLayers()[0].values, refKept.attentionLayers()[0].values)));
        QCOMPARE(kept.attentionLayers()[0].slotPositions,
                 refKept.attentionLayers()[0].slotPositions);
    }

    // A decode step replays one recorded command buffer, recorded while the model loaded
    // (which also compiles every pipeline): decoding records nothing however long the
    // conversation (only prefill batches record). The greedy
    // step reduces the logits on the device: its token is the host argmax of step()'s logits, its
    // probability the sampler's, across the attention window and on the CPU backend too.
    void decodeReplaysItsCommandBufferAndGreedyRunsOnTheDevice() {
        QFETCH_GLOBAL(QString, dtype);
        auto gpu = load(dtype, BackendKind::Vulkan);
        auto cpu = load(dtype, BackendKind::Cpu);
        const auto tokens = prefillTokens();
        const int32_t limit = static_cast<int32_t>(gpu->logitsSize());
        State a = gpu->newState(), b = gpu->newState(), c = cpu->newState();
        prefillAll(*gpu, a, tokens);
        prefillAll(*gpu, b, tokens);
        const auto cpuLogits = prefillAll(*cpu, c, tokens);  // every token's row
        const int window = static_cast<int>(gpu->config().attentionWindow);
        const int steps = std::max(24, window + 8);  // past the window edge
        int32_t token =
            greedyChoice(std::span<const float>(cpuLogits).last(static_cast<size_t>(limit))).id;
        const uint64_t recordedBeforeSteps = gpu->backendCounters().recordings;
        QVERIFY(recordedBeforeSteps >= 3);  // the two decode steps and the warm-up prefill
        for (int n = 0; n < steps; ++n) {
            auto logits = gpu->step(a, token);
            QVERIFY2(logits.has_value(), logits ? "" : logits.error().message.c_str());
            const GreedyToken host = greedyChoice(*logits);
            auto device = gpu->stepGreedy(b, token, limit);
            QVERIFY(device.has_value());
            QCOMPARE(device->id, host.id);
            QVERIFY2(std::fabs(device->probability - host.probability) <= 1e-5f * host.probability,
                     qPrintable(QString("step %1: probability %2 vs %3")
                                    .arg(n)
                                    .arg(device->probability)
                                    .arg(host.probability)));
            auto onCpu = cpu->stepGreedy(c, token, limit);
            QVERIFY(onCpu.has_value());
            QCOMPARE(onCpu->id, host.id);
            token = host.id;
        }
        QCOMPARE(gpu->backendCounters().recordings, recordedBeforeSteps);
        // The limit cuts the row: the choice among the first ids only.
        State d = gpu->newState(), e = gpu->newState();
        prefillAll(*gpu, d, std::span<const int32_t>(tokens).first(3));
        prefillAll(*gpu, e, std::span<const int32_t>(tokens).first(3));
        auto stepped = gpu->step(d, tokens[3]);
        QVERIFY(stepped.has_value());
        const GreedyToken want = greedyChoice(std::span<const float>(*stepped).first(7));
        auto got = gpu->stepGreedy(e, tokens[3], 7);
        QVERIFY(got.has_value());
        QCOMPARE(got->id, want.id);
        QVERIFY(!gpu->stepGreedy(e, tokens[3], 0).has_value());
        QVERIFY(!gpu->stepGreedy(e, -1, limit).has_value());
    }

    void missingDeviceIsAClearError() {
        LoadOptions options;
        options.backend = BackendKind::Vulkan;
        options.device = "no-such-device";
        auto model = Model::load(test::tinyPublicDir() / "model-f32", options);
        QVERIFY(!model.has_value());
        QCOMPARE(model.error().code, ErrorCode::NotFound);
        QVERIFY(model.error().message.find("no-such-device") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(VulkanModelTest)
#include "vulkan_model_test.moc"
