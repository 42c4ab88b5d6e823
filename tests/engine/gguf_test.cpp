// SPDX-License-Identifier: Apache-2.0
// GGUF files: quantizeModel writes what GgufArchive reads back (configuration, every tensor byte
// for byte, the tokenizer), a model loaded from the GGUF computes exactly what the folder
// converted at load computes, and writing is atomic (a failure or a stop leaves no file).
#include "griffin/gguf.h"

#include <cstring>

#include <QtTest>

#include "gguf_model.h"
#include "griffin/model.h"
#include "griffin/tokenizer.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model_runs.h"
#include "quant.h"
#include "test_files.h"
#include "weights.h"

using namespace griffin;

namespace {

std::vector<int32_t> prefillTokens() {
    return test::tinyManifest().at("cases").at("prefill").at("tokens").get<std::vector<int32_t>>();
}

std::vector<float> logitsOf(const Result<std::unique_ptr<Model>>& model) {
    if (!model)
        qFatal("load failed: %s", model.error().message.c_str());
    State state = (*model)->newState();
    const auto tokens = prefillTokens();
    return test::prefillAll(**model, state, tokens);
}

void expectSameConfig(const ModelConfig& a, const ModelConfig& b) {
    QCOMPARE(a.vocabSize, b.vocabSize);
    QCOMPARE(a.width, b.width);
    QCOMPARE(a.mlpWidth, b.mlpWidth);
    QCOMPARE(a.numLayers, b.numLayers);
    QCOMPARE(a.numHeads, b.numHeads);
    QCOMPARE(a.numKvHeads, b.numKvHeads);
    QCOMPARE(a.headDim, b.headDim);
    QCOMPARE(a.lruWidth, b.lruWidth);
    QCOMPARE(a.attentionWindow, b.attentionWindow);
    QCOMPARE(a.convWidth, b.convWidth);
    QCOMPARE(a.logitsSoftCap, b.logitsSoftCap);
    QCOMPARE(a.rmsNormEps, b.rmsNormEps);
    QCOMPARE(a.ropeTheta, b.ropeTheta);
    QCOMPARE(a.partialRotaryFactor, b.partialRotaryFactor);
    QVERIFY(a.blockPattern == b.blockPattern);
    QCOMPARE(a.bosId, b.bosId);
    QCOMPARE(a.eosId, b.eosId);
    QCOMPARE(a.padId, b.padId);
}

// The tiny f32 model with tiny256.model in dir/model, quantized to dir/<type>.gguf.
std::filesystem::path quantizeTiny(const test::TempDir& dir, WeightType type) {
    test::makeTinyChatModel(dir.path() / "model");
    const auto out = dir.path() / (std::string(weightTypeName(type)) + ".gguf");
    auto summary = quantizeModel(dir.path() / "model", type, out);
    if (!summary)
        qFatal("quantize failed: %s", summary.error().message.c_str());
    return out;
}

size_t filesIn(const std::filesystem::path& dir) {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) n += entry.is_regular_file();
    return n;
}

}  // namespace

Q_DECLARE_METATYPE(griffin::WeightType)

class GgufTest : public QObject {
    Q_OBJECT

private slots:
    void roundTripKeepsConfigTensorsAndTokenizer_data() {
        QTest::addColumn<WeightType>("type");
        QTest::newRow("f32") << WeightType::F32;
        QTest::newRow("bf16") << WeightType::BF16;
        QTest::newRow("f16") << WeightType::F16;
        QTest::newRow("q8_0") << WeightType::Q8_0;
        QTest::newRow("q4_0") << WeightType::Q4_0;
    }
    void roundTripKeepsConfigTensorsAndTokenizer() {
        QFETCH(WeightType, type);
        test::TempDir dir;
        const auto file = quantizeTiny(dir, type);
        auto archive = io::GgufArchive::open(file);
        QVERIFY2(archive, archive ? "" : archive.error().message.c_str());
        QCOMPARE((*archive)->version(), 3u);

        auto config = configFromGguf(**archive);
        QVERIFY2(config, config ? "" : config.error().message.c_str());
        auto original = loadModelConfig(dir.path() / "model" / "config.json");
        QVERIFY(original);
        expectSameConfig(*config, *original);

        // Every tensor as convertMatrices makes it, byte for byte.
        auto source = io::SafetensorsArchive::open(dir.path() / "model");
        QVERIFY(source);
        auto expected = convertMatrices(std::move(*source), type, 1, {}, {});
        QVERIFY(expected);
        QCOMPARE((*archive)->tensors().size(), (*expected)->tensors().size());
        for (const auto& [name, want] : (*expected)->tensors()) {
            const io::TensorInfo* got = (*archive)->find(name);
            QVERIFY2(got != nullptr, name.c_str());
            QCOMPARE(got->type, want.type);
            QVERIFY2(got->shape == want.shape, name.c_str());
            QCOMPARE(got->bytes, want.bytes);
            QVERIFY2(std::memcmp(got->data, want.data, want.bytes) == 0, name.c_str());
        }

        // The f32 gates in 16 bits (f16 in an f16 file, else bf16), each value rounded once;
        // an f32 file keeps them f32.
        auto folder = io::SafetensorsArchive::open(dir.path() / "model");
        QVERIFY(folder);
        const WeightType gateType = type == WeightType::F32   ? WeightType::F32
                                    : type == WeightType::F16 ? WeightType::F16
                                                              : WeightType::BF16;
        int gates = 0;
        for (const auto& [name, src] : (*folder)->tensors()) {
            if (!isGateMatrix(name))
                continue;
            ++gates;
            const io::TensorInfo* got = (*archive)->find(name);
            QVERIFY2(got != nullptr, name.c_str());
            QCOMPARE(src.type, WeightType::F32);
            QCOMPARE(got->type, gateType);
            QCOMPARE(got->bytes, rowBytes(gateType, src.numel()));
            const int64_t n = src.numel();
            std::vector<float> in(static_cast<size_t>(n)), out(in.size()), rounded(in.size());
            std::vector<std::byte> once(rowBytes(gateType, n));
            dequantizeRow(src.type, src.data, n, in.data());
            quantizeRow(gateType, in.data(), n, once.data());
            dequantizeRow(gateType, once.data(), n, rounded.data());
            dequantizeRow(got->type, got->data, n, out.data());
            QVERIFY2(out == rounded, name.c_str());
            if (type != WeightType::F32)
                QVERIFY2(out != in, name.c_str());  // rounding changed some value
        }
        int recurrent = 0;
        for (int64_t i = 0; i < original->numLayers; ++i)
            recurrent += original->layerType(i) == BlockType::Recurrent;
        QVERIFY(recurrent > 0);
        QCOMPARE(gates, 2 * recurrent);

        // The tokenizer: the SentencePiece file verbatim, plus the llama-style lists.
        auto blob = (*archive)->tokenizerBytes();
        QVERIFY(blob);
        QVERIFY(*blob == test::readFile(test::testTokenizer("tiny256.model")));
        auto tokenizer = Tokenizer::load(test::testTokenizer("tiny256.model"));
        QVERIFY(tokenizer);
        auto tokens = (*archive)->stringArray(io::gguf::kTokensKey);
        auto types = (*archive)->i32Array(io::gguf::kTokenTypeKey);
        QVERIFY(tokens && types && (*archive)->f32Array(io::gguf::kScoresKey));
        QCOMPARE(tokens->size(), size_t{256});
        for (int32_t id = 0; id < 256; ++id)
            QCOMPARE(std::string((*tokens)[static_cast<size_t>(id)]), (*tokenizer)->piece(id));
        QCOMPARE((*types)[static_cast<size_t>((*tokenizer)->bosId())], 3);  // control
        QCOMPARE((*archive)->string(io::gguf::kArchitectureKey).value_or(""),
                 std::string_view("recurrentgemma"));
        QCOMPARE((*archive)->u32(io::gguf::kAlignmentKey).value_or(0), 32u);
    }

    void ggufModelComputesWhatTheFolderConvertedAtLoadComputes_data() {
        roundTripKeepsConfigTensorsAndTokenizer_data();
    }
    void ggufModelComputesWhatTheFolderConvertedAtLoadComputes() {
        QFETCH(WeightType, type);
        test::TempDir dir;
        const auto file = quantizeTiny(dir, type);
        LoadOptions converted;
        converted.quantize = type;
        const auto want = logitsOf(Model::load(dir.path() / "model", converted));
        auto gguf = Model::load(file);
        QVERIFY2(gguf, gguf ? "" : gguf.error().message.c_str());
        QCOMPARE((*gguf)->info().path, file);
        const auto got = logitsOf(gguf);
        QCOMPARE(test::maxAbsDiff(got, want), 0.0);
        // LoadOptions::quantize applies to a GGUF too.
        LoadOptions q8;
        q8.quantize = WeightType::Q8_0;
        auto requantized = Model::load(file, q8);
        QVERIFY2(requantized, requantized ? "" : requantized.error().message.c_str());
        QVERIFY((*requantized)->info().weightTypes.find("q8_0") != std::string::npos);
    }

    void f32GgufEqualsTheFolderExactly() {
        test::TempDir dir;
        const auto file = quantizeTiny(dir, WeightType::F32);
        auto folder = Model::load(dir.path() / "model");
        auto gguf = Model::load(file);
        QVERIFY(folder && gguf);
        QCOMPARE(test::maxAbsDiff(logitsOf(gguf), logitsOf(folder)), 0.0);
        QCOMPARE((*gguf)->info().fingerprint, (*folder)->info().fingerprint);
        auto inspection = inspectModel(file);
        QVERIFY(inspection);
        QVERIFY(inspection->hasTokenizer);
        QCOMPARE(inspection->path, file);
        QCOMPARE(inspection->weightTypes, std::string("f32"));
    }

    void tokenizerLoadsForEitherLayout() {
        test::TempDir dir;
        const auto file = quantizeTiny(dir, WeightType::Q8_0);
        const auto folder = dir.path() / "model";
        for (const auto& path :
             {file, folder, folder / "config.json", folder / "model.safetensors"}) {
            auto tokenizer = Tokenizer::loadForModel(path);
            QVERIFY2(tokenizer, tokenizer ? "" : tokenizer.error().message.c_str());
            QCOMPARE((*tokenizer)->encode("the harbour").size(), size_t{5});
        }
        std::filesystem::remove(folder / "tokenizer.model");
        auto missing = Tokenizer::loadForModel(folder);
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
        QVERIFY(missing.error().message.find("tokenizer.model") != std::string::npos);
    }

    void ggufWithoutTokenizerSaysSo() {
        test::TempDir dir;
        test::copyModel(test::tinyPublicDir() / "model-f32", dir.path());
        auto config = loadModelConfig(dir.path() / "config.json");
        auto source = io::SafetensorsArchive::open(dir.path());
        QVERIFY(config && source);
        const auto file = dir.path() / "bare.gguf";
        QVERIFY(writeGguf(file, *config, **source, nullptr, "bare", {}, {}));
        auto tokenizer = Tokenizer::loadForModel(file);
        QVERIFY(!tokenizer);
        QCOMPARE(tokenizer.error().code, ErrorCode::NotFound);
        QVERIFY(tokenizer.error().message.find(file.string()) != std::string::npos);
        QVERIFY(tokenizer.error().message.find("no embedded SentencePiece") != std::string::npos);
        auto inspection = inspectModel(file);
        QVERIFY(inspection);
        QVERIFY(!inspection->hasTokenizer);
        QVERIFY(Model::load(file));  // the weights alone are fine
    }

    void quantizeRefusesToOverwriteItsInput() {
        test::TempDir dir;
        const auto file = quantizeTiny(dir, WeightType::Q8_0);
        const std::string before = test::readFile(file);
        auto again = quantizeModel(file, WeightType::Q4_0, file);
        QVERIFY(!again);
        QCOMPARE(again.error().code, ErrorCode::InvalidArgument);
        QVERIFY(test::readFile(file) == before);
        auto notGguf = quantizeModel(dir.path() / "model", WeightType::Q8_0, dir.path() / "x.bin");
        QVERIFY(!notGguf);
        QVERIFY(notGguf.error().message.find(".gguf") != std::string::npos);
        // A GGUF input works like a folder.
        auto fromGguf = quantizeModel(file, WeightType::Q4_0, dir.path() / "again.gguf");
        QVERIFY2(fromGguf, fromGguf ? "" : fromGguf.error().message.c_str());
        QVERIFY(Model::load(dir.path() / "again.gguf"));
    }

    void stoppedOrFailedWriteLeavesNoFile() {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        const auto out = dir.path() / "out" / "tiny.gguf";
        std::filesystem::create_directories(out.parent_path());
        test::writeFile(out, "previous content");

        std::stop_source source;
        QuantizeOptions options;
        options.stop = source.get_token();
        options.progress = [&](double f) {
            if (f > 0.6)  // while writing
                source.request_stop();
        };
        auto stopped = quantizeModel(dir.path() / "model", WeightType::Q8_0, out, options);
        QVERIFY(!stopped);
        QCOMPARE(stopped.error().code, ErrorCode::Cancelled);
        QCOMPARE(test::readFile(out), std::string("previous content"));
        QCOMPARE(filesIn(out.parent_path()), size_t{1});  // no .partial left

        auto noFolder =
            quantizeModel(dir.path() / "model", WeightType::Q8_0, dir.path() / "no" / "x.gguf");
        QVERIFY(!noFolder);
        QVERIFY(!std::filesystem::exists(dir.path() / "no"));

        std::filesystem::remove(dir.path() / "model" / "tokenizer.model");
        auto noTokenizer = quantizeModel(dir.path() / "model", WeightType::Q8_0, out);
        QVERIFY(!noTokenizer);
        QVERIFY(noTokenizer.error().message.find("tokenizer.model") != std::string::npos);
        QCOMPARE(test::readFile(out), std::string("previous content"));
    }
};

QTEST_APPLESS_MAIN(GgufTest)
#include "gguf_test.moc"
