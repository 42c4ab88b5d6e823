// SPDX-License-Identifier: Apache-2.0
// Document: encodings detected (UTF-8, byte-order marks, Latin-1 fallback) and decoded, binary
// files refused with a message naming the file, SHA-256 of the bytes, HTML reduced to its
// visible text, and a large file that changes while being read reported.
#include <algorithm>
#include <random>

#include <QtTest>

#include "griffin/chunker.h"
#include "summarize/sha256.h"
#include "test_files.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";

std::string utf16(std::u16string_view text, bool littleEndian) {
    std::string out = littleEndian ? "\xFF\xFE" : "\xFE\xFF";
    for (char16_t u : text) {
        const char lo = static_cast<char>(u & 0xFF), hi = static_cast<char>(u >> 8);
        out += littleEndian ? lo : hi;
        out += littleEndian ? hi : lo;
    }
    return out;
}

}  // namespace

Q_DECLARE_METATYPE(griffin::TextEncoding)
Q_DECLARE_METATYPE(griffin::ErrorCode)

class DocumentTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        auto tokenizer = Tokenizer::load(kDemo / "tokenizer.model");
        QVERIFY(tokenizer.has_value());
        m_tokenizer = std::move(*tokenizer);
    }

    void detectsAndDecodesTheEncoding_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<TextEncoding>("encoding");
        QTest::addColumn<QString>("text");
        QTest::newRow("utf-8") << QByteArray("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80\n")
                               << TextEncoding::Utf8 << QString::fromUtf8("café 日😀");
        QTest::newRow("utf-8 bom") << QByteArray(
                                          "\xef\xbb\xbf"
                                          "caf\xc3\xa9\n")
                                   << TextEncoding::Utf8Bom << QString::fromUtf8("café");
        const std::u16string sample = u"Grüße, 日本 😀\r\nline two";
        QTest::newRow("utf-16le") << QByteArray::fromStdString(utf16(sample, true))
                                  << TextEncoding::Utf16Le
                                  << QString::fromUtf8("Grüße, 日本 😀\nline two");
        QTest::newRow("utf-16be") << QByteArray::fromStdString(utf16(sample, false))
                                  << TextEncoding::Utf16Be
                                  << QString::fromUtf8("Grüße, 日本 😀\nline two");
        QTest::newRow("latin-1") << QByteArray("na\xefve caf\xe9\n") << TextEncoding::Latin1
                                 << QString::fromUtf8("naïve café");
        QTest::newRow("latin-1 with windows-1252 quotes")
            << QByteArray("\x93quoted\x94 \x96 dash") << TextEncoding::Latin1
            << QString::fromUtf8("“quoted” – dash");
        QTest::newRow("utf-8 broken by one byte")
            << QByteArray("ok \xc3\xa9 then \xff") << TextEncoding::Latin1
            << QString::fromUtf8("ok Ã© then ÿ");
    }
    void detectsAndDecodesTheEncoding() {
        QFETCH(QByteArray, bytes);
        QFETCH(TextEncoding, encoding);
        QFETCH(QString, text);
        test::TempDir dir;
        test::writeFile(dir.path() / "doc.txt", bytes.toStdString());
        auto doc = Document::open(dir.path() / "doc.txt");
        QVERIFY2(doc.has_value(), doc ? "" : doc.error().message.c_str());
        QCOMPARE(doc->info().encoding, encoding);
        QCOMPARE(doc->info().bytes, static_cast<int64_t>(bytes.size()));
        auto chunks = chunkDocument(*doc, *m_tokenizer, 1000);
        QVERIFY(chunks.has_value());
        QCOMPARE(chunks->size(), size_t{1});
        QCOMPARE(QString::fromStdString(chunks->front().text), text);
        QVERIFY(std::string(textEncodingName(encoding)).size() > 0);
    }

    void binaryAndEmptyFilesAreRefusedNamingTheFile_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("nul bytes")
            << QByteArray("text\0more", 9) << ErrorCode::Unsupported << "NUL";
        QTest::newRow("png") << QByteArray("\x89PNG\r\n\x1a\n....") << ErrorCode::Unsupported
                             << "PNG";
        QTest::newRow("zip") << QByteArray("PK\x03\x04rest") << ErrorCode::Unsupported << "ZIP";
        QTest::newRow("elf") << QByteArray(
                                    "\x7f"
                                    "ELF\x02\x01")
                             << ErrorCode::Unsupported << "executable";
        QTest::newRow("pdf") << QByteArray("%PDF-1.7\n%...") << ErrorCode::Unsupported << "PDF";
        QTest::newRow("control characters")
            << QByteArray("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f abc") << ErrorCode::Unsupported
            << "control";
        QTest::newRow("utf-32") << QByteArray("\xff\xfe\x00\x00h\x00\x00\x00", 8)
                                << ErrorCode::Unsupported << "UTF-32";
        QTest::newRow("empty") << QByteArray() << ErrorCode::InvalidArgument << "empty";
        QTest::newRow("only a bom")
            << QByteArray("\xef\xbb\xbf") << ErrorCode::InvalidArgument << "empty";
    }
    void binaryAndEmptyFilesAreRefusedNamingTheFile() {
        QFETCH(QByteArray, bytes);
        QFETCH(ErrorCode, code);
        QFETCH(QString, mentions);
        test::TempDir dir;
        test::writeFile(dir.path() / "input.bin", bytes.toStdString());
        auto doc = Document::open(dir.path() / "input.bin");
        QVERIFY(!doc.has_value());
        QCOMPARE(doc.error().code, code);
        const QString message = QString::fromStdString(doc.error().message);
        QVERIFY2(message.contains("input.bin") && message.contains(mentions), qPrintable(message));
    }

    void missingFilesAndFoldersAreErrors() {
        test::TempDir dir;
        auto missing = Document::open(dir.path() / "nope.txt");
        QVERIFY(!missing && missing.error().code == ErrorCode::NotFound);
        auto folder = Document::open(dir.path());
        QVERIFY(!folder && folder.error().code == ErrorCode::InvalidArgument);
    }

    void sha256MatchesTheStandardVectors() {
        QCOMPARE(QString::fromStdString(Document::fromText("abc").info().sha256),
                 QString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        test::TempDir dir;
        test::writeFile(dir.path() / "a.txt", std::string(1'000'000, 'a'));
        auto doc = Document::open(dir.path() / "a.txt");
        QVERIFY(doc.has_value());
        QCOMPARE(QString::fromStdString(doc->info().sha256),
                 QString("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
        detail::Sha256 split;  // fed in odd pieces across block boundaries
        const std::string text(1000, 'x');
        for (size_t at = 0; at < text.size(); at += 37)
            split.update(std::string_view(text).substr(at, 37));
        detail::Sha256 whole;
        whole.update(text);
        QCOMPARE(split.hexDigest(), whole.hexDigest());
    }

    void htmlYieldsOnlyTheVisibleText() {
        const std::string html =
            "<!DOCTYPE html><html><head><title>The title</title>\n"
            "<style>p { color: red; }</style><script>if (a < b) { x = '</p>'; }</script>\n"
            "</head><body><h1 class=\"x>y\">Head &amp; more</h1>\n"
            "<p>First   paragraph\n  text&nbsp;here.<br>Second line &#233; &#x1F600; &bogus; 1 < "
            "2</p>\n"
            "<!-- a comment <p>not shown</p> -->\n"
            "<ul><li>one</li><li>two</li></ul><noscript>no</noscript></body></html>\n";
        auto chunks = chunkDocument(Document::fromText(html, "page.html"), *m_tokenizer, 1000);
        QVERIFY(chunks.has_value());
        QCOMPARE(chunks->size(), size_t{1});
        QCOMPARE(QString::fromStdString(chunks->front().text),
                 QString::fromUtf8("The title\n\nHead & more\n\nFirst paragraph text here.\n"
                                   "Second line é 😀 &bogus; 1 < 2\n\n- one\n\n- two"));
        QCOMPARE(chunks->front().firstLine, int64_t{1});
        QCOMPARE(chunks->front().lastLine, int64_t{7});
    }

    void htmlChunkRangesCoverTheirText() {
        std::string html = "<html><body>\n";
        for (int i = 0; i < 30; ++i) {
            html += "<p>Paragraph " + std::to_string(i) + " has <b>bold</b> and <i>slanted</i>\n" +
                    "words in it, word" + std::to_string(i) + "end.</p>\n";
        }
        html += "</body></html>\n";
        auto chunks = chunkDocument(Document::fromText(html, "p.html"), *m_tokenizer, 24);
        QVERIFY(chunks.has_value());
        QVERIFY(chunks->size() > 10);
        for (const Chunk& c : *chunks) {
            const std::string slice = html.substr(static_cast<size_t>(c.beginByte),
                                                  static_cast<size_t>(c.endByte - c.beginByte));
            const std::string first = c.text.substr(0, c.text.find(' '));
            const std::string last = c.text.substr(c.text.rfind(' ') + 1);
            QVERIFY2(slice.find(first) != std::string::npos, (first + " | " + slice).c_str());
            QVERIFY2(slice.find(last) != std::string::npos, (last + " | " + slice).c_str());
            QCOMPARE(c.firstLine, 1 + std::count(html.begin(), html.begin() + c.beginByte, '\n'));
        }
    }

    void lineEndsOfEveryKindCountLines() {
        auto chunks =
            chunkDocument(Document::fromText("one\r\ntwo\rthree\n\nfour\n"), *m_tokenizer, 1000);
        QVERIFY(chunks.has_value());
        QCOMPARE(QString::fromStdString(chunks->front().text), QString("one\ntwo\nthree\n\nfour"));
        QCOMPARE(chunks->front().lastLine, int64_t{5});
        QCOMPARE(chunks->front().endByte, int64_t{20});
    }

    void aLargeFileChangedWhileReadingIsReported() {
        test::TempDir dir;
        test::writeFile(dir.path() / "big.txt", std::string(3000, 'a') + "\n");
        DocumentOptions streaming;
        streaming.streamThresholdBytes = 1000;
        auto doc = Document::open(dir.path() / "big.txt", streaming);
        QVERIFY(doc.has_value());
        QVERIFY(doc->info().streamed);
        test::writeFile(dir.path() / "big.txt", std::string(3000, 'b') + "\n");
        auto chunks = chunkDocument(*doc, *m_tokenizer, 1000);
        QVERIFY(!chunks.has_value());
        QCOMPARE(chunks.error().code, ErrorCode::Corrupt);
        QVERIFY(QString::fromStdString(chunks.error().message).contains("changed"));
    }

    // Documents are untrusted: random soups of markup, entities, line ends, byte-order marks,
    // broken and valid UTF-8 and stray bytes, read as HTML, Markdown and text from files (small
    // enough to be held, and large enough to be streamed). Each is an error, or chunks of valid
    // UTF-8 in order, within the file, on lines that exist. Never a crash (ASan in CI).
    void randomDocumentsChunkOrFailCleanly() {
        static const char* const kPieces[] = {"<",
                                              ">",
                                              "</",
                                              "<p>",
                                              "</p>",
                                              "<h1>",
                                              "</h2>",
                                              "<br>",
                                              "<li>",
                                              "<!--",
                                              "-->",
                                              "<script>",
                                              "</script>",
                                              "<style>",
                                              "<!DOCTYPE html>",
                                              "<a href=\"x>y\">",
                                              "=\"",
                                              "'",
                                              "&",
                                              "&amp;",
                                              "&#",
                                              "&#x",
                                              "&#99999999999;",
                                              "&#xD800;",
                                              "&#0;",
                                              "&nbsp;",
                                              ";",
                                              "# ",
                                              "## Heading",
                                              "- ",
                                              "* ",
                                              "```",
                                              "\n",
                                              "\r",
                                              "\r\n",
                                              "\n\n",
                                              " ",
                                              "\t",
                                              "word",
                                              "Grüße",
                                              "日本",
                                              "😀",
                                              "\xEF\xBB\xBF",
                                              "\xFF\xFE",
                                              "\xFE\xFF",
                                              "\xC3",
                                              "\xE6\x97",
                                              "\xF0\x9F\x98",
                                              "\x80",
                                              "\xFF",
                                              "\x01",
                                              "\x1B[",
                                              "\xED\xA0\x80",
                                              "\xC0\xAF",
                                              "\xF4\x90\x80\x80"};
        std::mt19937 rng(20261203);
        test::TempDir dir;
        DocumentOptions streaming;
        streaming.streamThresholdBytes = 512;
        int chunked = 0, refused = 0;
        for (int round = 0; round < 400; ++round) {
            std::string text;
            const int pieces = 1 + static_cast<int>(rng() % 200);
            for (int i = 0; i < pieces; ++i) {
                if (rng() % 8 == 0)
                    text += static_cast<char>(rng() & 0xFF);
                else
                    text += kPieces[rng() % std::size(kPieces)];
            }
            static const char* const kNames[] = {"page.html", "notes.md", "plain.txt"};
            const auto file = dir.path() / kNames[round % 3];
            test::writeFile(file, text);
            auto doc = Document::open(file, round % 2 == 0 ? DocumentOptions{} : streaming);
            if (!doc) {
                ++refused;
                QVERIFY2(QString::fromStdString(doc.error().message)
                             .contains(QString::fromStdString(file.string())),
                         doc.error().message.c_str());
                continue;
            }
            auto chunks = chunkDocument(*doc, *m_tokenizer, 8 + static_cast<int>(rng() % 64));
            if (!chunks) {
                ++refused;
                continue;
            }
            ++chunked;
            const auto lines = 1 + std::count(text.begin(), text.end(), '\n') +
                               std::count(text.begin(), text.end(), '\r');
            int64_t previousBegin = 0;
            for (const Chunk& c : *chunks) {
                const QString where = QString("round %1, chunk %2").arg(round).arg(c.index);
                QVERIFY2(test::isStrictUtf8(c.text), qPrintable(where + ": not valid UTF-8"));
                QVERIFY2(!c.text.empty() && c.tokens > 0, qPrintable(where));
                QVERIFY2(0 <= c.beginByte && c.beginByte <= c.endByte &&
                             c.endByte <= static_cast<int64_t>(text.size()),
                         qPrintable(where +
                                    QString(" [%1, %2) of %3, %4 encoding %5: ")
                                        .arg(c.beginByte)
                                        .arg(c.endByte)
                                        .arg(text.size())
                                        .arg(QString::fromStdString(file.string()))
                                        .arg(int(doc->info().encoding)) +
                                    QString::fromStdString(
                                        QByteArray::fromStdString(text).toHex().toStdString())));
                QVERIFY2(c.beginByte >= previousBegin, qPrintable(where));
                QVERIFY2(1 <= c.firstLine && c.firstLine <= c.lastLine && c.lastLine <= lines,
                         qPrintable(where));
                previousBegin = c.beginByte;
            }
        }
        QVERIFY2(chunked > 0 && refused > 0,
                 qPrintable(QString("%1 chunked, %2 refused").arg(chunked).arg(refused)));
    }

private:
    std::unique_ptr<Tokenizer> m_tokenizer;
};

QTEST_APPLESS_MAIN(DocumentTest)
#include "document_test.moc"
