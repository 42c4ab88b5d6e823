// SPDX-License-Identifier: Apache-2.0
// Tokenizer: round trips in several scripts, special pieces by name, streaming decode that never
// emits a broken character, and hostile tokenizer files.
#include "griffin/tokenizer.h"

#include <random>

#include <QtTest>

#include "test_files.h"

using namespace griffin;

namespace {

std::unique_ptr<Tokenizer> load(const char* name) {
    auto t = Tokenizer::load(test::testTokenizer(name));
    if (!t)
        qFatal("%s", t.error().message.c_str());
    return std::move(*t);
}

// Strict UTF-8 validation (no overlongs, surrogates or code points past U+10FFFF).
bool isValidUtf8(const std::string& s) {
    std::string copy = s;
    const std::string complete = takeCompleteUtf8(copy);
    return copy.empty() && complete == s;
}

}  // namespace

class TokenizerTest : public QObject {
    Q_OBJECT

private slots:
    void specialPiecesAreFoundByName() {
        auto t = load("multi.model");
        QCOMPARE(t->piece(t->bosId()), std::string("<bos>"));
        QCOMPARE(t->piece(t->eosId()), std::string("<eos>"));
        QVERIFY(t->startOfTurnId() && t->endOfTurnId() && t->padId());
        QCOMPARE(t->piece(*t->startOfTurnId()), std::string("<start_of_turn>"));
        QCOMPARE(t->piece(*t->endOfTurnId()), std::string("<end_of_turn>"));
        QVERIFY(t->isControl(t->bosId()));
        QVERIFY(!t->addsDummyPrefix());
        QCOMPARE(t->vocabSize(), 1000);
    }

    void roundTripsInManyScripts_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("english") << "The quick brown fox jumps over the lazy dog.";
        QTest::newRow("german") << "Grüße aus München: Fünf Äpfel über der Brücke.";
        QTest::newRow("japanese") << "東京の駅はとても広くて、人がたくさんいます。";
        QTest::newRow("emoji") << "Party 🎉 with 👨‍👩‍👧 and 🇩🇪 ❤️!";
        QTest::newRow("unseen script") << "ქართული ენა და ᚠᚢᚦ runes";
        QTest::newRow("code") << "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n";
        QTest::newRow("spaces") << "  leading, double  spaces and trailing  ";
    }
    void roundTripsInManyScripts() {
        QFETCH(QString, text);
        auto t = load("multi.model");
        const std::string s = text.toStdString();
        const auto ids = t->encode(s);
        QVERIFY(!ids.empty());
        QCOMPARE(t->decode(ids), s);

        // Streaming: every released piece is valid UTF-8 and together they are the text.
        IncrementalDecoder decoder(*t);
        std::string streamed;
        for (int32_t id : ids) {
            const std::string piece = decoder.push(id);
            QVERIFY2(isValidUtf8(piece), qPrintable(QString::fromStdString(t->piece(id))));
            streamed += piece;
        }
        streamed += decoder.flush();
        QCOMPARE(streamed, s);
    }

    void emojiOutsideTheVocabularyUsesBytePieces() {
        auto t = load("multi.model");
        const auto ids = t->encode("🦜");  // not in the training corpus
        QVERIFY(ids.size() >= 4);
        for (int32_t id : ids) QVERIFY(t->piece(id).starts_with("<0x"));
        // The first three bytes alone release nothing.
        IncrementalDecoder decoder(*t);
        for (size_t i = 0; i + 1 < ids.size(); ++i) QCOMPARE(decoder.push(ids[i]), std::string());
        QCOMPARE(decoder.push(ids.back()), std::string("🦜"));
    }

    void leadingSpacePieceRendersMidStream() {
        auto t = load("multi.model");
        const auto ids = t->encode("hello world");
        IncrementalDecoder decoder(*t);
        std::string out;
        for (int32_t id : ids) out += decoder.push(id);
        QCOMPARE(out, std::string("hello world"));
    }

    void literalTurnMarkersInTextStayText() {
        auto t = load("multi.model");
        const auto ids = t->encode("a <end_of_turn> b <start_of_turn>");
        for (int32_t id : ids) {
            QVERIFY(id != *t->endOfTurnId() && id != *t->startOfTurnId());
        }
        QCOMPARE(t->decode(ids), std::string("a <end_of_turn> b <start_of_turn>"));
        const auto special = t->encode("a<end_of_turn>", true);
        QCOMPARE(special.back(), *t->endOfTurnId());
        QCOMPARE(t->decode(special), std::string("a"));  // markers are hidden from text
    }

    void invalidBytesBecomeReplacementCharacters_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("expected");
        QTest::addColumn<QByteArray>("held");
        QTest::newRow("lone continuation")
            << QByteArray("a\x80z") << QByteArray("a\xEF\xBF\xBDz") << QByteArray();
        QTest::newRow("overlong") << QByteArray("\xC0\xAF")
                                  << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD") << QByteArray();
        QTest::newRow("surrogate")
            << QByteArray("\xED\xA0\x80") << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")
            << QByteArray();
        QTest::newRow("incomplete tail")
            << QByteArray("ok\xE6\x97") << QByteArray("ok") << QByteArray("\xE6\x97");
        QTest::newRow("broken then ok") << QByteArray("\xE6\x41")
                                        << QByteArray(
                                               "\xEF\xBF\xBD"
                                               "A")
                                        << QByteArray();
    }
    void invalidBytesBecomeReplacementCharacters() {
        QFETCH(QByteArray, bytes);
        QFETCH(QByteArray, expected);
        QFETCH(QByteArray, held);
        std::string s = bytes.toStdString();
        QCOMPARE(takeCompleteUtf8(s), expected.toStdString());
        QCOMPARE(s, held.toStdString());
    }

    void badTokenizerFilesAreErrorsNamingTheFile_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("garbage") << QByteArray("this is not a protobuf \x01\x02\xff", 26);
        QTest::newRow("truncated") << QByteArray::fromStdString(
            test::readFile(test::testTokenizer("multi.model")).substr(0, 5000));
    }
    void badTokenizerFilesAreErrorsNamingTheFile() {
        QFETCH(QByteArray, content);
        test::TempDir dir;
        const auto file = dir.path() / "tokenizer.model";
        test::writeFile(file, content.toStdString());
        auto t = Tokenizer::load(file);
        QVERIFY(!t.has_value());
        QVERIFY2(QString::fromStdString(t.error().message)
                     .contains(QString::fromStdString(file.string())),
                 t.error().message.c_str());
    }

    // Random bytes over a valid tokenizer file: each is an error naming the file, or a tokenizer
    // whose pieces encode and decode (ASan/UBSan in CI).
    void randomlyDamagedTokenizerFilesAreErrorsOrWork() {
        const std::string valid = test::readFile(test::testTokenizer("multi.model"));
        test::TempDir dir;
        const auto file = dir.path() / "tokenizer.model";
        const QString name = QString::fromStdString(file.string());
        std::mt19937 rng(20261203);
        int loaded = 0, rejected = 0;
        for (int round = 0; round < 200; ++round) {
            std::string bytes = valid;
            for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n; ++i)
                bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
            test::writeFile(file, bytes);
            auto t = Tokenizer::load(file);
            if (!t) {
                ++rejected;
                QVERIFY2(QString::fromStdString(t.error().message).contains(name),
                         t.error().message.c_str());
                continue;
            }
            ++loaded;
            const std::vector<int32_t> ids = (*t)->encode("Grüße, 日本 😀 and <start_of_turn>");
            (void)(*t)->decode(ids);
        }
        QVERIFY2(loaded > 0 && rejected > 0,
                 qPrintable(QString("%1 loaded, %2 rejected").arg(loaded).arg(rejected)));
    }

    void missingTokenizerIsNotFound() {
        auto t = Tokenizer::load("/nonexistent/tokenizer.model");
        QVERIFY(!t.has_value());
        QCOMPARE(t.error().code, ErrorCode::NotFound);
    }
};

QTEST_APPLESS_MAIN(TokenizerTest)
#include "tokenizer_test.moc"
