// SPDX-License-Identifier: Apache-2.0
// The whole model on the Vulkan backend against the CPU backend and the golden vectors of the
// official reference (tiny-public, f32 and bf16): prefill, step-by-step decode, and a split
// prefill followed by decode; hidden states per layer. Runs with the validation layer
// (GRIFFIN_VULKAN_VALIDATION=1, set by CTest); any validation message fails the test.
#include <algorithm>

#include <QtTest>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

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
