// SPDX-License-Identifier: Apache-2.0
// attention_bench: one decode step's local attention (cpu::localAttention) at the 2B model's
// shapes (10 query heads, 1 key head of 256, window 2048), for work on the attention kernels
// (issue 7).
//
// In a decode step the weights streamed between two attention layers (about 60 MB for the 2B
// model in q4_0) evict the ring, so its keys and values come from memory. For each number of
// visible keys this tool times, in alternated rounds:
//   - cold: each of 8 layers' rings after a read of --evict-mib of other memory;
//   - warm: the same layer again straight after (the ring in the caches: the compute pace);
//   - read: a plain read of as many bytes as the ring holds, cold, with the same threads
//     (what the memory allows for those bytes).
// Before timing it checks the output against a double-precision softmax attention.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "io/page_arena.h"
#include "parse_list.h"

namespace {

using namespace griffin;
using Clock = std::chrono::steady_clock;

constexpr int64_t kHeads = 10, kKvHeads = 1, kHeadDim = 256, kWindow = 2048, kLayers = 8;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A float buffer, in transparent huge pages (io::PageArena) or in the heap's pages.
struct Buffer {
    float* p = nullptr;
    std::vector<float> heap;
    void make(io::PageArena* arena, size_t n) {
        if (arena != nullptr) {
            p = reinterpret_cast<float*>(arena->allocate(n * sizeof(float)));
            if (p == nullptr) {
                std::fprintf(stderr, "attention_bench: cannot map %zu bytes\n", n * 4);
                std::exit(1);
            }
        } else {
            heap.assign(n, 0.0f);
            p = heap.data();
        }
    }
};

struct Layer {
    Buffer keys, values;
    std::vector<int64_t> positions;
};

// Reads every 64-byte line of [p, p + n) over the pool (a cold streaming read); returns a value
// that depends on them all, so that the loads stay.
float readAll(cpu::ThreadPool& pool, const float* p, int64_t n) {
    std::atomic<uint32_t> bits{0};
    pool.parallelFor(n / 16, 4096, [&](int64_t b, int64_t e) {
        float s = 0.0f;
        for (int64_t i = b; i < e; ++i) s += p[i * 16];
        uint32_t u = 0;
        std::memcpy(&u, &s, sizeof u);
        bits.fetch_xor(u, std::memory_order_relaxed);
    });
    return static_cast<float>(bits.load() & 0xFF);
}

// The reference: softmax(q k / sqrt(d)) v per head over the ring's visible slots and the
// token's own key, in double.
double check(const Layer& l, const float* q, const float* k, const float* v, int64_t pos,
             const float* out) {
    double worst = 0.0;
    for (int64_t h = 0; h < kHeads; ++h) {
        std::vector<double> s;
        std::vector<const float*> vs;
        auto add = [&](const float* key, const float* val) {
            double d = 0.0;
            for (int64_t i = 0; i < kHeadDim; ++i)
                d += static_cast<double>(q[h * kHeadDim + i]) * key[i];
            s.push_back(d / std::sqrt(static_cast<double>(kHeadDim)));
            vs.push_back(val);
        };
        for (int64_t slot = 0; slot < kWindow; ++slot) {
            const int64_t p = l.positions[static_cast<size_t>(slot)];
            if (p >= 0 && p >= pos - kWindow)
                add(l.keys.p + slot * kHeadDim, l.values.p + slot * kHeadDim);
        }
        add(k, v);
        const double m = *std::max_element(s.begin(), s.end());
        double total = 0.0;
        for (double& x : s) total += (x = std::exp(x - m));
        for (int64_t i = 0; i < kHeadDim; ++i) {
            double o = 0.0;
            for (size_t j = 0; j < s.size(); ++j) o += s[j] * vs[j][i];
            worst = std::max(worst, std::fabs(o / total - out[h * kHeadDim + i]));
        }
    }
    return worst;
}

int usage(const char* why) {
    std::fprintf(stderr,
                 "attention_bench: %s\nusage: attention_bench [--keys 1024,2048] [--threads N] "
                 "[--evict-mib 64] [--rounds 15] [--huge]\n",
                 why);
    return 2;
}

using bench_tools::parseList;

}  // namespace

int main(int argc, char** argv) {
    std::vector<int64_t> keyCounts{1024, 2048};
    int threads = 0;
    int64_t evictMib = 64;
    int rounds = 15;
    bool huge = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--huge") {
            huge = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage(("missing value after " + a).c_str());
        const std::string value = argv[++i];
        if (a == "--keys") {
            auto list = parseList(value);
            if (!list)
                return usage("--keys takes positive numbers separated by commas");
            for (int64_t n : *list) {
                if (n > kWindow)
                    return usage("--keys: at most the window, 2048");
            }
            keyCounts = *list;
        } else if (a == "--threads") {
            threads = std::atoi(value.c_str());
        } else if (a == "--evict-mib") {
            evictMib = std::max(1, std::atoi(value.c_str()));
        } else if (a == "--rounds") {
            rounds = std::max(1, std::atoi(value.c_str()));
        } else {
            return usage(("unknown argument " + a).c_str());
        }
    }
    cpu::ThreadPool pool(threads);
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto fill = [&](std::vector<float>& v, size_t n) {
        v.resize(n);
        for (float& x : v) x = normal(rng);
    };
    io::PageArena arena;
    auto fillBuffer = [&](Buffer& b, size_t n) {
        b.make(huge ? &arena : nullptr, n);
        for (size_t i = 0; i < n; ++i) b.p[i] = normal(rng);
    };
    const cpu::AttentionShape shape{kHeads, kKvHeads, kHeadDim, kWindow};
    const size_t ringFloats = static_cast<size_t>(kWindow * kKvHeads * kHeadDim);
    std::vector<Layer> layers(kLayers);
    for (Layer& l : layers) {
        fillBuffer(l.keys, ringFloats);
        fillBuffer(l.values, ringFloats);
        l.positions.assign(kWindow, -1);
    }
    std::vector<float> q, k, v, out(static_cast<size_t>(kHeads * kHeadDim));
    fill(q, static_cast<size_t>(kHeads * kHeadDim));
    fill(k, static_cast<size_t>(kKvHeads * kHeadDim));
    fill(v, static_cast<size_t>(kKvHeads * kHeadDim));
    std::vector<float> evict(static_cast<size_t>(evictMib) << 18);
    for (size_t i = 0; i < evict.size(); i += 1024) evict[i] = static_cast<float>(i & 7);
    Buffer probe;
    probe.make(huge ? &arena : nullptr, 2 * ringFloats * kLayers);
    for (size_t i = 0; i < 2 * ringFloats * kLayers; i += 1024) probe.p[i] = 1.0f;
    float sink = 0.0f;

    std::printf(
        "attention_bench: %d threads, %s kernels, %lld heads x %lld, window %lld, "
        "%lld layers, %lld MiB read between layers, rings in %s pages\n",
        pool.size(), cpu::isaName(cpu::activeIsa()), static_cast<long long>(kHeads),
        static_cast<long long>(kHeadDim), static_cast<long long>(kWindow),
        static_cast<long long>(kLayers), static_cast<long long>(evictMib), huge ? "huge" : "heap");
    for (const int64_t keys : keyCounts) {
        // The ring after `keys` tokens: positions 0 .. keys - 1 in slots p % window.
        for (Layer& l : layers) {
            std::fill(l.positions.begin(), l.positions.end(), -1);
            for (int64_t p = 0; p < keys; ++p) l.positions[static_cast<size_t>(p % kWindow)] = p;
        }
        auto attend = [&](const Layer& l) {
            const cpu::AttentionRing ring{l.keys.p, l.values.p, l.positions.data()};
            cpu::localAttention(pool, shape, ring, keys, q.data(), k.data(), v.data(), 1,
                                out.data());
        };
        attend(layers[0]);
        const double err = check(layers[0], q.data(), k.data(), v.data(), keys, out.data());
        if (!(err < 1e-4)) {
            std::fprintf(stderr, "attention_bench: %lld keys: max |error| %.3g\n",
                         static_cast<long long>(keys), err);
            return 1;
        }
        const double ringBytes = 2.0 * static_cast<double>(keys * kKvHeads * kHeadDim) * 4.0;
        std::vector<double> cold, warm, read;
        for (int round = 0; round < rounds; ++round) {
            double c = 0.0, w = 0.0, r = 0.0;
            for (int64_t li = 0; li < kLayers; ++li) {
                const Layer& l = layers[static_cast<size_t>(li)];
                sink += readAll(pool, evict.data(), static_cast<int64_t>(evict.size()));
                auto start = Clock::now();
                attend(l);
                c += secondsSince(start);
                start = Clock::now();
                attend(l);
                w += secondsSince(start);
                sink += readAll(pool, evict.data(), static_cast<int64_t>(evict.size()));
                // The same number of bytes as the ring's visible part, cold.
                const float* p = probe.p + static_cast<size_t>(li) * 2 * ringFloats;
                start = Clock::now();
                sink += readAll(pool, p, static_cast<int64_t>(ringBytes / 4));
                r += secondsSince(start);
            }
            cold.push_back(c / kLayers);
            warm.push_back(w / kLayers);
            read.push_back(r / kLayers);
        }
        const double mc = median(cold), mw = median(warm), mr = median(read);
        std::printf(
            "%5lld keys: cold %7.1f us a layer (%5.1f GB/s of keys and values), warm "
            "%7.1f us, cold read of the same bytes %7.1f us (%5.1f GB/s); max |error| "
            "%.2g\n",
            static_cast<long long>(keys), mc * 1e6, ringBytes / mc / 1e9, mw * 1e6, mr * 1e6,
            ringBytes / mr / 1e9, err);
    }
    return sink == 12345.0f ? 3 : 0;
}
