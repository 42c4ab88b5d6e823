// SPDX-License-Identifier: Apache-2.0
// Chunker: token budgets hold for the exact chunk text, cuts fall on the strongest boundary that
// fits, UTF-8 characters are never split, source ranges point at the chunk's text, and the same
// input always gives the same chunks (in memory and streamed from disk).
#include "griffin/chunker.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <QtTest>

#include "generated_documents.h"
#include "test_files.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";

std::string withoutSpace(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
            out += c;
    }
    return out;
}

std::string joinChunks(const std::vector<Chunk>& chunks) {
    std::string all;
    for (const Chunk& c : chunks) all += c.text;
    return all;
}

// Decodes UTF-16LE bytes (no surrogates needed by these tests beyond pairs) to UTF-8.
std::string utf16leToUtf8(std::string_view bytes) {
    std::u16string units(bytes.size() / 2, u'\0');
    std::memcpy(units.data(), bytes.data(), units.size() * 2);
    return QString::fromUtf16(units.data(), static_cast<qsizetype>(units.size()))
        .toUtf8()
        .toStdString();
}

}  // namespace

class ChunkerTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        auto tokenizer = Tokenizer::load(kDemo / "tokenizer.model");
        QVERIFY2(tokenizer.has_value(), tokenizer ? "" : tokenizer.error().message.c_str());
        m_tokenizer = std::move(*tokenizer);
    }

    void chunksFitTheBudgetAndCoverTheText_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("budget");
        for (const char* kind : {"markdown", "plain", "wide"}) {
            for (int budget : {8, 24, 60, 200, 1000}) {
                QTest::newRow(QString("%1/%2").arg(kind).arg(budget).toUtf8().constData())
                    << QString(kind) << budget;
            }
        }
    }
    void chunksFitTheBudgetAndCoverTheText() {
        QFETCH(QString, kind);
        QFETCH(int, budget);
        const std::string text = kind == "markdown" ? test::generatedMarkdown(7, 12)
                                 : kind == "plain"  ? test::generatedPlainText(8, 6, 20)
                                                    : test::generatedWideText(9, 600);
        const Document doc = Document::fromText(text, kind == "markdown" ? "a.md" : "a.txt");
        auto chunks = chunkDocument(doc, *m_tokenizer, budget);
        QVERIFY2(chunks.has_value(), chunks ? "" : chunks.error().message.c_str());
        QVERIFY(!chunks->empty());
        int64_t lastEnd = 0, lastLine = 1;
        for (size_t i = 0; i < chunks->size(); ++i) {
            const Chunk& c = (*chunks)[i];
            QCOMPARE(c.index, static_cast<int64_t>(i));
            QVERIFY2(test::isStrictUtf8(c.text), c.text.c_str());
            QCOMPARE(c.tokens, static_cast<int64_t>(m_tokenizer->encode(c.text).size()));
            QVERIFY2(c.tokens <= budget,
                     qPrintable(QString("chunk %1 has %2 tokens").arg(i).arg(c.tokens)));
            QVERIFY(!c.text.empty());
            QVERIFY(c.beginByte >= lastEnd && c.endByte > c.beginByte);
            QVERIFY(c.firstLine >= lastLine && c.lastLine >= c.firstLine);
            // The byte range holds exactly this chunk's text (UTF-8 source: bytes = text).
            const std::string slice = text.substr(static_cast<size_t>(c.beginByte),
                                                  static_cast<size_t>(c.endByte - c.beginByte));
            QCOMPARE(withoutSpace(slice), withoutSpace(c.text));
            // The line range starts and ends on lines holding the chunk's first and last bytes.
            QCOMPARE(c.firstLine, 1 + std::count(text.begin(), text.begin() + c.beginByte, '\n'));
            QCOMPARE(c.lastLine, 1 + std::count(text.begin(), text.begin() + c.endByte - 1, '\n'));
            lastEnd = c.endByte;
            lastLine = c.lastLine;
        }
        QCOMPARE(withoutSpace(joinChunks(*chunks)), withoutSpace(text));
    }

    void paragraphsThatFitAreNeverCut() {
        const std::string text = test::generatedPlainText(11, 40, 2);
        std::set<std::string> paragraphs;
        for (size_t at = 0; at < text.size();) {
            const size_t end = text.find("\n\n", at);
            paragraphs.insert(text.substr(at, end - at));
            at = end + 2;
        }
        auto chunks = chunkDocument(Document::fromText(text), *m_tokenizer, 100);
        QVERIFY(chunks.has_value());
        QVERIFY(chunks->size() > 3);
        for (const Chunk& c : *chunks) {
            for (size_t at = 0; at <= c.text.size();) {
                size_t end = c.text.find("\n\n", at);
                if (end == std::string::npos)
                    end = c.text.size();
                QVERIFY2(paragraphs.count(c.text.substr(at, end - at)) == 1, c.text.c_str());
                at = end + 2;
            }
        }
    }

    void sectionsStartChunksOnceAChunkIsHalfFull() {
        const std::string text = test::generatedMarkdown(12, 30);
        const int budget = 200;
        auto chunks = chunkDocument(Document::fromText(text, "a.md"), *m_tokenizer, budget);
        QVERIFY(chunks.has_value());
        for (const Chunk& c : *chunks) {
            // A heading inside a chunk follows less than half a budget of text.
            for (size_t at = c.text.find("\n## "); at != std::string::npos;
                 at = c.text.find("\n## ", at + 1)) {
                const auto before = static_cast<int64_t>(
                    m_tokenizer->encode(std::string_view(c.text).substr(0, at)).size());
                QVERIFY2(before * 2 < budget + 8, c.text.c_str());
            }
        }
    }

    void longParagraphsAreCutAtSentenceEnds() {
        const std::string text = test::generatedPlainText(13, 1, 80);
        auto chunks = chunkDocument(Document::fromText(text), *m_tokenizer, 60);
        QVERIFY(chunks.has_value());
        QVERIFY(chunks->size() > 4);
        for (size_t i = 0; i + 1 < chunks->size(); ++i) {
            const char last = (*chunks)[i].text.back();
            QVERIFY2(last == '.' || last == '!', (*chunks)[i].text.c_str());
        }
    }

    void aLineLongerThanAReadPieceLosesNothing() {
        std::mt19937 rng(19);
        std::string line;
        while (line.size() < 600'000) line += test::generatedSentence(rng) + " ";
        const std::string text = "Title\n\n" + line + "\n";
        auto chunks = chunkDocument(Document::fromText(text), *m_tokenizer, 2000);
        QVERIFY(chunks.has_value());
        QVERIFY(chunks->size() > 50);
        for (const Chunk& c : *chunks) {
            QVERIFY(c.tokens <= 2000);
            QVERIFY(c.firstLine <= 3 && c.lastLine <= 3);
        }
        QCOMPARE(withoutSpace(joinChunks(*chunks)), withoutSpace(text));
        QCOMPARE(chunks->back().endByte, static_cast<int64_t>(text.size() - 2));  // " \n" after
    }

    void sameInputGivesTheSameChunks() {
        const std::string text = test::generatedMarkdown(14, 10) + test::generatedWideText(15, 200);
        auto a = chunkDocument(Document::fromText(text, "a.md"), *m_tokenizer, 40);
        auto b = chunkDocument(Document::fromText(text, "a.md"), *m_tokenizer, 40);
        QVERIFY(a && b);
        QCOMPARE(a->size(), b->size());
        for (size_t i = 0; i < a->size(); ++i) {
            QCOMPARE((*a)[i].text, (*b)[i].text);
            QCOMPARE((*a)[i].beginByte, (*b)[i].beginByte);
            QCOMPARE((*a)[i].endByte, (*b)[i].endByte);
        }
    }

    void streamedFileGivesTheSameChunksAsMemory() {
        test::TempDir dir;
        const std::string text = test::generatedMarkdown(16, 20);
        test::writeFile(dir.path() / "doc.md", text);
        auto inMemory = Document::open(dir.path() / "doc.md");
        DocumentOptions streaming;
        streaming.streamThresholdBytes = 0;
        auto streamed = Document::open(dir.path() / "doc.md", streaming);
        QVERIFY(inMemory && streamed);
        QVERIFY(!inMemory->info().streamed);
        QVERIFY(streamed->info().streamed);
        auto a = chunkDocument(*inMemory, *m_tokenizer, 50);
        auto b = chunkDocument(*streamed, *m_tokenizer, 50);
        QVERIFY(a && b);
        QCOMPARE(a->size(), b->size());
        for (size_t i = 0; i < a->size(); ++i) {
            QCOMPARE((*a)[i].text, (*b)[i].text);
            QCOMPARE((*a)[i].firstLine, (*b)[i].firstLine);
            QCOMPARE((*a)[i].endByte, (*b)[i].endByte);
        }
    }

    void utf16RangesPointAtTheSourceBytes() {
        test::TempDir dir;
        const std::string text =
            test::generatedPlainText(17, 5, 6) + test::generatedWideText(18, 80);
        const QString q = QString::fromStdString(text);
        std::string bytes = "\xFF\xFE";
        for (QChar ch : q) {
            bytes += static_cast<char>(ch.unicode() & 0xFF);
            bytes += static_cast<char>(ch.unicode() >> 8);
        }
        test::writeFile(dir.path() / "doc.txt", bytes);
        auto doc = Document::open(dir.path() / "doc.txt");
        QVERIFY2(doc.has_value(), doc ? "" : doc.error().message.c_str());
        QCOMPARE(doc->info().encoding, TextEncoding::Utf16Le);
        auto chunks = chunkDocument(*doc, *m_tokenizer, 30);
        QVERIFY(chunks.has_value());
        for (const Chunk& c : *chunks) {
            QVERIFY((c.endByte - c.beginByte) % 2 == 0);
            const std::string slice = utf16leToUtf8(std::string_view(bytes).substr(
                static_cast<size_t>(c.beginByte), static_cast<size_t>(c.endByte - c.beginByte)));
            QCOMPARE(withoutSpace(slice), withoutSpace(c.text));
        }
        QCOMPARE(withoutSpace(joinChunks(*chunks)), withoutSpace(text));
    }

private:
    std::unique_ptr<Tokenizer> m_tokenizer;
};

QTEST_APPLESS_MAIN(ChunkerTest)
#include "chunker_test.moc"
