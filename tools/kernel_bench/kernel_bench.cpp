// SPDX-License-Identifier: Apache-2.0
// kernel_bench: the CPU decode products alone, against this machine's streaming read.
//
// `griffin bench` measures whole decode steps; this tool takes them apart, for work on the
// kernels (issue 7). For one weight type it measures, in alternated rounds so that a shared
// machine's drift reaches every measurement alike:
//   - in-cache rate: one thread re-reading a matrix that fits in L2 (the kernel's compute pace);
//   - stream rate: a matrix far larger than the caches, split in halves (or N parts) over the
//     threads, one call each, next to a plain read probe of the same size and threads;
//   - product chain: the same bytes as a chain of products of --product-rows rows through
//     cpu::matmul (its dispatch, activation quantization and row split), against one product.
// Before timing, every configuration's outputs are checked against a double-precision dot
// product of the dequantized weights and activations; a mismatch exits with status 1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/ops.h"
#include "cpu/thread_pool.h"
#include "griffin/bench.h"
#include "griffin/model.h"
#include "io/page_arena.h"
#include "parse_list.h"
#include "quant.h"

namespace {

using namespace griffin;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    WeightType type = WeightType::Q4_0;
    std::vector<int64_t> cols{2560, 7680};
    std::vector<int64_t> productRows{2560};
    int threads = 0;
    int64_t mib = 512;
    int rounds = 9;
    bool json = false;
};

using bench_tools::parseList;

int usage(const char* why) {
    std::fprintf(stderr,
                 "kernel_bench: %s\nusage: kernel_bench [--type q4_0|q8_0|bf16|f16|f32] "
                 "[--cols 2560,7680] [--product-rows 2560] [--threads N] [--mib 512] "
                 "[--rounds 9] [--json]\n",
                 why);
    return 2;
}

struct Quartiles {
    double q1, median, q3;
};
Quartiles quartiles(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return {v[n / 4], v[n / 2], v[(3 * n) / 4]};
}

// A matrix of `rows` rows of `cols` columns in the layout the active kernels read: 64 distinct
// random rows, repeated (the values do not change the speed; the bytes are all read).
struct TestMatrix {
    Matrix view;
    std::vector<float> distinct;  // the 64 rows as the kernels see them, dequantized
};

TestMatrix makeMatrix(io::PageArena& arena, WeightType type, int64_t rows, int64_t cols,
                      std::mt19937& rng) {
    constexpr int64_t kDistinct = 64;
    const size_t rb = rowBytes(type, cols);
    auto* data = reinterpret_cast<unsigned char*>(arena.allocate(rb * static_cast<size_t>(rows)));
    if (data == nullptr) {
        std::fprintf(stderr, "kernel_bench: cannot map %lld bytes\n",
                     static_cast<long long>(rb * rows));
        std::exit(1);
    }
    // The layout the model's loader gives this ISA's kernels (weight_layout.cpp).
    const bool interleave = cpu::readsInterleaved(cpu::activeIsa(), type);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> row(static_cast<size_t>(cols));
    TestMatrix m;
    m.distinct.resize(static_cast<size_t>(kDistinct * cols));
    for (int64_t r = 0; r < kDistinct; ++r) {
        for (float& v : row) v = normal(rng);
        unsigned char* dst = data + static_cast<size_t>(r) * rb;
        quantizeRow(type, row.data(), cols, dst);
        dequantizeRow(type, dst, cols, m.distinct.data() + r * cols);
        if (interleave)
            interleaveRow(type, dst, cols, dst);
    }
    for (int64_t r = kDistinct; r < rows; ++r)
        std::memcpy(data + static_cast<size_t>(r) * rb,
                    data + static_cast<size_t>(r % kDistinct) * rb, rb);
    m.view = Matrix{type, data, rows, cols};
    m.view.interleaved = interleave;
    return m;
}

// y[r] against the double dot product of the dequantized row and activations, for the first
// 64 rows and the last row; the tolerance covers 8-bit activations for the block types.
bool check(const TestMatrix& m, const std::vector<float>& x, const cpu::QuantizedActivations& xq,
           const std::vector<float>& y, const char* what) {
    const int64_t cols = m.view.cols;
    std::vector<float> xs(static_cast<size_t>(cols));
    if (isBlockQuantized(m.view.type))
        cpu::dequantizeActivations(xq, 1, cols, xs.data());
    else
        xs = x;
    double worst = 0.0;
    for (int64_t r : {int64_t{0}, int64_t{1}, int64_t{63}, m.view.rows - 1}) {
        const float* w = m.distinct.data() + (r % 64) * cols;
        double dot = 0.0, scale = 0.0;
        for (int64_t i = 0; i < cols; ++i) {
            dot += static_cast<double>(w[i]) * xs[static_cast<size_t>(i)];
            scale += std::fabs(static_cast<double>(w[i]) * xs[static_cast<size_t>(i)]);
        }
        const double err = std::fabs(dot - y[static_cast<size_t>(r)]) / std::max(scale, 1e-30);
        worst = std::max(worst, err);
        if (!(err < 1e-4)) {
            std::fprintf(stderr,
                         "kernel_bench: %s row %lld: got %.9g, expected %.9g (relative to the sum "
                         "of |terms|: %.3g)\n",
                         what, static_cast<long long>(r), y[static_cast<size_t>(r)], dot, err);
            return false;
        }
    }
    return true;
}

struct ColsResult {
    int64_t cols = 0;
    double inCache = 0;
    Quartiles stream{}, probe{}, ratio{};
    // The probe's best: plain or prefetching loads, whichever read faster (what `griffin
    // bench` takes as the machine's read bandwidth), and the stream's ratio to it.
    Quartiles bestProbe{}, bestRatio{};
    int64_t prefetchAheadBytes = 0;  // the distances of the probe's best prefetching pass
    int64_t prefetchNearBytes = 0;
    // The rounds split at the plain probe's median: a shared machine's bandwidth can switch
    // between a slow and a fast phase, and a kernel that keeps up in one may not in the other.
    // Median plain probe and stream-to-probe ratio of the faster half and of the slower half.
    double fasterProbe = 0, fasterRatio = 0, slowerProbe = 0, slowerRatio = 0;
};
struct ChainResult {
    int64_t cols = 0, rows = 0;
    Quartiles chain{}, one{}, ratio{};
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool hasValue = i + 1 < argc;
        if (a == "--json") {
            o.json = true;
        } else if (a == "--type" && hasValue) {
            const std::string t = argv[++i];
            if (t == "q4_0")
                o.type = WeightType::Q4_0;
            else if (t == "q8_0")
                o.type = WeightType::Q8_0;
            else if (t == "bf16")
                o.type = WeightType::BF16;
            else if (t == "f16")
                o.type = WeightType::F16;
            else if (t == "f32")
                o.type = WeightType::F32;
            else
                return usage(("unknown --type " + t).c_str());
        } else if ((a == "--cols" || a == "--product-rows") && hasValue) {
            auto list = parseList(argv[++i]);
            if (!list)
                return usage((a + " takes positive integers separated by commas").c_str());
            if (a == "--cols") {
                for (int64_t c : *list) {
                    if (c % 32 != 0)
                        return usage("--cols must be multiples of 32");
                }
                o.cols = *list;
            } else {
                o.productRows = *list;
            }
        } else if ((a == "--threads" || a == "--mib" || a == "--rounds") && hasValue) {
            char* end = nullptr;
            const long long v = std::strtoll(argv[++i], &end, 10);
            if (*end != '\0' || v <= 0 || v > (int64_t{1} << 20))
                return usage((a + " takes a positive integer").c_str());
            if (a == "--threads")
                o.threads = static_cast<int>(v);
            else if (a == "--mib")
                o.mib = v;
            else
                o.rounds = static_cast<int>(v);
        } else {
            return usage(("unknown argument " + a).c_str());
        }
    }

    cpu::ThreadPool pool(o.threads);
    const int threads = pool.size();
    const cpu::Isa isa = cpu::activeIsa();
    const int64_t bytes = o.mib << 20;
    std::mt19937 rng(7);
    io::PageArena arena;
    std::vector<ColsResult> colsResults;
    std::vector<ChainResult> chainResults;

    for (int64_t cols : o.cols) {
        const size_t rb = rowBytes(o.type, cols);
        const int64_t rows = std::max<int64_t>(bytes / static_cast<int64_t>(rb), 64 * threads);
        const TestMatrix m = makeMatrix(arena, o.type, rows, cols, rng);
        std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float& v : x) v = normal(rng);
        cpu::QuantizedActivations xq;
        cpu::quantizeActivations(isa, o.type, x.data(), 1, cols, xq);
        // Each thread one contiguous part, one call: the kernel's own streaming.
        auto stream = [&] {
            const auto start = Clock::now();
            pool.parallelFor(threads, 1, [&](int64_t begin, int64_t end) {
                for (int64_t part = begin; part < end; ++part) {
                    const int64_t r0 = rows * part / threads, r1 = rows * (part + 1) / threads;
                    cpu::gemmRows(isa, m.view, r0, r1, x.data(), &xq, 1, y.data() + r0, 1);
                }
            });
            return static_cast<double>(rb) * static_cast<double>(rows) / secondsSince(start);
        };
        stream();
        if (!check(m, x, xq, y, "stream"))
            return 1;
        // In cache: about 384 KB of rows, one thread, many passes.
        ColsResult r;
        r.cols = cols;
        {
            const int64_t few =
                std::clamp<int64_t>((384 << 10) / static_cast<int64_t>(rb), 1, rows);
            cpu::gemmRows(isa, m.view, 0, few, x.data(), &xq, 1, y.data(), 1);
            const int passes = 200;
            const auto start = Clock::now();
            for (int p = 0; p < passes; ++p)
                cpu::gemmRows(isa, m.view, 0, few, x.data(), &xq, 1, y.data(), 1);
            r.inCache =
                static_cast<double>(rb) * static_cast<double>(few) * passes / secondsSince(start);
        }
        std::vector<double> s, p, ratio, bp, bratio;
        for (int round = 0; round < o.rounds; ++round) {
            // The first pass after a probe (whose process-wide buffer has just been unmapped) reads
            // slower, on a 2-core Zen 5 VM by up to a third: an untimed pass comes first.
            stream();
            const double gbps = stream();
            const MachineProbe probe = probeMachine(threads, bytes, 1, true);
            s.push_back(gbps / 1e9);
            p.push_back(probe.plainReadBytesPerSecond / 1e9);
            ratio.push_back(gbps / probe.plainReadBytesPerSecond);
            bp.push_back(probe.readBytesPerSecond / 1e9);
            bratio.push_back(gbps / probe.readBytesPerSecond);
            r.prefetchAheadBytes = probe.prefetchAheadBytes;
            r.prefetchNearBytes = probe.prefetchNearBytes;
        }
        r.stream = quartiles(s);
        r.probe = quartiles(p);
        r.ratio = quartiles(ratio);
        r.bestProbe = quartiles(bp);
        r.bestRatio = quartiles(bratio);
        {
            std::vector<double> fasterProbes, fasterRatios, slowerProbes, slowerRatios;
            for (size_t i = 0; i < p.size(); ++i) {
                const bool faster = p[i] >= r.probe.median;
                (faster ? fasterProbes : slowerProbes).push_back(p[i]);
                (faster ? fasterRatios : slowerRatios).push_back(ratio[i]);
            }
            r.fasterProbe = quartiles(fasterProbes).median;  // never empty: holds the median
            r.fasterRatio = quartiles(fasterRatios).median;
            if (!slowerProbes.empty()) {  // one round, or every probe equal
                r.slowerProbe = quartiles(slowerProbes).median;
                r.slowerRatio = quartiles(slowerRatios).median;
            }
        }
        colsResults.push_back(r);
        if (!o.json) {
            std::printf(
                "%s cols %-6lld in cache (1 thread) %6.1f GB/s | stream (%d threads) %6.1f GB/s, "
                "plain read probe %6.1f GB/s, ratio %.3f (quartiles %.3f-%.3f)\n",
                weightTypeName(o.type), static_cast<long long>(cols), r.inCache / 1e9, threads,
                r.stream.median, r.probe.median, r.ratio.median, r.ratio.q1, r.ratio.q3);
            std::printf(
                "%s cols %-6lld best read probe %6.1f GB/s (prefetching %lld bytes ahead, %lld "
                "into L1), ratio %.3f (quartiles %.3f-%.3f)\n",
                weightTypeName(o.type), static_cast<long long>(cols), r.bestProbe.median,
                static_cast<long long>(r.prefetchAheadBytes),
                static_cast<long long>(r.prefetchNearBytes), r.bestRatio.median, r.bestRatio.q1,
                r.bestRatio.q3);
            std::printf(
                "%s cols %-6lld rounds with the faster half of the plain probes (%.1f "
                "GB/s): ratio %.3f; the slower half (%.1f GB/s): ratio %.3f\n",
                weightTypeName(o.type), static_cast<long long>(cols), r.fasterProbe, r.fasterRatio,
                r.slowerProbe, r.slowerRatio);
            std::fflush(stdout);
        }

        // The same bytes as a chain of products through cpu::matmul, against one product.
        for (int64_t productRows : o.productRows) {
            const int64_t n = rows / productRows;
            if (n < 2)
                continue;
            auto chain = [&](bool one) {
                const auto start = Clock::now();
                if (one) {
                    Matrix all = m.view;
                    all.rows = n * productRows;
                    cpu::matmul(pool, all, x.data(), 1, nullptr, y.data());
                } else {
                    for (int64_t i = 0; i < n; ++i) {
                        Matrix part = m.view;
                        part.data = m.view.row(i * productRows);
                        part.rows = productRows;
                        cpu::matmul(pool, part, x.data(), 1, nullptr, y.data() + i * productRows);
                    }
                }
                return static_cast<double>(rb) * static_cast<double>(n * productRows) /
                       secondsSince(start);
            };
            chain(false);
            if (!check(m, x, xq, y, "product chain"))
                return 1;
            std::vector<double> c, a, cr;
            for (int round = 0; round < o.rounds; ++round) {
                const double gc = chain(false), ga = chain(true);
                c.push_back(gc / 1e9);
                a.push_back(ga / 1e9);
                cr.push_back(gc / ga);
            }
            ChainResult cres{cols, productRows, quartiles(c), quartiles(a), quartiles(cr)};
            chainResults.push_back(cres);
            if (!o.json) {
                std::printf(
                    "%s cols %-6lld products of %lld rows (%.2f MB): %6.1f GB/s, one product "
                    "%6.1f GB/s, ratio %.3f (quartiles %.3f-%.3f)\n",
                    weightTypeName(o.type), static_cast<long long>(cols),
                    static_cast<long long>(productRows),
                    static_cast<double>(rb) * static_cast<double>(productRows) / 1e6,
                    cres.chain.median, cres.one.median, cres.ratio.median, cres.ratio.q1,
                    cres.ratio.q3);
                std::fflush(stdout);
            }
        }
    }
    if (o.json) {
        std::printf("{\"type\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"streams\": [",
                    weightTypeName(o.type), cpu::isaName(isa), threads);
        for (size_t i = 0; i < colsResults.size(); ++i) {
            const ColsResult& r = colsResults[i];
            std::printf(
                "%s{\"cols\": %lld, \"in_cache_gbps\": %.2f, \"stream_gbps\": %.2f, "
                "\"plain_probe_gbps\": %.2f, \"ratio\": %.4f, \"ratio_q1\": %.4f, "
                "\"ratio_q3\": %.4f, \"best_probe_gbps\": %.2f, \"best_ratio\": %.4f, "
                "\"best_ratio_q1\": %.4f, \"best_ratio_q3\": %.4f, \"faster_probes_gbps\": %.2f, "
                "\"ratio_faster_probes\": %.4f, \"slower_probes_gbps\": %.2f, "
                "\"ratio_slower_probes\": %.4f}",
                i ? ", " : "", static_cast<long long>(r.cols), r.inCache / 1e9, r.stream.median,
                r.probe.median, r.ratio.median, r.ratio.q1, r.ratio.q3, r.bestProbe.median,
                r.bestRatio.median, r.bestRatio.q1, r.bestRatio.q3, r.fasterProbe, r.fasterRatio,
                r.slowerProbe, r.slowerRatio);
        }
        std::printf("], \"product_chains\": [");
        for (size_t i = 0; i < chainResults.size(); ++i) {
            const ChainResult& r = chainResults[i];
            std::printf(
                "%s{\"cols\": %lld, \"product_rows\": %lld, \"chain_gbps\": %.2f, "
                "\"one_product_gbps\": %.2f, \"ratio\": %.4f}",
                i ? ", " : "", static_cast<long long>(r.cols), static_cast<long long>(r.rows),
                r.chain.median, r.one.median, r.ratio.median);
        }
        std::printf("]}\n");
    }
    return 0;
}
