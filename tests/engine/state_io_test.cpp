// SPDX-License-Identifier: Apache-2.0
// State snapshots: exact round trips, and clear errors for another model's snapshot, truncation
// and damage.
#include <QtTest>

#include "griffin/model.h"
#include "test_files.h"

using namespace griffin;

namespace {

std::unique_ptr<Model> load(const char* dtype) {
    auto m = Model::load(test::tinyPublicDir() / (std::string("model-") + dtype));
    if (!m)
        qFatal("%s", m.error().message.c_str());
    return std::move(*m);
}

std::vector<int32_t> someTokens() {
    std::vector<int32_t> t{2};
    for (int i = 1; i < 30; ++i) t.push_back((i * 53) % 256);
    return t;
}

}  // namespace

class StateIoTest : public QObject {
    Q_OBJECT

private slots:
    void saveThenLoadContinuesBitIdentically() {
        auto model = load("f32");
        State state = model->newState();
        QVERIFY(model->prefill(state, someTokens()).has_value());
        test::TempDir dir;
        const auto file = dir.path() / "chat.state";
        QVERIFY(model->saveState(state, file).has_value());
        auto loaded = model->loadState(file);
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded->position(), state.position());
        for (int32_t t : {7, 99, 200}) {
            auto a = model->step(state, t);
            auto b = model->step(*loaded, t);
            QVERIFY(a.has_value() && b.has_value());
            QVERIFY(*a == *b);  // bitwise
        }
    }

    void damagedSnapshotsAreRejectedNamingTheFile_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("other model") << "other"
                                     << "another model";
        QTest::newRow("truncated") << "truncate"
                                   << "truncated";
        QTest::newRow("flipped byte") << "flip"
                                      << "checksum";
        QTest::newRow("not a snapshot") << "garbage"
                                        << "not a Griffin state snapshot";
        QTest::newRow("future version") << "version"
                                        << "version";
        QTest::newRow("empty") << "empty"
                               << "not a Griffin state snapshot";
    }
    void damagedSnapshotsAreRejectedNamingTheFile() {
        QFETCH(QString, damage);
        QFETCH(QString, mentions);
        auto f32 = load("f32");
        test::TempDir dir;
        const auto file = dir.path() / "s.state";
        State state = f32->newState();
        QVERIFY(f32->prefill(state, someTokens()).has_value());
        if (damage == "other") {
            auto bf16 = load("bf16");
            QVERIFY(bf16->saveState(bf16->newState(), file).has_value());
        } else {
            QVERIFY(f32->saveState(state, file).has_value());
            std::string bytes = test::readFile(file);
            if (damage == "truncate")
                bytes.resize(bytes.size() - 100);
            if (damage == "flip")
                bytes[bytes.size() / 2] ^= 0x10;
            if (damage == "garbage")
                bytes = "hello, this is not a state";
            if (damage == "version")
                bytes[8] = 9;
            if (damage == "empty")
                bytes.clear();
            test::writeFile(file, bytes);
        }
        const int64_t before = state.position();
        auto loaded = f32->loadState(file);
        QVERIFY(!loaded.has_value());
        const QString message = QString::fromStdString(loaded.error().message);
        QVERIFY2(message.contains(QString::fromStdString(file.string())), qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
        QCOMPARE(state.position(), before);
    }

    void fingerprintTellsModelsApart() {
        auto a = load("f32"), b = load("bf16"), c = load("f32");
        QCOMPARE(a->info().fingerprint.size(), size_t{16});
        QVERIFY(a->info().fingerprint != b->info().fingerprint);
        QCOMPARE(a->info().fingerprint, c->info().fingerprint);
    }
};

QTEST_APPLESS_MAIN(StateIoTest)
#include "state_io_test.moc"
