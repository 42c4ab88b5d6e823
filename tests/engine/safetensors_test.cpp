// SPDX-License-Identifier: Apache-2.0
// Damaged checkpoints: each is a clear error naming the file (and the tensor), never a crash or
// an out-of-bounds read (this test also runs under ASan/UBSan in CI). Also sharded checkpoints.
#include <random>

#include <QtTest>

#include "griffin/model.h"
#include "json_damage.h"
#include "test_files.h"

using namespace griffin;
using nlohmann::json;

namespace {

// The tiny f32 checkpoint split into its header (as JSON) and data section.
struct Checkpoint {
    json header;
    std::string data;

    static Checkpoint tiny() {
        const std::string bytes =
            test::readFile(test::tinyPublicDir() / "model-f32" / "model.safetensors");
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
        return {json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
    }
    std::string bytes() const { return test::makeSafetensors(header.dump(), data); }
};

const std::string kNorm0 = "model.layers.0.temporal_pre_norm.weight";
const std::string kNorm1 = "model.layers.0.channel_pre_norm.weight";

// Writes config.json + the given safetensors bytes into `dir` and loads it.
Result<std::unique_ptr<Model>> loadWith(const test::TempDir& dir, const std::string& st) {
    std::filesystem::copy_file(test::tinyPublicDir() / "model-f32" / "config.json",
                               dir.path() / "config.json",
                               std::filesystem::copy_options::overwrite_existing);
    test::writeFile(dir.path() / "model.safetensors", st);
    return Model::load(dir.path());
}

}  // namespace

class SafetensorsTest : public QObject {
    Q_OBJECT

private slots:
    void damagedCheckpointIsRejectedNamingFileAndProblem_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("truncated data") << "truncate"
                                        << "outside the data section";
        QTest::newRow("shorter than the length field") << "tiny"
                                                       << "too short";
        QTest::newRow("header length past the end") << "headerlen"
                                                    << "runs past the end";
        QTest::newRow("header not json") << "notjson"
                                         << "not valid JSON";
        QTest::newRow("offset out of range") << "offset" << kNorm0.c_str();
        QTest::newRow("overlapping tensors") << "overlap"
                                             << "overlap";
        QTest::newRow("unknown dtype") << "dtype"
                                       << "unknown dtype 'Q9'";
        QTest::newRow("unsupported dtype") << "i32"
                                           << "dtype I32";
        QTest::newRow("shape does not match bytes") << "bytes"
                                                    << "needs 260 bytes";
        QTest::newRow("missing tensor") << "missing"
                                        << "is missing";
        QTest::newRow("wrong shape") << "shape"
                                     << "config.json implies [64]";
        QTest::newRow("negative dimension") << "negdim"
                                            << "invalid size";
        QTest::newRow("NaN in a norm") << "nan"
                                       << "NaN";
    }
    void damagedCheckpointIsRejectedNamingFileAndProblem() {
        QFETCH(QString, damage);
        QFETCH(QString, mentions);
        Checkpoint c = Checkpoint::tiny();
        std::string bytes;
        if (damage == "truncate") {
            bytes = c.bytes();
            bytes.resize(bytes.size() - 1000);
        } else if (damage == "tiny") {
            bytes = "\x10\x00\x00";
        } else if (damage == "headerlen") {
            bytes = c.bytes();
            bytes[5] = '\x01';  // header length ~2^40
        } else if (damage == "notjson") {
            bytes = test::makeSafetensors("{\"a\": [1, 2", c.data);
        } else {
            if (damage == "offset")
                c.header[kNorm0]["data_offsets"] = {c.data.size() - 4, c.data.size() + 252};
            if (damage == "overlap")
                c.header[kNorm1]["data_offsets"] = c.header[kNorm0]["data_offsets"];
            if (damage == "dtype")
                c.header[kNorm0]["dtype"] = "Q9";
            if (damage == "i32")
                c.header[kNorm0]["dtype"] = "I32";
            if (damage == "bytes")
                c.header[kNorm0]["shape"] = {65};
            if (damage == "missing")
                c.header.erase(kNorm1);
            if (damage == "shape")
                c.header[kNorm0]["shape"] = {32, 2};
            if (damage == "negdim")
                c.header[kNorm0]["shape"] = {-64};
            if (damage == "nan") {
                const size_t at = c.header[kNorm0]["data_offsets"][0].get<size_t>();
                c.data.replace(at, 4, std::string("\x00\x00\xc0\x7f", 4));
            }
            bytes = c.bytes();
        }
        test::TempDir dir;
        auto model = loadWith(dir, bytes);
        QVERIFY(!model.has_value());
        const QString message = QString::fromStdString(model.error().message);
        QVERIFY2(message.contains(QString::fromStdString(dir.path().string())),
                 qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
        if (damage == "missing")
            QVERIFY(message.contains(QString::fromStdString(kNorm1)));
    }

    void unexpectedTensorsAreReportedButLoad() {
        Checkpoint c = Checkpoint::tiny();
        c.header["model.extra.weight"] = {{"dtype", "F32"},
                                          {"shape", {4}},
                                          {"data_offsets", {c.data.size(), c.data.size() + 16}}};
        c.data.append(16, '\0');
        test::TempDir dir;
        auto model = loadWith(dir, c.bytes());
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        QCOMPARE((*model)->info().unexpectedTensors,
                 std::vector<std::string>{"model.extra.weight"});
    }

    // GGUF files go to the GGUF reader (gguf_corruption_test covers the damage in depth).
    void truncatedGgufIsCorruptNamingTheFile() {
        test::TempDir dir;
        const auto file = dir.path() / "model.gguf";
        test::writeFile(file, "GGUF\x03");
        for (auto result : {Model::load(file).error(), inspectModel(file).error()}) {
            QCOMPARE(result.code, ErrorCode::Corrupt);
            QVERIFY(QString::fromStdString(result.message).contains(file.c_str()));
            QVERIFY(QString::fromStdString(result.message).contains("truncated"));
        }
    }

    void inspectionReportsSizesWithoutLoading() {
        auto inspection = inspectModel(test::tinyPublicDir() / "model-bf16");
        QVERIFY(inspection.has_value());
        QCOMPARE(inspection->weightBytes, 668288);
        QVERIFY(!inspection->hasTokenizer);
        auto model = Model::load(test::tinyPublicDir() / "model-bf16");
        QVERIFY(model.has_value());
        QCOMPARE(inspection->stateBytes, (*model)->info().stateBytes);
        QCOMPARE(stateBytesFor((*model)->config()),
                 static_cast<int64_t>((*model)->newState().bytes()));
        test::TempDir empty;
        auto none = inspectModel(empty.path());
        QVERIFY(!none.has_value());
        QVERIFY(QString::fromStdString(none.error().message).contains("config.json"));
    }

    void missingFolderIsNotFound() {
        auto model = Model::load("/nonexistent/model");
        QVERIFY(!model.has_value());
        QCOMPARE(model.error().code, ErrorCode::NotFound);
    }

    // Two shards and an index load to the same logits as the single file.
    void shardedCheckpointLoadsLikeTheSingleFile() {
        Checkpoint c = Checkpoint::tiny();
        json first = json::object(), second = json::object(), map = json::object();
        int i = 0;
        for (auto it = c.header.begin(); it != c.header.end(); ++it, ++i) {
            if (it.key() == "__metadata__")
                continue;
            (i % 2 ? first : second)[it.key()] = it.value();
            map[it.key()] =
                i % 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        }
        test::TempDir dir;
        std::filesystem::copy_file(test::tinyPublicDir() / "model-f32" / "config.json",
                                   dir.path() / "config.json");
        // Both shards keep the whole data section; each header lists only its own tensors.
        test::writeFile(dir.path() / "model-00001-of-00002.safetensors",
                        test::makeSafetensors(first.dump(), c.data));
        test::writeFile(dir.path() / "model-00002-of-00002.safetensors",
                        test::makeSafetensors(second.dump(), c.data));
        test::writeFile(
            dir.path() / "model.safetensors.index.json",
            json{{"metadata", {{"total_size", c.data.size()}}}, {"weight_map", map}}.dump());
        auto sharded = Model::load(dir.path());
        QVERIFY2(sharded.has_value(), sharded ? "" : sharded.error().message.c_str());
        auto single = Model::load(test::tinyPublicDir() / "model-f32");
        QVERIFY(single.has_value());
        const int32_t tokens[] = {2, 17, 99, 254};
        State a = (*sharded)->newState(), b = (*single)->newState();
        auto la = (*sharded)->prefill(a, tokens);
        auto lb = (*single)->prefill(b, tokens);
        QVERIFY(la.has_value() && lb.has_value());
        QCOMPARE(*la, *lb);

        // An index naming a shard outside the folder is refused.
        const json original = map[kNorm0];
        map[kNorm0] = "../evil.safetensors";
        test::writeFile(dir.path() / "model.safetensors.index.json",
                        json{{"weight_map", map}}.dump());
        auto evil = Model::load(dir.path());
        QVERIFY(!evil.has_value());
        QVERIFY(QString::fromStdString(evil.error().message).contains("not a plain file name"));

        // An index listing a tensor its shard lacks is refused, naming the tensor.
        map[kNorm0] = original;
        map[kNorm1] = first.contains(kNorm1) ? "model-00002-of-00002.safetensors"
                                             : "model-00001-of-00002.safetensors";
        test::writeFile(dir.path() / "model.safetensors.index.json",
                        json{{"weight_map", map}}.dump());
        auto wrong = Model::load(dir.path());
        QVERIFY(!wrong.has_value());
        QVERIFY2(
            QString::fromStdString(wrong.error().message).contains(QString::fromStdString(kNorm1)),
            wrong.error().message.c_str());
    }

    // Random structural damage to the safetensors header and to config.json: values replaced by
    // others of any type, keys dropped. Each is an error naming the file, or a model that steps.
    void randomHeaderAndConfigDamageIsAnErrorOrAWorkingModel() {
        const Checkpoint valid = Checkpoint::tiny();
        const json config =
            json::parse(test::readFile(test::tinyPublicDir() / "model-f32" / "config.json"));
        const std::vector<json> replacements = {nullptr,
                                                true,
                                                -1,
                                                0,
                                                3,
                                                1e300,
                                                18446744073709551615ULL,
                                                4611686018427387904LL,
                                                "",
                                                "F32",
                                                "BF16",
                                                "F16",
                                                "I64",
                                                "Q9",
                                                json::array(),
                                                json::array({0, 1}),
                                                json::array({1, 0}),
                                                json::array({0, 1e20}),
                                                json::object()};
        std::mt19937 rng(20261203);
        test::TempDir dir;
        const QString folder = QString::fromStdString(dir.path().string());
        int loaded = 0, rejected = 0;
        for (int round = 0; round < 300; ++round) {
            json header = valid.header, cfg = config;
            json& target = round % 2 == 0 ? header : cfg;
            test::damageJson(target, test::jsonNodes(target), replacements, rng);
            test::writeFile(dir.path() / "config.json", cfg.dump());
            test::writeFile(dir.path() / "model.safetensors",
                            test::makeSafetensors(header.dump(), valid.data));
            auto model = Model::load(dir.path());
            if (!model) {
                ++rejected;
                const QString message = QString::fromStdString(model.error().message);
                QVERIFY2(message.contains(folder), qPrintable(message));
                continue;
            }
            ++loaded;
            State state = (*model)->newState();
            auto logits = (*model)->step(state, 2);
            QVERIFY2(logits, qPrintable(QString("round %1").arg(round)));
        }
        QVERIFY2(loaded > 0 && rejected > 0,
                 qPrintable(QString("%1 loaded, %2 rejected").arg(loaded).arg(rejected)));
    }
};

QTEST_APPLESS_MAIN(SafetensorsTest)
#include "safetensors_test.moc"
