// SPDX-License-Identifier: Apache-2.0
// Damaged GGUF files: each is an error naming the file (and the key or tensor), never a crash, a
// huge allocation or an out-of-bounds read (this test also runs under ASan/UBSan in CI). The
// damage is patched into a valid file written by quantizeModel.
#include <algorithm>
#include <cstring>
#include <random>

#include <QtTest>

#include "griffin/gguf.h"
#include "griffin/model.h"
#include "griffin/tokenizer.h"
#include "io/gguf.h"
#include "test_files.h"

using namespace griffin;

namespace {

constexpr uint64_t kHuge = uint64_t{1} << 62;

// A valid q8_0 GGUF of the tiny model, made once.
const std::string& validFile() {
    static const std::string bytes = [] {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        auto s = quantizeModel(dir.path() / "model", WeightType::Q8_0, dir.path() / "tiny.gguf");
        if (!s)
            qFatal("quantize failed: %s", s.error().message.c_str());
        return test::readFile(dir.path() / "tiny.gguf");
    }();
    return bytes;
}

template <class T>
void put(std::string& bytes, size_t at, T value) {
    if (at + sizeof(T) > bytes.size())
        qFatal("patch outside the file");
    std::memcpy(bytes.data() + at, &value, sizeof(T));
}

template <class T>
T get(const std::string& bytes, size_t at) {
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof(T));
    return value;
}

// Where the string `s` (u64 length + bytes) is stored: the offset just past it.
size_t after(const std::string& bytes, const std::string& s) {
    std::string encoded(8, '\0');
    const uint64_t n = s.size();
    std::memcpy(encoded.data(), &n, 8);
    encoded += s;
    const size_t at = bytes.find(encoded);
    if (at == std::string::npos)
        qFatal("'%s' not found", s.c_str());
    return at + encoded.size();
}

// Tensor info fields of a tensor with `dims` dimensions, as offsets into the file.
struct TensorFields {
    size_t nDims, dims, type, offset;
};
TensorFields tensorFields(const std::string& bytes, const std::string& name) {
    const size_t at = after(bytes, name);
    const uint32_t n = get<uint32_t>(bytes, at);
    return {at, at + 4, at + 4 + 8 * n, at + 4 + 8 * n + 4};
}

const std::string kNorm = "model.final_norm.weight";
const std::string kNorm0 = "model.layers.0.channel_pre_norm.weight";  // as big as kNorm
const std::string kMatrix = "model.layers.0.mlp_block.down_proj.weight";

std::string damaged(const QString& damage) {
    std::string b = validFile();
    const std::string d = damage.toStdString();
    if (d == "magic") {
        b[0] = 'X';
    } else if (d == "version") {
        put<uint32_t>(b, 4, 99);
    } else if (d.starts_with("truncate:")) {
        b.resize(std::stoul(d.substr(9)));
    } else if (d == "truncate-infos") {
        b.resize(tensorFields(b, kMatrix).offset);
    } else if (d == "truncate-data") {
        b.resize(b.size() - 100);
    } else if (d == "tensor-count") {
        put<uint64_t>(b, 8, kHuge);
    } else if (d == "kv-count") {
        put<uint64_t>(b, 16, kHuge);
    } else if (d == "string-length") {
        put<uint64_t>(b, 24, kHuge);  // the first key
    } else if (d == "string-array-length") {
        put<uint64_t>(b, after(b, "tokenizer.ggml.tokens") + 8, kHuge);
    } else if (d == "byte-array-length") {
        put<uint64_t>(b, after(b, "tokenizer.ggml.sentencepiece_model") + 8, kHuge);
    } else if (d == "value-type") {
        put<uint32_t>(b, after(b, "recurrentgemma.block_count"), 13);
    } else if (d == "offset-past-end") {
        put<uint64_t>(b, tensorFields(b, kNorm).offset, uint64_t{1} << 40);
    } else if (d == "misaligned") {
        const size_t at = tensorFields(b, kNorm).offset;
        put<uint64_t>(b, at, get<uint64_t>(b, at) + 4);
    } else if (d == "overlap") {
        put<uint64_t>(b, tensorFields(b, kNorm).offset,
                      get<uint64_t>(b, tensorFields(b, kNorm0).offset));
    } else if (d == "unknown-type") {
        put<uint32_t>(b, tensorFields(b, kNorm).type, 77);
    } else if (d == "unsupported-type") {
        put<uint32_t>(b, tensorFields(b, kNorm).type, 14);  // q6_K
    } else if (d == "dims-overflow") {
        const TensorFields f = tensorFields(b, kMatrix);
        put<uint64_t>(b, f.dims, uint64_t{1} << 40);
        put<uint64_t>(b, f.dims + 8, uint64_t{1} << 40);
    } else if (d == "too-many-dims") {
        put<uint32_t>(b, tensorFields(b, kNorm).nDims, 9);
    } else if (d == "block-row") {
        put<uint64_t>(b, tensorFields(b, kMatrix).dims, 48);  // q8_0 needs multiples of 32
    } else if (d == "missing-key") {
        b.replace(after(b, "recurrentgemma.block_count") - 5, 5, "xount");
    } else if (d == "bad-config-value") {
        put<uint32_t>(b, after(b, "recurrentgemma.block_count") + 4, 0);
    } else if (d == "wrong-architecture") {
        b.replace(after(b, "general.architecture") + 12, 14, "recurrentllama");
    } else if (d == "alignment") {
        put<uint32_t>(b, after(b, "general.alignment") + 4, 33);
    } else {
        qFatal("unknown damage %s", d.c_str());
    }
    return b;
}

}  // namespace

class GgufCorruptionTest : public QObject {
    Q_OBJECT

private slots:
    void damagedFileIsRejectedNamingFileAndProblem_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("bad magic") << "magic"
                                   << "not a GGUF file";
        QTest::newRow("version 99") << "version"
                                    << "version 99";
        QTest::newRow("truncated in the magic") << "truncate:2"
                                                << "truncated";
        QTest::newRow("truncated in the header") << "truncate:20"
                                                 << "truncated";
        QTest::newRow("truncated in the metadata") << "truncate:300"
                                                   << "truncated";
        QTest::newRow("truncated in the tensor infos") << "truncate-infos"
                                                       << "truncated";
        QTest::newRow("truncated in the data") << "truncate-data"
                                               << "truncated";
        QTest::newRow("absurd tensor count") << "tensor-count"
                                             << "more than the file can hold";
        QTest::newRow("absurd kv count") << "kv-count"
                                         << "more than the file can hold";
        QTest::newRow("absurd string length") << "string-length"
                                              << "limited to 1 MiB";
        QTest::newRow("absurd string array length") << "string-array-length"
                                                    << "tokenizer.ggml.tokens";
        QTest::newRow("absurd byte array length") << "byte-array-length"
                                                  << "runs past the end";
        QTest::newRow("unknown value type") << "value-type"
                                            << "unknown value type 13";
        QTest::newRow("offset past the end") << "offset-past-end"
                                             << "outside the data section";
        QTest::newRow("misaligned offset") << "misaligned"
                                           << "not a multiple of the alignment";
        QTest::newRow("overlapping tensors") << "overlap"
                                             << "overlap";
        QTest::newRow("unknown ggml type") << "unknown-type"
                                           << "ggml type 77";
        QTest::newRow("unsupported ggml type") << "unsupported-type"
                                               << "q6_K";
        QTest::newRow("dims product overflow") << "dims-overflow"
                                               << "more than 2^62 elements";
        QTest::newRow("too many dims") << "too-many-dims"
                                       << "9 dimensions";
        QTest::newRow("block row not a multiple of 32") << "block-row"
                                                        << "multiple of 32";
        QTest::newRow("missing required key") << "missing-key"
                                              << "'recurrentgemma.block_count' is missing";
        QTest::newRow("config value out of range") << "bad-config-value"
                                                   << "recurrentgemma.block_count";
        QTest::newRow("wrong architecture") << "wrong-architecture"
                                            << "not a RecurrentGemma model";
        QTest::newRow("alignment not a power of two") << "alignment"
                                                      << "power of two";
    }
    void damagedFileIsRejectedNamingFileAndProblem() {
        QFETCH(QString, damage);
        QFETCH(QString, mentions);
        test::TempDir dir;
        const auto file = dir.path() / "damaged.gguf";
        test::writeFile(file, damaged(damage));
        auto model = Model::load(file);
        QVERIFY(!model);
        const QString message = QString::fromStdString(model.error().message);
        QVERIFY2(message.contains(QString::fromStdString(file.string())), qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
        auto inspection = inspectModel(file);
        QVERIFY(!inspection);
        QCOMPARE(inspection.error().message, model.error().message);
    }

    void undamagedFileLoads() {
        test::TempDir dir;
        test::writeFile(dir.path() / "ok.gguf", validFile());
        auto model = Model::load(dir.path() / "ok.gguf");
        QVERIFY2(model, model ? "" : model.error().message.c_str());
    }

    void version2IsAccepted() {
        test::TempDir dir;
        std::string b = validFile();
        put<uint32_t>(b, 4, 2);
        test::writeFile(dir.path() / "v2.gguf", b);
        auto archive = io::GgufArchive::open(dir.path() / "v2.gguf");
        QVERIFY2(archive, archive ? "" : archive.error().message.c_str());
        QCOMPARE((*archive)->version(), 2u);
    }

    void everyTruncationIsAnErrorNotACrash() {
        test::TempDir dir;
        const std::string& b = validFile();
        const auto file = dir.path() / "cut.gguf";
        // Every byte through the first 512, then steps of a prime size through the rest.
        for (size_t size = 0; size < b.size(); size += size < 512 ? 1 : 509) {
            test::writeFile(file, b.substr(0, size));
            auto archive = io::GgufArchive::open(file);
            QVERIFY2(!archive, qPrintable(QString::number(size)));
        }
    }

    // Random bytes written over the header (metadata, the embedded tokenizer, tensor infos): each
    // file is an error naming it, or a model and tokenizer that load and run. Never a crash or
    // an out-of-bounds read (ASan in CI).
    void randomHeaderDamageIsAnErrorOrAWorkingModel() {
        const std::string& valid = validFile();
        test::TempDir dir;
        test::writeFile(dir.path() / "ok.gguf", valid);
        auto archive = io::GgufArchive::open(dir.path() / "ok.gguf");
        QVERIFY2(archive, archive ? "" : archive.error().message.c_str());
        size_t headerEnd = 0;  // past the last tensor info
        for (const auto& entry : (*archive)->tensors())
            headerEnd = std::max(headerEnd, tensorFields(valid, entry.first).offset + 8);
        QVERIFY(headerEnd > 0 && headerEnd < valid.size());
        const auto file = dir.path() / "damaged.gguf";
        const QString fileName = QString::fromStdString(file.string());
        std::mt19937 rng(20261203);
        int loaded = 0, rejected = 0;
        for (int round = 0; round < 300; ++round) {
            std::string b = valid;
            const int bytes = 1 + static_cast<int>(rng() % 4);
            for (int i = 0; i < bytes; ++i) b[rng() % headerEnd] = static_cast<char>(rng() & 0xFF);
            test::writeFile(file, b);
            const QString where = QString("round %1").arg(round);
            auto model = Model::load(file);
            auto tokenizer = Tokenizer::loadForModel(file);
            if (!model) {
                ++rejected;
                const QString message = QString::fromStdString(model.error().message);
                QVERIFY2(message.contains(fileName), qPrintable(where + ": " + message));
                continue;
            }
            ++loaded;
            State state = (*model)->newState();
            auto logits = (*model)->step(state, 2);
            QVERIFY2(logits, qPrintable(where));
            QCOMPARE(static_cast<int64_t>(logits->size()), (*model)->info().config.vocabSize);
            if (tokenizer) {
                const std::vector<int32_t> ids = (*tokenizer)->encode("a damaged file");
                (void)(*tokenizer)->decode(ids);
            } else {
                const QString message = QString::fromStdString(tokenizer.error().message);
                QVERIFY2(message.contains(fileName), qPrintable(where + ": " + message));
            }
        }
        // The damage reaches both outcomes (bytes that only change a value, and fatal ones).
        QVERIFY2(loaded > 0 && rejected > 0,
                 qPrintable(QString("%1 loaded, %2 rejected").arg(loaded).arg(rejected)));
    }
};

QTEST_APPLESS_MAIN(GgufCorruptionTest)
#include "gguf_corruption_test.moc"
