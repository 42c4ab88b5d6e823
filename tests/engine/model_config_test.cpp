// SPDX-License-Identifier: Apache-2.0
// config.json parsing: the conformance config, both RoPE spellings, and hostile input.
#include "griffin/model_config.h"

#include <QtTest>
#include <nlohmann/json.hpp>

#include "test_files.h"

using namespace griffin;
using nlohmann::json;

namespace {

json tinyConfig() {
    return json::parse(test::readFile(test::tinyPublicDir() / "model-f32" / "config.json"));
}

}  // namespace

class ModelConfigTest : public QObject {
    Q_OBJECT

private slots:
    void conformanceConfigIsReadWithHalvedIntermediateSize() {
        auto c = parseModelConfig(tinyConfig().dump(), "config.json");
        QVERIFY2(c.has_value(), c ? "" : c.error().message.c_str());
        QCOMPARE(c->width, 64);
        QCOMPARE(c->mlpWidth, 192);  // HF intermediate_size 384 = 2 x M
        QCOMPARE(c->numLayers, 6);
        QCOMPARE(c->numHeads, 2);
        QCOMPARE(c->headDim, 32);
        QCOMPARE(c->attentionWindow, 8);
        QCOMPARE(c->lruBlockWidth(), 32);
        QCOMPARE(c->ropeDims(), 16);
        QCOMPARE(c->embeddingScale(), 8.0f);
        QCOMPARE(c->layerType(2), BlockType::Attention);
        QCOMPARE(c->layerType(4), BlockType::Recurrent);
        QCOMPARE(c->numLayersOf(BlockType::Attention), 2);
        QCOMPARE(c->indexAmongType(4), 3);
        QCOMPARE(c->indexAmongType(5), 1);
    }

    void nestedRopeParametersAndNullLruWidthAreAccepted() {
        json j = tinyConfig();
        j.erase("rope_theta");
        j.erase("partial_rotary_factor");
        j["rope_parameters"] = {
            {"rope_theta", 500.0}, {"partial_rotary_factor", 0.25}, {"rope_type", "default"}};
        j["lru_width"] = nullptr;
        auto c = parseModelConfig(j.dump(), "config.json");
        QVERIFY(c.has_value());
        QCOMPARE(c->ropeTheta, 500.0);
        QCOMPARE(c->ropeDims(), 8);
        QCOMPARE(c->lruWidth, c->width);
    }

    void twoBillionEmbeddingScaleIsBf16Rounded() {
        json j = tinyConfig();
        j["hidden_size"] = 2560;
        j["num_attention_heads"] = 10;
        j["head_dim"] = 256;
        j["lru_width"] = 2560;
        auto c = parseModelConfig(j.dump(), "config.json");
        QVERIFY(c.has_value());
        QCOMPARE(c->embeddingScale(), 50.5f);
    }

    void badConfigIsAnErrorNamingTheField_data() {
        QTest::addColumn<QString>("patch");  // JSON merge patch applied to the tiny config
        QTest::addColumn<QString>("mentions");
        QTest::newRow("missing hidden_size") << R"({"hidden_size": null})"
                                             << "hidden_size";
        QTest::newRow("string width") << R"({"hidden_size": "64"})"
                                      << "hidden_size";
        QTest::newRow("negative layers") << R"({"num_hidden_layers": -3})"
                                         << "num_hidden_layers";
        QTest::newRow("absurd vocab") << R"({"vocab_size": 99999999999})"
                                      << "vocab_size";
        QTest::newRow("fractional heads") << R"({"num_attention_heads": 2.5})"
                                          << "num_attention_heads";
        QTest::newRow("odd intermediate") << R"({"intermediate_size": 383})"
                                          << "intermediate_size";
        QTest::newRow("lru not divisible") << R"({"lru_width": 63})"
                                           << "lru_width";
        QTest::newRow("bad block type") << R"({"block_types": ["recurrent", "mamba"]})"
                                        << "block_types";
        QTest::newRow("empty block types") << R"({"block_types": []})"
                                           << "block_types";
        QTest::newRow("wrong model type") << R"({"model_type": "llama"})"
                                          << "model_type";
        QTest::newRow("erf gelu") << R"({"hidden_activation": "silu"})"
                                  << "hidden_activation";
        QTest::newRow("nan eps") << R"({"rms_norm_eps": "NaN"})"
                                 << "rms_norm_eps";
        QTest::newRow("zero window") << R"({"attention_window_size": 0})"
                                     << "attention_window_size";
        QTest::newRow("kv heads") << R"({"num_key_value_heads": 3})"
                                  << "num_key_value_heads";
        QTest::newRow("bos out of vocab") << R"({"bos_token_id": 256})"
                                          << "bos_token_id";
    }
    void badConfigIsAnErrorNamingTheField() {
        QFETCH(QString, patch);
        QFETCH(QString, mentions);
        json j = tinyConfig();
        j.merge_patch(json::parse(patch.toStdString()));
        auto c = parseModelConfig(j.dump(), "dir/config.json");
        QVERIFY(!c.has_value());
        const QString message = QString::fromStdString(c.error().message);
        QVERIFY2(message.contains(mentions) && message.contains("dir/config.json"),
                 qPrintable(message));
    }

    void notJsonIsCorruptNamingTheFile_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("garbage") << "this is not json";
        QTest::newRow("truncated") << R"({"hidden_size": 64, )";
        QTest::newRow("array") << "[1, 2, 3]";
        QTest::newRow("empty") << "";
    }
    void notJsonIsCorruptNamingTheFile() {
        QFETCH(QString, text);
        auto c = parseModelConfig(text.toStdString(), "m/config.json");
        QVERIFY(!c.has_value());
        QCOMPARE(c.error().code, ErrorCode::Corrupt);
        QVERIFY(QString::fromStdString(c.error().message).startsWith("m/config.json"));
    }

    void missingFileIsNotFound() {
        auto c = loadModelConfig("/nonexistent/config.json");
        QVERIFY(!c.has_value());
        QCOMPARE(c.error().code, ErrorCode::NotFound);
    }
};

QTEST_APPLESS_MAIN(ModelConfigTest)
#include "model_config_test.moc"
