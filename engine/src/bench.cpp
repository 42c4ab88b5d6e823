// SPDX-License-Identifier: Apache-2.0
#include "griffin/bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <vector>

#include "cpu/decode_tuner.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "io/page_arena.h"

namespace griffin {
namespace {

using Clock = std::chrono::steady_clock;

// How far the prefetching read passes prefetch; the probe keeps the best. 40 KB was the best of
// 4, 20 and 40 KB on a 2-core Zen 5 VM; on a 2-core Intel VM with AVX-512 and AMX (2026-12)
// 1.5 KB read 36.3 GB/s where plain loads read 31.2 and 40 KB 27.7, so a probe with only the
// long distance rated the decode kernels against 86% of what the machine reads. Not multiples
// of 4 KiB, which measured slower in the decode kernels.
// The last kind also prefetches into L1 768 bytes ahead besides 3 KB into L2, as the decode
// kernels do on Intel: on a 2-core Intel Xeon VM (2026-12) that read 34.1 GB/s where 1.5 KB
// into L1 alone read 33.1 (medians of 9 passes), so the bound counts it too.
struct ProbeDistance {
    int64_t ahead, nearAhead;
};
constexpr ProbeDistance kProbeDistances[] = {{1500, 0}, {3000, 0}, {40000, 0}, {3072, 768}};

double readShare(cpu::Isa isa, const float* p, int64_t n, ProbeDistance d) {
    switch (isa) {
#if defined(GRIFFIN_X86_KERNELS)
        case cpu::Isa::Avx512:
        case cpu::Isa::Avx512Vnni:
            return cpu::abi::readSumAvx512(p, n, d.ahead, d.nearAhead);
        case cpu::Isa::Avx2:
            return cpu::abi::readSumAvx2(p, n, d.ahead, d.nearAhead);
#endif
        default: {
            (void)d;
            float acc[8] = {};
            for (int64_t i = 0; i + 8 <= n; i += 8) {
                for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
            }
            double s = 0;
            for (float v : acc) s += v;
            return s;
        }
    }
}

// Flops of one fmaLoop iteration (10 chains of one vector FMA).
double fmaShare(cpu::Isa isa, int64_t iterations, double* flops) {
    switch (isa) {
#if defined(GRIFFIN_X86_KERNELS)
        case cpu::Isa::Avx512:
        case cpu::Isa::Avx512Vnni:
            *flops = static_cast<double>(iterations) * 10 * 16 * 2;
            return cpu::abi::fmaLoopAvx512(iterations);
        case cpu::Isa::Avx2:
            *flops = static_cast<double>(iterations) * 10 * 8 * 2;
            return cpu::abi::fmaLoopAvx2(iterations);
#endif
        default: {
            float a[8] = {1, 1, 1, 1, 1, 1, 1, 1};
            for (int64_t i = 0; i < iterations; ++i) {
                for (float& v : a) v = v * 0.999999f + 1e-7f;
            }
            *flops = static_cast<double>(iterations) * 8 * 2;
            double s = 0;
            for (float v : a) s += v;
            return s;
        }
    }
}

}  // namespace

std::string cpuKernelIsa() {
    return cpu::isaName(cpu::activeIsa());
}

Result<int64_t> settleDecodeTuning(Model& model, int32_t token) {
    State state = model.newState();
    int64_t steps = 0;
    for (; steps < 64; ++steps) {
        const int64_t rounds = model.backendCounters().decodePrefetchTuningRounds;
        if (rounds < 0 || rounds >= cpu::DecodeTuner::kFirstRounds)
            break;
        auto logits = model.step(state, token);
        if (!logits)
            return logits.error();
        const auto vocab = std::min<size_t>(logits->size(), model.info().config.vocabSize);
        token = static_cast<int32_t>(
            std::max_element(logits->begin(), logits->begin() + static_cast<ptrdiff_t>(vocab)) -
            logits->begin());
    }
    return steps;
}

struct ReadPasses::Impl {
    explicit Impl(int threads) : pool(threads) {}
    cpu::ThreadPool pool;
    cpu::Isa isa = cpu::activeIsa();
    int64_t n = 0;  // floats
    // In the same kind of memory as the weights (io::MemoryArchive): huge pages where given.
    io::PageArena arena;
    std::unique_ptr<float, decltype(&std::free)> fallback{nullptr, &std::free};
    float* data = nullptr;
    std::atomic<double> sink{0.0};  // keeps the reads from being optimised away
};

ReadPasses::ReadPasses(int threads, int64_t bufferBytes) : m_impl(std::make_unique<Impl>(threads)) {
    Impl& m = *m_impl;
    m.n = std::max<int64_t>(bufferBytes / 4 / 1024, 1) * 1024;
    m.data = reinterpret_cast<float*>(m.arena.allocate(static_cast<size_t>(m.n) * 4));
    if (m.data == nullptr) {
        m.data = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(m.n) * 4));
        m.fallback.reset(m.data);
    }
    if (m.data == nullptr)
        throw std::bad_alloc();
    // First touch on the threads that read it (NUMA placement), with non-zero data.
    float* raw = m.data;
    m.pool.parallelFor(m.n / 1024, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin * 1024; i < end * 1024; ++i)
            raw[i] = 1.0f / static_cast<float>(i % 97 + 1);
    });
}

ReadPasses::~ReadPasses() = default;

int ReadPasses::threads() const {
    return m_impl->pool.size();
}

int64_t ReadPasses::bytes() const {
    return m_impl->n * 4;
}

double ReadPasses::pass(int64_t aheadBytes, int64_t nearBytes) {
    Impl& m = *m_impl;
    const ProbeDistance ahead{aheadBytes, aheadBytes != 0 ? nearBytes : 0};
    const auto start = Clock::now();
    m.pool.parallelFor(m.n / 1024, 1, [&](int64_t begin, int64_t end) {
        m.sink.fetch_add(readShare(m.isa, m.data + begin * 1024, (end - begin) * 1024, ahead),
                         std::memory_order_relaxed);
    });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return static_cast<double>(bytes()) / seconds;
}

MachineProbe probeMachine(int threads, int64_t bufferBytes, int repeats, bool readOnly) {
    MachineProbe probe;
    {
        ReadPasses reads(threads, bufferBytes);
        probe.threads = reads.threads();
        probe.probeBytes = reads.bytes();
        // Plain passes and those of each prefetch distance take turns; each kind keeps its best.
        constexpr int kKinds = 1 + static_cast<int>(std::size(kProbeDistances));
        double best[kKinds] = {};
        for (int r = 0; r < kKinds * repeats; ++r) {
            const int kind = r % kKinds;
            const ProbeDistance ahead = kind == 0 ? ProbeDistance{0, 0} : kProbeDistances[kind - 1];
            best[kind] = std::max(best[kind], reads.pass(ahead.ahead, ahead.nearAhead));
        }
        probe.plainReadBytesPerSecond = best[0];
        for (int kind = 1; kind < kKinds; ++kind) {
            if (best[kind] > probe.prefetchReadBytesPerSecond) {
                probe.prefetchReadBytesPerSecond = best[kind];
                probe.prefetchAheadBytes = kProbeDistances[kind - 1].ahead;
                probe.prefetchNearBytes = kProbeDistances[kind - 1].nearAhead;
            }
        }
    }
    const cpu::Isa isa = cpu::activeIsa();
    probe.isa = cpu::isaName(isa);
    probe.readBytesPerSecond =
        std::max(probe.plainReadBytesPerSecond, probe.prefetchReadBytesPerSecond);
    if (readOnly)
        return probe;

    cpu::ThreadPool pool(threads);
    std::atomic<double> sink{0.0};
    // FMA: each share runs the same iteration count; flops over the wall time of the slowest.
    const int64_t iterations = 20'000'000;
    double bestFlops = 0.0;
    for (int r = 0; r < 3; ++r) {
        std::vector<double> flops(static_cast<size_t>(pool.size()), 0.0);
        const auto start = Clock::now();
        pool.parallelFor(pool.size(), 1, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                sink.fetch_add(fmaShare(isa, iterations, &flops[static_cast<size_t>(i)]),
                               std::memory_order_relaxed);
            }
        });
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        double total = 0;
        for (double f : flops) total += f;
        bestFlops = std::max(bestFlops, total / seconds);
    }
    probe.fmaFlopsPerSecond = bestFlops;
    volatile double keep = sink.load();
    (void)keep;
    return probe;
}

}  // namespace griffin
