// SPDX-License-Identifier: Apache-2.0
// The stream strategy's promise: memory does not grow with the document. A generated document
// of over 100k tokens, read from disk in streaming mode, flows through the demo model; the peak
// resident set (VmHWM) after 100k tokens stays within 10 % of the peak after 10k tokens.
#include <fstream>

#include <QtTest>

#include "generated_documents.h"
#include "griffin/summarize.h"
#include "test_files.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";

struct Memory {
    double rssMb = 0.0;  // VmRSS
    double hwmMb = 0.0;  // VmHWM: peak resident set so far
};

Memory readMemory() {
    std::ifstream status("/proc/self/status");
    Memory m;
    std::string key;
    while (status >> key) {
        double kb = 0.0;
        if (key == "VmRSS:" && status >> kb)
            m.rssMb = kb / 1024.0;
        else if (key == "VmHWM:" && status >> kb)
            m.hwmMb = kb / 1024.0;
        status.ignore(1 << 20, '\n');
    }
    return m;
}

}  // namespace

class SummarizeMemoryTest : public QObject {
    Q_OBJECT

private slots:
    void streamMemoryStaysFlatOver100kTokens() {
#if defined(__SANITIZE_ADDRESS__)
        QSKIP("resident-set sizes mean nothing under AddressSanitizer's shadow memory");
#endif
        auto model = Model::load(kDemo);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        auto tokenizer = Tokenizer::load(kDemo / "tokenizer.model");
        QVERIFY(tokenizer.has_value());

        test::TempDir dir;
        {
            std::ofstream out(dir.path() / "long.txt", std::ios::binary);
            for (uint32_t seed = 0; seed < 13; ++seed)  // about 108k tokens
                out << test::generatedPlainText(seed, 200, 3);
        }
        DocumentOptions streaming;
        streaming.streamThresholdBytes = 0;  // read from disk as it goes, as for >= 50 MB
        auto doc = Document::open(dir.path() / "long.txt", streaming);
        QVERIFY(doc.has_value());
        QVERIFY(doc->info().streamed);

        SummaryOptions options;
        options.strategy = SummaryStrategy::Stream;
        options.maxTokens = 8;
        options.prefillChunk = 512;
        Memory at10k, at100k;
        bool seen10k = false, seen100k = false;
        const Memory before = readMemory();
        QElapsedTimer timer;
        timer.start();
        qint64 ms10k = 0, ms100k = 0;
        auto r = summarize(**model, **tokenizer, *doc, options, {}, [&](const SummaryProgress& p) {
            if (!seen10k && p.tokensDone >= 10'000) {
                seen10k = true;
                at10k = readMemory();
                ms10k = timer.elapsed();
            }
            if (!seen100k && p.tokensDone >= 100'000) {
                seen100k = true;
                at100k = readMemory();
                ms100k = timer.elapsed();
            }
        });
        QVERIFY2(r.has_value(), r ? "" : r.error().message.c_str());
        const Memory after = readMemory();
        QVERIFY(seen10k && seen100k);
        QVERIFY(r->documentTokens >= 100'000);
        qInfo(
            "document: %lld bytes, %lld tokens in %lld chunks; %.1f s in all, 10k->100k "
            "tokens in %.1f s (%.0f tok/s)",
            static_cast<long long>(doc->info().bytes), static_cast<long long>(r->documentTokens),
            static_cast<long long>(r->chunks), static_cast<double>(timer.elapsed()) / 1e3,
            static_cast<double>(ms100k - ms10k) / 1e3,
            90'000.0 / (static_cast<double>(ms100k - ms10k) / 1e3));
        qInfo("before: VmRSS %.1f MB, VmHWM %.1f MB", before.rssMb, before.hwmMb);
        qInfo("after 10k tokens: VmRSS %.1f MB, VmHWM %.1f MB", at10k.rssMb, at10k.hwmMb);
        qInfo("after 100k tokens: VmRSS %.1f MB, VmHWM %.1f MB (peak %+.2f MB, %+.2f %%)",
              at100k.rssMb, at100k.hwmMb, at100k.hwmMb - at10k.hwmMb,
              100.0 * (at100k.hwmMb - at10k.hwmMb) / at10k.hwmMb);
        qInfo("at the end: VmRSS %.1f MB, VmHWM %.1f MB", after.rssMb, after.hwmMb);
        QVERIFY(at100k.hwmMb <= 1.10 * at10k.hwmMb);
        QVERIFY(at100k.rssMb <= 1.10 * at10k.rssMb);
        QVERIFY(after.hwmMb <= 1.10 * at10k.hwmMb);
    }
};

QTEST_APPLESS_MAIN(SummarizeMemoryTest)
#include "summarize_memory_test.moc"
