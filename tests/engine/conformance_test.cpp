// SPDX-License-Identifier: Apache-2.0
// The CPU engine against the golden vectors of the official reference implementation
// (shared/conformance/tiny-public), for f32 and bf16 checkpoints, each with its own golden set.
// Tolerances from the conformance README: logits 1e-3, hidden states 2e-3, greedy identical.
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <string>

#include <QtTest>

#include "griffin/model.h"
#include "model_runs.h"
#include "test_files.h"

using namespace griffin;
using griffin::test::maxAbsDiff;

using griffin::test::prefillAll;
using griffin::test::stepAll;

namespace {

constexpr double kLogitsTolerance = 1e-3;
constexpr double kHiddenTolerance = 2e-3;

std::vector<int32_t> tokensOf(const nlohmann::json& manifest, const char* caseName) {
    return manifest.at("cases").at(caseName).at("tokens").get<std::vector<int32_t>>();
}

std::unique_ptr<Model> loadTiny(const QString& dtype, const LoadOptions& options = {}) {
    auto model = Model::load(test::tinyPublicDir() / ("model-" + dtype.toStdString()), options);
    if (!model)
        qFatal("load failed: %s", model.error().message.c_str());
    return std::move(*model);
}

std::vector<float> golden(const QString& dtype, const char* file) {
    return test::readFloats(test::tinyPublicDir() / ("golden-" + dtype.toStdString()) / file);
}

void report(const char* what, double err, double tolerance) {
    qInfo("%-28s max |delta| = %.3g (tolerance %.0e)", what, err, tolerance);
    QVERIFY2(err <= tolerance, what);
}

int argmax(const std::vector<float>& v) {
    return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

Q_DECLARE_METATYPE(griffin::WeightType)

class ConformanceTest : public QObject {
    Q_OBJECT

private slots:
    // Quantized weights on the conformance model (random weights with logits up to the soft cap
    // of 30: far more sensitive than a trained model, whose logits have clear winners): max |delta|
    // against the golden logits and top-1 agreement over the prefill case, reported for each type,
    // with floors.
    void quantizedWeightsStayNearTheGoldenLogits_data() {
        QTest::addColumn<WeightType>("type");
        QTest::addColumn<double>("maxDelta");
        QTest::addColumn<double>("minAgreement");
        // Floors a little under what was measured (f16 0.072 / 1.0, bf16 0.49 / 0.975, q8_0
        // 2.7 / 0.825, q4_0 18 / 0.375): regression guards; the demo model test holds the
        // accuracy targets of a trained model.
        QTest::newRow("f16") << WeightType::F16 << 0.15 << 1.0;
        QTest::newRow("bf16") << WeightType::BF16 << 1.0 << 0.95;
        QTest::newRow("q8_0") << WeightType::Q8_0 << 4.0 << 0.75;
        QTest::newRow("q4_0") << WeightType::Q4_0 << 25.0 << 0.3;
    }
    void quantizedWeightsStayNearTheGoldenLogits() {
        QFETCH_GLOBAL(QString, dtype);
        QFETCH(WeightType, type);
        QFETCH(double, maxDelta);
        QFETCH(double, minAgreement);
        if (dtype != "f32")
            QSKIP("measured from the f32 checkpoint");
        LoadOptions options;
        options.quantize = type;
        auto model = Model::load(test::tinyPublicDir() / "model-f32", options);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        State state = (*model)->newState();
        const auto tokens = tokensOf(test::tinyManifest(), "prefill");
        const auto logits = prefillAll(**model, state, tokens);
        const auto want = golden(dtype, "prefill_logits.bin");
        QCOMPARE(logits.size(), want.size());
        const size_t vocab = want.size() / tokens.size();
        int agree = 0;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const auto a = want.begin() + static_cast<std::ptrdiff_t>(t * vocab);
            const auto b = logits.begin() + static_cast<std::ptrdiff_t>(t * vocab);
            agree += std::max_element(a, a + static_cast<std::ptrdiff_t>(vocab)) - a ==
                     std::max_element(b, b + static_cast<std::ptrdiff_t>(vocab)) - b;
        }
        const double agreement = static_cast<double>(agree) / static_cast<double>(tokens.size());
        const double delta = maxAbsDiff(logits, want);
        qInfo("%s: max |delta| %.3g vs golden f32 logits, top-1 agreement %.3f over %zu tokens",
              weightTypeName(type), delta, agreement, tokens.size());
        QVERIFY(delta <= maxDelta);
        QVERIFY(agreement >= minAgreement);
    }

    void initTestCase_data() {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("f32") << "f32";
        QTest::newRow("bf16") << "bf16";
    }

    void prefillMatchesGolden() {
        QFETCH_GLOBAL(QString, dtype);
        auto model = loadTiny(dtype);
        State state = model->newState();
        auto logits = prefillAll(*model, state, tokensOf(test::tinyManifest(), "prefill"));
        report("prefill logits", maxAbsDiff(logits, golden(dtype, "prefill_logits.bin")),
               kLogitsTolerance);
        QCOMPARE(state.position(), 40);
    }

    void decodeFromEmptyStateMatchesGolden() {
        QFETCH_GLOBAL(QString, dtype);
        auto model = loadTiny(dtype);
        State state = model->newState();
        auto logits = stepAll(*model, state, tokensOf(test::tinyManifest(), "prefill"));
        report("decode logits", maxAbsDiff(logits, golden(dtype, "decode_logits.bin")),
               kLogitsTolerance);
    }

    void splitPrefillThenDecodeMatchesGolden_data() {
        QTest::addColumn<int>("split");
        QTest::newRow("split 25") << 25;
        QTest::newRow("split 5") << 5;
    }
    void splitPrefillThenDecodeMatchesGolden() {
        QFETCH_GLOBAL(QString, dtype);
        QFETCH(int, split);
        auto model = loadTiny(dtype);
        const auto tokens = tokensOf(test::tinyManifest(), "prefill");
        State state = model->newState();
        const std::span<const int32_t> all(tokens);
        auto head = prefillAll(*model, state, all.first(static_cast<size_t>(split)));
        auto tail = stepAll(*model, state, all.subspan(static_cast<size_t>(split)));
        const std::string prefix = "prefill" + std::to_string(split);
        report((prefix + " logits").c_str(),
               maxAbsDiff(head, golden(dtype, (prefix + "_logits.bin").c_str())), kLogitsTolerance);
        report((prefix + " + decode logits").c_str(),
               maxAbsDiff(tail, golden(dtype, (prefix + "_decode_logits.bin").c_str())),
               kLogitsTolerance);
    }

    // As the reference Sampler: prefill prompt[:-1], step prompt[-1], then feed each argmax.
    void greedyContinuationIsIdentical() {
        QFETCH_GLOBAL(QString, dtype);
        auto model = loadTiny(dtype);
        const nlohmann::json greedy = test::tinyManifest().at("cases").at("greedy");
        const auto prompt = greedy.at("prompt").get<std::vector<int32_t>>();
        const auto expected =
            greedy.at("generated_tokens").at(dtype.toStdString()).get<std::vector<int32_t>>();
        State state = model->newState();
        auto logits = model->prefill(state, std::span(prompt).first(prompt.size() - 1));
        QVERIFY(logits.has_value());
        logits = model->step(state, prompt.back());
        QVERIFY(logits.has_value());
        std::vector<int32_t> produced;
        std::vector<float> allLogits;
        for (size_t i = 0; i < expected.size(); ++i) {
            allLogits.insert(allLogits.end(), logits->begin(), logits->end());
            produced.push_back(argmax(*logits));
            logits = model->step(state, produced.back());
            QVERIFY(logits.has_value());
        }
        QCOMPARE(produced, expected);
        report("greedy logits", maxAbsDiff(allLogits, golden(dtype, "greedy_logits.bin")),
               kLogitsTolerance);
    }

    // The pool splits every product, the RG-LRU gates included, at row boundaries that depend on
    // the thread count (3 threads cut the gates' heads in the middle): each output must still be
    // computed the same way, so every thread count gives the one-thread logits bit for bit.
    void threadCountsGiveTheSameLogits() {
        QFETCH_GLOBAL(QString, dtype);
        const auto tokens = tokensOf(test::tinyManifest(), "prefill");
        std::vector<float> first;
        for (int threads : {1, 2, 3, 5}) {
            LoadOptions options;
            options.threads = threads;
            auto model = loadTiny(dtype, options);
            State state = model->newState();
            const std::span<const int32_t> all(tokens);
            std::vector<float> logits = prefillAll(*model, state, all.first(25));
            const std::vector<float> tail = stepAll(*model, state, all.subspan(25));
            logits.insert(logits.end(), tail.begin(), tail.end());
            if (first.empty()) {
                first = logits;
                continue;
            }
            QCOMPARE(logits.size(), first.size());
            QVERIFY2(std::memcmp(logits.data(), first.data(), logits.size() * sizeof(float)) == 0,
                     qPrintable(QString("%1 threads: max |delta| %2 from one thread")
                                    .arg(threads)
                                    .arg(maxAbsDiff(logits, first))));
        }
    }

    // Stage timing on the CPU (Model::setProfiling): the logits stay the same bit for bit, every
    // stage is counted as often as the model runs it, and turning it off clears and stops it.
    void cpuProfilingCountsStagesAndLeavesLogitsUnchanged() {
        QFETCH_GLOBAL(QString, dtype);
        const auto tokens = tokensOf(test::tinyManifest(), "prefill");
        const std::span<const int32_t> all(tokens);
        auto plain = loadTiny(dtype);
        State plainState = plain->newState();
        const std::vector<float> expected = stepAll(*plain, plainState, all.first(6));

        auto model = loadTiny(dtype);
        QVERIFY(model->backendCounters().opProfile.empty());
        QVERIFY(model->setProfiling(true));
        State state = model->newState();
        const std::vector<float> logits = stepAll(*model, state, all.first(6));
        QVERIFY(std::memcmp(logits.data(), expected.data(), logits.size() * sizeof(float)) == 0);

        const ModelConfig& c = model->config();
        const int64_t recurrent = c.numLayersOf(BlockType::Recurrent);
        const int64_t attention = c.numLayersOf(BlockType::Attention), steps = 6;
        const std::map<std::string, int64_t> perStep = {
            {"embed_gather", 1},
            {"rms_norm", 2 * c.numLayers + 1},
            {"residual", 2 * c.numLayers},
            {"matmul.linear_xy_gelu_conv", recurrent},
            {"matmul.rg_lru_gates", recurrent},
            {"rg_lru_scan", recurrent},
            {"matmul.linear_out", recurrent},
            {"matmul.qkv", attention},
            {"rope", attention},
            {"attention", attention},
            {"matmul.attention_out", attention},
            {"kv_ring_write", attention},
            {"matmul.mlp_gate_up_geglu", c.numLayers},
            {"matmul.mlp_down", c.numLayers},
            {"matmul.lm_head", 1},
        };
        const std::vector<OpProfile> ops = model->backendCounters().opProfile;
        std::map<std::string, int64_t> seen;
        double before = std::numeric_limits<double>::infinity();
        for (const OpProfile& op : ops) {
            QVERIFY2(op.seconds >= 0 && op.seconds <= before, op.op.c_str());  // slowest first
            before = op.seconds;
            seen[op.op] = static_cast<int64_t>(op.dispatches);
        }
        for (const auto& [op, n] : perStep) {
            if (n == 0) {
                QVERIFY2(!seen.contains(op), op.c_str());
                continue;
            }
            QVERIFY2(seen.contains(op), op.c_str());
            QCOMPARE(seen[op], n * steps);
        }
        QVERIFY(model->setProfiling(false));
        QVERIFY(model->backendCounters().opProfile.empty());
        stepAll(*model, state, all.subspan(6, 2));
        QVERIFY(model->backendCounters().opProfile.empty());
    }

    void hiddenStatesAndFinalNormMatchGolden() {
        QFETCH_GLOBAL(QString, dtype);
        auto model = loadTiny(dtype);
        const int64_t layers = model->config().numLayers;
        std::vector<std::vector<float>> seen(static_cast<size_t>(layers + 2));
        model->setLayerObserver([&](int64_t layer, const float* x, int64_t rows, int64_t width) {
            seen[static_cast<size_t>(layer + 1)].assign(x, x + rows * width);
        });
        State state = model->newState();
        prefillAll(*model, state, tokensOf(test::tinyManifest(), "prefill"));

        const auto hidden = golden(dtype, "hidden_states.bin");  // [layers + 1, T, D]
        const size_t per = hidden.size() / static_cast<size_t>(layers + 1);
        double worst = 0.0;
        for (int64_t i = 0; i <= layers; ++i) {
            std::vector<float> expected(hidden.begin() + static_cast<ptrdiff_t>(i * per),
                                        hidden.begin() + static_cast<ptrdiff_t>((i + 1) * per));
            const double err = maxAbsDiff(seen[static_cast<size_t>(i)], expected);
            qInfo("  hidden state %lld: max |delta| = %.3g", static_cast<long long>(i), err);
            worst = std::max(worst, err);
        }
        report("hidden states (all layers)", worst, kHiddenTolerance);
        report("final norm output", maxAbsDiff(seen.back(), golden(dtype, "final_norm_output.bin")),
               kHiddenTolerance);
    }
};

QTEST_APPLESS_MAIN(ConformanceTest)
#include "conformance_test.moc"
