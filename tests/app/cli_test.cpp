// SPDX-License-Identifier: Apache-2.0
// The `griffin` command line as scripts use it: outputs, exit codes, errors on stderr only, and
// nothing half-written at --out.
#include <algorithm>
#include <cmath>

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include "griffin/tokenizer.h"
#include "test_files.h"

using namespace griffin;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out, err;
};

Run runGriffin(const QStringList& args, const QByteArray& input = {},
               const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(GRIFFIN_CLI_PATH, args);
    p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(120000))
        qFatal("griffin did not finish");
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

QString tinyModel(const char* dtype = "f32") {
    return QString::fromStdString(
        (test::tinyPublicDir() / (std::string("model-") + dtype)).string());
}

QString tokenList() {
    const nlohmann::json manifest = test::tinyManifest();
    QStringList items;
    for (int t : manifest.at("cases").at("prefill").at("tokens")) items << QString::number(t);
    return items.join(',');
}

// Parses a float32 .npy (format 1.0) and returns its shape and data.
bool readNpy(const std::string& bytes, QString& shape, std::vector<float>& data) {
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0 || bytes[6] != 1)
        return false;
    const size_t headerLen = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    if ((10 + headerLen) % 64 != 0)
        return false;
    const QString header = QString::fromStdString(bytes.substr(10, headerLen));
    if (!header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False"))
        return false;
    shape = header.section("'shape': (", 1).section(')', 0, 0);
    data.resize((bytes.size() - 10 - headerLen) / 4);
    std::memcpy(data.data(), bytes.data() + 10 + headerLen, data.size() * 4);
    return true;
}

}  // namespace

class CliTest : public QObject {
    Q_OBJECT

private slots:
    void logitsWritesNpyMatchingTheGolden_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("prefill") << "prefill";
        QTest::newRow("step") << "step";
        QTest::newRow("split:25") << "split:25";
        QTest::newRow("split:0") << "split:0";
    }
    void logitsWritesNpyMatchingTheGolden() {
        QFETCH(QString, mode);
        test::TempDir dir;
        const QString out = QString::fromStdString((dir.path() / "logits.npy").string());
        Run r = runGriffin({"logits", "--model", tinyModel(), "--tokens", tokenList(), "--mode",
                            mode, "--out", out});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.isEmpty());
        QString shape;
        std::vector<float> data;
        QVERIFY(readNpy(test::readFile(out.toStdString()), shape, data));
        QCOMPARE(shape, QString("40, 256"));
        const auto golden =
            test::readFloats(test::tinyPublicDir() / "golden-f32" / "prefill_logits.bin");
        QVERIFY(test::maxAbsDiff(data, golden) <= 1e-3);
    }

    void failuresExitNonZeroAndLeaveNoOutput_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("bad mode") << QStringList{"--mode", "sideways"} << "--mode";
        QTest::newRow("split past the end") << QStringList{"--mode", "split:41"} << "split:41";
        QTest::newRow("token out of vocabulary")
            << QStringList{"--tokens", "2,256"} << "outside the vocabulary";
        QTest::newRow("not a token") << QStringList{"--tokens", "2,x"} << "'x'";
        QTest::newRow("missing model") << QStringList{"--model", "/nonexistent"} << "/nonexistent";
        QTest::newRow("unknown option") << QStringList{"--frobnicate", "1"} << "--frobnicate";
    }
    void failuresExitNonZeroAndLeaveNoOutput() {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        test::TempDir dir;
        const auto outPath = dir.path() / "logits.npy";
        test::writeFile(outPath, "previous content");
        QStringList full{"logits",
                         "--model",
                         tinyModel(),
                         "--tokens",
                         "2,3,4",
                         "--out",
                         QString::fromStdString(outPath.string())};
        // Later options replace earlier ones of the same name.
        for (int i = 0; i + 1 < args.size(); i += 2) {
            const int at = full.indexOf(args[i]);
            if (at >= 0) {
                full[at + 1] = args[i + 1];
            } else {
                full << args[i] << args[i + 1];
            }
        }
        Run r = runGriffin(full);
        QVERIFY(r.exitCode != 0);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(QString(r.err).contains(mentions), r.err.constData());
        QCOMPARE(test::readFile(outPath), std::string("previous content"));
        QCOMPARE(std::distance(std::filesystem::directory_iterator(dir.path()),
                               std::filesystem::directory_iterator()),
                 1);  // no temporary file left behind
    }

    void infoJsonReportsParametersAndStateBytes() {
        Run r = runGriffin({"info", "--model", tinyModel("bf16"), "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto info = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(info.at("parameters").at("embedding").get<int64_t>(), 256 * 64);
        QCOMPARE(info.at("weight_type").get<std::string>(), std::string("bf16"));
        QVERIFY(info.at("state_bytes").get<int64_t>() > 0);
        QCOMPARE(info.at("config").at("mlp_width").get<int64_t>(), 192);
    }

    // griffin bench on the conformance model (tiny, so the test is quick): every key the issue
    // names, contexts reached in order, the state size the same at every context.
    void benchJsonHasEveryFigure() {
        // The decode kernels' prefetch distances are reported as set (GRIFFIN_DECODE_PREFETCH,
        // GRIFFIN_DECODE_PREFETCH_NEAR).
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("GRIFFIN_DECODE_PREFETCH", "4160");
        env.insert("GRIFFIN_DECODE_PREFETCH_NEAR", "640");
        Run r = runGriffin(
            {"bench", "--model", tinyModel(), "--type", "q8_0", "--json", "--contexts", "16,300",
             "--prefill", "64", "--decode-tokens", "4", "--probe-mib", "32", "--threads", "2"},
            {}, env);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j.at("decode_prefetch_bytes").get<int64_t>(), int64_t{4160});
        QCOMPARE(j.at("decode_prefetch_near_bytes").get<int64_t>(), int64_t{640});
        // The CPU's wall time per stage: the LM head once per token, and the products that read
        // weights rated in GB/s.
        const auto& profile = j.at("op_profile");
        QVERIFY(profile.at("weight_ops_gbps").get<double>() > 0);
        bool head = false;
        for (const auto& op : profile.at("ops")) {
            QVERIFY(op.at("us_per_token").get<double>() >= 0);
            if (op.at("op").get<std::string>() == "matmul.lm_head") {
                head = true;
                QCOMPARE(op.at("dispatches_per_token").get<double>(), 1.0);
            }
        }
        QVERIFY(head);
        for (const char* key : {"measured_read_gbps", "measured_fma_gflops",
                                "weight_bytes_per_token", "peak_rss_bytes"}) {
            QVERIFY2(j.at(key).get<double>() > 0, key);
        }
        QVERIFY(j.at("weight_types").get<std::string>().find("q8_0") != std::string::npos);
        // Huge pages: the system may give none, but never more than the process ever held.
        const int64_t huge = j.at("anon_huge_page_bytes").get<int64_t>();
        QVERIFY(huge >= -1 && huge <= j.at("peak_rss_bytes").get<int64_t>());
        // The bounds are probed before and after the runs; the headline uses their mean.
        const auto& probes = j.at("probes");
        const double before = probes.at("before").at("read_gbps").get<double>();
        const double after = probes.at("after").at("read_gbps").get<double>();
        QVERIFY(before > 0 && after > 0);
        // Each probe's read figure is the faster of its plain and prefetched passes.
        for (const char* when : {"before", "after"}) {
            const auto& p = probes.at(when);
            const double plain = p.at("read_gbps_plain").get<double>();
            const double prefetched = p.at("read_gbps_prefetch").get<double>();
            QVERIFY(plain > 0 && prefetched > 0);
            QCOMPARE(p.at("read_gbps").get<double>(), std::max(plain, prefetched));
            // The distances of the best prefetched pass: one of the probe's (into L1 only, or
            // 3 KB into L2 with 768 bytes into L1).
            const int64_t ahead = p.at("read_prefetch_ahead_bytes").get<int64_t>();
            const int64_t nearAhead = p.at("read_prefetch_near_bytes").get<int64_t>();
            QVERIFY2(((ahead == 1500 || ahead == 3000 || ahead == 40000) && nearAhead == 0) ||
                         (ahead == 3072 && nearAhead == 768),
                     qPrintable(QString("%1 %2").arg(ahead).arg(nearAhead)));
        }
        QVERIFY(std::abs(j.at("measured_read_gbps").get<double>() - (before + after) / 2) <
                1e-9 * (before + after));
        QCOMPARE(j.at("prefill").size(), size_t{1});
        QCOMPARE(j.at("prefill")[0].at("tokens").get<int64_t>(), int64_t{64});
        QVERIFY(j.at("prefill")[0].at("peak_ratio").get<double>() > 0);
        const auto& decode = j.at("decode");
        QCOMPARE(decode.size(), size_t{2});
        QCOMPARE(decode[1].at("context").get<int64_t>(), int64_t{300});
        QCOMPARE(decode[1].at("how_reached").get<std::string>(), std::string("prefill"));
        QCOMPARE(decode[0].at("state_bytes"), decode[1].at("state_bytes"));
        for (const auto& d : decode) {
            QVERIFY(d.at("tokens_per_s").get<double>() > 0);
            // Each context is rated against read probes taken next to it, and also against the
            // run's mean.
            const double near =
                (d.at("read_gbps_before").get<double>() + d.at("read_gbps_after").get<double>()) /
                2;
            QVERIFY(near > 0);
            const double achieved = d.at("achieved_gbps").get<double>();
            QVERIFY(std::abs(d.at("bandwidth_ratio").get<double>() - achieved / near) <
                    1e-9 * achieved / near);
            QVERIFY(std::abs(d.at("bandwidth_ratio_to_run_probes").get<double>() -
                             achieved / j.at("measured_read_gbps").get<double>()) <
                    1e-6 * d.at("bandwidth_ratio_to_run_probes").get<double>());
            // And step by step against a read pass right after each step: one pair per decode
            // token, the headline of them their median ratio.
            const auto steps = d.at("paired_step_gbps").get<std::vector<double>>();
            const auto reads = d.at("paired_read_gbps").get<std::vector<double>>();
            QCOMPARE(steps.size(), size_t{4});
            QCOMPARE(reads.size(), steps.size());
            std::vector<double> ratios;
            for (size_t i = 0; i < steps.size(); ++i) {
                QVERIFY(steps[i] > 0 && reads[i] > 0);
                ratios.push_back(steps[i] / reads[i]);
            }
            std::sort(ratios.begin(), ratios.end());
            const double median = (ratios[1] + ratios[2]) / 2;
            QVERIFY(std::abs(d.at("paired_bandwidth_ratio").get<double>() - median) <
                    1e-9 * median);
            const auto quartiles = d.at("paired_ratio_quartiles").get<std::vector<double>>();
            QCOMPARE(quartiles.size(), size_t{2});
            QVERIFY(ratios[0] <= quartiles[0] && quartiles[0] <= median);
            QVERIFY(median <= quartiles[1] && quartiles[1] <= ratios[3]);
            // The contexts are timed again in turns; the ratio is to the first context's.
            const double turns = d.at("interleaved_tokens_per_s").get<double>();
            QVERIFY(turns > 0);
            QVERIFY(std::abs(d.at("interleaved_ratio_to_first_context").get<double>() -
                             turns / decode[0].at("interleaved_tokens_per_s").get<double>()) <
                    1e-9 * turns);
            // One step per context per round, at least as many rounds as decode steps and more
            // (up to 64) while they are quick; per round, the first context's step time over
            // this one's, summed up by their median and quartiles.
            const int64_t rounds = d.at("interleaved_rounds").get<int64_t>();
            QVERIFY2(rounds >= 4 && rounds <= 64, qPrintable(QString::number(rounds)));
            auto perRound = d.at("interleaved_round_ratios").get<std::vector<double>>();
            QCOMPARE(static_cast<int64_t>(perRound.size()), rounds);
            std::sort(perRound.begin(), perRound.end());
            QVERIFY(perRound.front() > 0);
            const auto rankAt = [&](double q) {
                const double pos = q * static_cast<double>(perRound.size() - 1);
                const auto lo = static_cast<size_t>(pos);
                const size_t hi = std::min(lo + 1, perRound.size() - 1);
                return perRound[lo] + (perRound[hi] - perRound[lo]) * (pos - std::floor(pos));
            };
            const double roundMedian = d.at("interleaved_ratio_median").get<double>();
            QVERIFY(std::abs(roundMedian - rankAt(0.5)) < 1e-9 * roundMedian);
            const auto roundQuartiles =
                d.at("interleaved_ratio_quartiles").get<std::vector<double>>();
            QCOMPARE(roundQuartiles.size(), size_t{2});
            QVERIFY(std::abs(roundQuartiles[0] - rankAt(0.25)) < 1e-9 * roundMedian);
            QVERIFY(std::abs(roundQuartiles[1] - rankAt(0.75)) < 1e-9 * roundMedian);
        }
        QCOMPARE(decode[0].at("interleaved_ratio_to_first_context").get<double>(), 1.0);
        // The first context against itself: exactly 1 in every round.
        for (double ratio : decode[0].at("interleaved_round_ratios").get<std::vector<double>>())
            QCOMPARE(ratio, 1.0);
        // A synthetic state is said as such.
        Run s = runGriffin({"bench", "--model", tinyModel(), "--json", "--contexts", "5000",
                            "--prefill", "none", "--decode-tokens", "2", "--probe-mib", "16",
                            "--reach", "synthetic"});
        QVERIFY2(s.exitCode == 0, s.err.constData());
        const auto single = nlohmann::json::parse(s.out.toStdString()).at("decode")[0];
        QCOMPARE(single.at("how_reached").get<std::string>(), std::string("synthetic state"));
        QVERIFY(!single.contains("interleaved_tokens_per_s"));  // one context: nothing to compare
        QCOMPARE(single.at("paired_step_gbps").size(), size_t{2});
        // Bad input is an error, not a crash.
        QVERIFY(runGriffin({"bench", "--synthetic", "7b"}).exitCode != 0);
        QVERIFY(runGriffin({"bench", "--model", tinyModel(), "--type", "q3"}).exitCode != 0);
    }

    void generateIsReproducibleAndWritesStats() {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        const QString model = QString::fromStdString((dir.path() / "model").string());
        const QString stats = QString::fromStdString((dir.path() / "stats.json").string());
        const QStringList args{
            "generate",      "--model", model,    "--prompt", "The tower",    "--max-tokens", "12",
            "--temperature", "1.1",     "--seed", "7",        "--stats-json", stats};
        Run a = runGriffin(args), b = runGriffin(args);
        QVERIFY2(a.exitCode == 0, a.err.constData());
        QVERIFY(a.out.size() > 1);
        QCOMPARE(a.out, b.out);
        const auto j = nlohmann::json::parse(test::readFile(stats.toStdString()));
        for (const char* key : {"prompt_tokens", "generated_tokens", "stop_reason", "ttft_ms",
                                "prefill_tokens_per_s", "decode_tokens_per_s"}) {
            QVERIFY2(j.contains(key), key);
        }
        QCOMPARE(j.at("generated_tokens").get<int>(), 12);
        QCOMPARE(j.at("stop_reason").get<std::string>(), std::string("max_tokens"));
        Run other = runGriffin({"generate", "--model", model, "--prompt", "The tower",
                                "--max-tokens", "12", "--temperature", "1.1", "--seed", "8"});
        QVERIFY(other.out != a.out);
    }

    // --json prints one object: the text, every token with its probability under the
    // distribution sampled from and its top alternatives (sorted, summing to at most 1), stats.
    void generateJsonListsAlternatives_data() {
        QTest::addColumn<QStringList>("sampling");
        QTest::newRow("greedy") << QStringList{"--temperature", "0"};
        QTest::newRow("sampled") << QStringList{"--temperature", "0.9", "--top-k", "3",
                                                "--seed",        "11"};
    }
    void generateJsonListsAlternatives() {
        QFETCH(QStringList, sampling);
        const QString demo = QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo");
        Run r = runGriffin(QStringList{"generate", "--model", demo, "--prompt",
                                       "What does 'harbour' mean?", "--chat", "--max-tokens", "8",
                                       "--top-alternatives", "5", "--json"} +
                           sampling);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out.trimmed().count('\n'), 0);  // one object, one line
        const auto j = nlohmann::json::parse(r.out.toStdString());
        const auto& tokens = j.at("tokens");
        QVERIFY(!tokens.empty());
        QCOMPARE(static_cast<int64_t>(tokens.size()),
                 j.at("stats").at("generated_tokens").get<int64_t>() -
                     (j.at("stats").at("stop_reason") == "max_tokens" ? 0 : 1));
        std::string joined;
        for (const auto& t : tokens) {
            joined += t.at("text").get<std::string>();
            const float prob = t.at("prob");
            QVERIFY(prob > 0.0f && prob <= 1.0f);
            const auto& alts = t.at("alternatives");
            QCOMPARE(alts.size(), size_t{5});
            double sum = 0.0;
            bool chosenListed = false;
            for (size_t a = 0; a < alts.size(); ++a) {
                const float p = alts[a].at("prob");
                sum += p;
                if (a > 0)
                    QVERIFY(p <= alts[a - 1].at("prob").get<float>());
                if (alts[a].at("id") == t.at("id")) {
                    chosenListed = true;
                    QCOMPARE(p, prob);
                }
            }
            QVERIFY(sum <= 1.0 + 1e-5);
            QVERIFY(chosenListed);  // greedy takes the first; top-k 3 keeps it within 5
        }
        QCOMPARE(joined, j.at("text").get<std::string>());
        if (sampling.contains("0")) {
            for (const auto& t : tokens) QCOMPARE(t.at("alternatives")[0].at("id"), t.at("id"));
        } else {  // top-k 3: the 4th and 5th alternatives have no probability
            for (const auto& t : tokens) QCOMPARE(t.at("alternatives")[4].at("prob"), 0.0f);
        }
    }

    // perplexity = exp(mean NLL), and the NLL is the sum of log-softmax values read from
    // `griffin logits` for the same ids (BOS prepended), across several forward chunks.
    void perplexityMatchesTheLogits() {
        const QString demo = QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo");
        test::TempDir dir;
        const std::string text =
            "A harbour is a sheltered stretch of water where ships can stay safely. The word "
            "lucid means clear and easy to understand, and a lighthouse is a tower with a "
            "bright light that guides ships at night. To wander is to walk slowly without a "
            "particular purpose, and a meadow is a field of grass and flowers.";
        const auto file = dir.path() / "text.txt";
        test::writeFile(file, text);
        Run r = runGriffin({"perplexity", "--model", demo, "--file",
                            QString::fromStdString(file.string()), "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());

        auto tokenizer = Tokenizer::loadForModel(demo.toStdString());
        QVERIFY(tokenizer.has_value());
        std::vector<int32_t> ids = (*tokenizer)->encode(text);
        ids.insert(ids.begin(), (*tokenizer)->bosId());
        QVERIFY(ids.size() > 70);  // more than one 64-token chunk
        QCOMPARE(j.at("tokens").get<int64_t>(), static_cast<int64_t>(ids.size() - 1));
        QStringList list;
        for (int32_t id : ids) list << QString::number(id);
        const QString npy = QString::fromStdString((dir.path() / "logits.npy").string());
        Run l = runGriffin({"logits", "--model", demo, "--tokens", list.join(','), "--out", npy});
        QVERIFY2(l.exitCode == 0, l.err.constData());
        QFile f(npy);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QString shape;
        std::vector<float> logits;
        QVERIFY(readNpy(f.readAll().toStdString(), shape, logits));
        const size_t vocab = logits.size() / ids.size();
        double nll = 0.0;
        for (size_t t = 0; t + 1 < ids.size(); ++t) {
            const float* row = logits.data() + t * vocab;
            const double m = *std::max_element(row, row + vocab);
            double sum = 0.0;
            for (size_t v = 0; v < vocab; ++v) sum += std::exp(row[v] - m);
            nll -= row[ids[t + 1]] - m - std::log(sum);
        }
        const double got = j.at("nll");
        QVERIFY2(std::abs(got - nll) < 1e-3 * std::max(1.0, nll),
                 qPrintable(QString("%1 vs %2").arg(got).arg(nll)));
        QVERIFY(std::abs(j.at("perplexity").get<double>() -
                         std::exp(got / static_cast<double>(ids.size() - 1))) < 1e-6 * got);

        Run missing = runGriffin({"perplexity", "--model", demo, "--file", "/nonexistent.txt"});
        QVERIFY(missing.exitCode != 0);
        QVERIFY(missing.out.isEmpty());
        QVERIFY2(missing.err.contains("/nonexistent.txt"), missing.err.constData());
    }

    void tokenizeListsIdsAndPieces() {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path());
        Run r = runGriffin({"tokenize", "--model", QString::fromStdString(dir.path().string()),
                            "--text", "the harbour", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QVERIFY(j.size() >= 2);
        std::string joined;
        for (const auto& t : j) joined += t.at("piece").get<std::string>();
        QCOMPARE(joined, std::string("the") + "\xE2\x96\x81" + "harbour");  // U+2581 is the space
    }

    // Without --model the built-in demo model answers (or, if it is not installed, a clear
    // error says how to pass one).
    // "auto" without a GPU runs on the CPU and says why; asking for Vulkan where there is no
    // Vulkan device at all (the driver hidden) is a clear error, not a crash.
    void autoBackendFallsBackToTheCpu_data() {
        QTest::addColumn<QString>("icd");
        QTest::addColumn<QString>("reason");
        QTest::newRow("no Vulkan driver") << "/nonexistent/icd.json"
                                          << "no Vulkan device";
        QTest::newRow("lavapipe only") << "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
                                       << "is a CPU device";
    }
    void autoBackendFallsBackToTheCpu() {
        QFETCH(QString, icd);
        QFETCH(QString, reason);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("VK_DRIVER_FILES", icd);
        env.insert("VK_ICD_FILENAMES", icd);
        Run r =
            runGriffin({"info", "--model", tinyModel(), "--backend", "auto", "--json"}, {}, env);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto info = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(info.at("backend").get<std::string>(), std::string("cpu"));
        QVERIFY2(r.err.contains("--backend auto chose the CPU"), r.err.constData());
        // Without --backend the same choice is made, quietly when it is the CPU.
        Run quiet = runGriffin({"info", "--model", tinyModel(), "--json"}, {}, env);
        QVERIFY2(quiet.exitCode == 0, quiet.err.constData());
        QCOMPARE(nlohmann::json::parse(quiet.out.toStdString()).at("backend").get<std::string>(),
                 std::string("cpu"));
        QVERIFY2(quiet.err.isEmpty(), quiet.err.constData());
        if (icd.startsWith("/usr") && !QFile::exists(icd))
            return;  // no lavapipe here: the first row covered the fallback
        QVERIFY2(r.err.contains(reason.toUtf8()), r.err.constData());
        if (icd.startsWith("/usr")) {
            // --device alone asks for Vulkan on that device, even a CPU-type one.
            Run onDevice =
                runGriffin({"info", "--model", tinyModel(), "--device", "0", "--json"}, {}, env);
            QVERIFY2(onDevice.exitCode == 0, onDevice.err.constData());
            QCOMPARE(
                nlohmann::json::parse(onDevice.out.toStdString()).at("backend").get<std::string>(),
                std::string("vulkan"));
        }
        if (icd.startsWith("/nonexistent")) {
            r = runGriffin({"info", "--model", tinyModel(), "--backend", "vulkan"}, {}, env);
            QVERIFY(r.exitCode != 0);
            QVERIFY2(r.err.contains("Vulkan"), r.err.constData());
            QVERIFY(r.out.isEmpty());
        }
    }

    void generateWithoutAModelUsesTheDemo() {
        Run r = runGriffin({"generate", "--chat", "--prompt", "What does 'lucid' mean?",
                            "--temperature", "0", "--max-tokens", "16"});
        if (QFile::exists(QStringLiteral(GRIFFIN_RESOURCES_DIR "/models/demo/config.json"))) {
            QVERIFY2(r.exitCode == 0, r.err.constData());
            QVERIFY(r.out.trimmed().size() > 0);
        } else {
            QVERIFY(r.exitCode != 0);
            QVERIFY2(r.err.contains("--model"), r.err.constData());
        }
    }

    void chatSavesAndLoadsAConversation() {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        const QString model = QString::fromStdString((dir.path() / "model").string());
        const QString saved = QString::fromStdString((dir.path() / "talk.json").string());
        Run first = runGriffin({"chat", "--model", model, "--max-tokens", "5", "--seed", "1"},
                               "hello there\n/stats\n/save " + saved.toUtf8() + "\n/quit\n");
        QVERIFY2(first.exitCode == 0, first.err.constData());
        QVERIFY2(first.err.contains("position:"), first.err.constData());
        QVERIFY(QFile::exists(saved) && QFile::exists(saved + ".state"));
        const auto transcript = nlohmann::json::parse(test::readFile(saved.toStdString()));
        QCOMPARE(transcript.at("messages").size(), size_t{2});

        // Ends at EOF without /quit; the loaded conversation continues.
        Run second = runGriffin({"chat", "--model", model, "--max-tokens", "5"},
                                "/load " + saved.toUtf8() + "\nand more\n/stats\n");
        QVERIFY2(second.exitCode == 0, second.err.constData());
        QVERIFY2(second.err.contains("(loaded 1 turns)"), second.err.constData());
        QVERIFY2(second.err.contains("turns: 4"), second.err.constData());

        // A damaged snapshot is reported and the session goes on.
        std::string state = test::readFile((saved + ".state").toStdString());
        state[state.size() / 2] ^= 1;
        test::writeFile((saved + ".state").toStdString(), state);
        Run third = runGriffin({"chat", "--model", model, "--max-tokens", "3"},
                               "/load " + saved.toUtf8() + "\n/stats\n");
        QCOMPARE(third.exitCode, 0);
        QVERIFY2(third.err.contains("checksum"), third.err.constData());
        QVERIFY2(third.err.contains("turns: 0"), third.err.constData());
    }

    void quantizeWritesAGgufThatInfoAndGenerateRead() {
        test::TempDir dir;
        test::makeTinyChatModel(dir.path() / "model");
        const QString out = QString::fromStdString((dir.path() / "tiny.gguf").string());
        Run q = runGriffin({"quantize", "--model",
                            QString::fromStdString((dir.path() / "model").string()), "--type",
                            "q8_0", "--out", out});
        QVERIFY2(q.exitCode == 0, q.err.constData());
        QVERIFY(q.out.isEmpty());
        QVERIFY2(q.err.contains("quantize: wrote"), q.err.constData());
        QVERIFY2(q.err.contains("100%"), q.err.constData());

        Run info = runGriffin({"info", "--model", out, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        const auto j = nlohmann::json::parse(info.out.toStdString());
        QCOMPARE(j.at("path").get<std::string>(), out.toStdString());
        QVERIFY(j.at("weight_type").get<std::string>().find("q8_0") != std::string::npos);
        QCOMPARE(j.at("config").at("mlp_width").get<int64_t>(), 192);

        // The tokenizer travels inside the file.
        Run gen = runGriffin({"generate", "--model", out, "--prompt", "The tower", "--max-tokens",
                              "4", "--seed", "1"});
        QVERIFY2(gen.exitCode == 0, gen.err.constData());
        QVERIFY(!gen.out.isEmpty());
    }

    void failedQuantizeLeavesNoFile_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        // The conformance folder has no tokenizer.model, which a GGUF must embed.
        QTest::newRow("no tokenizer")
            << QStringList{"--model", tinyModel(), "--type", "q8_0"} << "tokenizer.model";
        QTest::newRow("bad type") << QStringList{"--model", tinyModel(), "--type", "q5_1"}
                                  << "--type";
        QTest::newRow("missing model")
            << QStringList{"--model", "/nonexistent", "--type", "q8_0"} << "/nonexistent";
    }
    void failedQuantizeLeavesNoFile() {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        test::TempDir dir;
        const QString out = QString::fromStdString((dir.path() / "out.gguf").string());
        Run r = runGriffin(QStringList{"quantize", "--out", out} + args);
        QVERIFY(r.exitCode != 0);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(QString(r.err).contains(mentions), r.err.constData());
        QCOMPARE(std::distance(std::filesystem::directory_iterator(dir.path()),
                               std::filesystem::directory_iterator()),
                 0);
    }

    void versionPrintsTheProjectVersion_data() {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QString>("name");
        QTest::newRow("griffin") << QStringLiteral(GRIFFIN_CLI_PATH) << QStringLiteral("griffin");
#ifdef GRIFFIN_CHAT_PATH
        QTest::newRow("griffin-chat")
            << QStringLiteral(GRIFFIN_CHAT_PATH) << QStringLiteral("griffin-chat");
#endif
    }
    void versionPrintsTheProjectVersion() {
        QFETCH(QString, program);
        QFETCH(QString, name);
        // Without a display: griffin-chat must answer before it connects to one.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* var : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) env.remove(var);
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(program, {"--version"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        // "griffin 0.1.0 (b57a276f8220)"; the commit may end in "-dirty" or be "unknown".
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        const QRegularExpression line(
            QStringLiteral("^%1 %2 \\([^()\\s]+\\)\n$")
                .arg(QRegularExpression::escape(name),
                     QRegularExpression::escape(GRIFFIN_PROJECT_VERSION)));
        QVERIFY2(line.match(out).hasMatch(), qPrintable(out));
    }
};

QTEST_MAIN(CliTest)
#include "cli_test.moc"
