// SPDX-License-Identifier: Apache-2.0
#include "cpu/thread_pool.h"

#include <algorithm>

namespace griffin::cpu {
namespace {

// About 50-100 microseconds of polling before sleeping.
constexpr int kSpins = 20000;
constexpr int kPartsPerThread = 4;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, 1024);
    for (int i = 1; i < threads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_quit.store(true);
    }
    m_wake.notify_all();
    for (std::thread& t : m_workers) t.join();
}

namespace {

// Where part `index` of `parts` starts. Shrinking parts: part i of P has P - i units of
// P (P + 1) / 2, so the parts claimed last are short, and a thread that runs out of parts waits
// at most about one short part for the others. Measured on a 2-core Zen 5 VM over the 2B model's
// decode products (8 parts, equal and shrinking parts alternating in one process): q4_0 37.0
// -> 40.0 GB/s, better in each of 6 rounds; q8_0 and bf16 1-4% better.
int64_t partBoundary(int64_t n, int64_t index, int64_t parts, bool shrink) {
    if (!shrink)
        return n * index / parts;
    const int64_t units = index * parts - index * (index - 1) / 2;
    return n * units / (parts * (parts + 1) / 2);
}

}  // namespace

void ThreadPool::runShare(int index, int parts) {
    const int64_t begin = partBoundary(m_n, index, parts, m_shrink);
    const int64_t end = partBoundary(m_n, index + 1, parts, m_shrink);
    if (begin < end)
        (*m_fn)(begin, end);
}

void ThreadPool::runClaimed(uint64_t generation, int parts) {
    const uint64_t tag = (generation & 0xFFFFFFFFu) << 32;
    uint64_t claim = m_claim.load(std::memory_order_acquire);
    for (;;) {
        if ((claim & ~uint64_t{0xFFFFFFFFu}) != tag)
            return;  // a newer job: this one is finished
        const int index = static_cast<int>(claim & 0xFFFFFFFFu);
        if (index >= parts)
            return;
        if (!m_claim.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel))
            continue;  // `claim` was reloaded
        runShare(index, parts);
        if (m_completed.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) {
            std::lock_guard lock(m_mutex);
            m_done.notify_one();
        }
        claim = m_claim.load(std::memory_order_acquire);
    }
}

void ThreadPool::workerLoop(int /*index*/) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t job = m_job.load(std::memory_order_acquire);
        for (int spin = 0; (job >> 16) == (seen >> 16) && spin < kSpins; ++spin) {
            if (m_quit.load(std::memory_order_relaxed))
                return;
            relax();
            job = m_job.load(std::memory_order_acquire);
        }
        if ((job >> 16) == (seen >> 16)) {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] {
                return m_quit.load() ||
                       (m_job.load(std::memory_order_acquire) >> 16) != (seen >> 16);
            });
            if (m_quit.load())
                return;
            job = m_job.load(std::memory_order_acquire);
        }
        seen = job;
        runClaimed(job >> 16, static_cast<int>(job & 0xFFFF));
    }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0)
        return;
    const int64_t maxParts = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
    // A few parts per thread, claimed as threads come free: on a shared machine one thread
    // can be held up, and equal halves would make the others wait for it. The parts shrink
    // where the shortest, n / (parts (parts + 1) / 2), is still `grain` long; else they are equal.
    const int parts =
        static_cast<int>(std::min<int64_t>(int64_t{size()} * kPartsPerThread, maxParts));
    const bool shrink = int64_t{parts} * (parts + 1) / 2 <= maxParts;
    if (parts == 1) {
        fn(0, n);
        return;
    }
    m_fn = &fn;
    m_n = n;
    m_shrink = shrink;
    m_completed.store(0, std::memory_order_relaxed);
    uint64_t generation;
    {
        std::lock_guard lock(m_mutex);
        generation = (m_job.load(std::memory_order_relaxed) >> 16) + 1;
        m_claim.store((generation & 0xFFFFFFFFu) << 32, std::memory_order_relaxed);
        m_job.store(generation << 16 | static_cast<uint64_t>(parts), std::memory_order_release);
    }
    m_wake.notify_all();
    runClaimed(generation, parts);
    for (int spin = 0; m_completed.load(std::memory_order_acquire) != parts && spin < kSpins;
         ++spin)
        relax();
    if (m_completed.load(std::memory_order_acquire) != parts) {
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return m_completed.load(std::memory_order_acquire) == parts; });
    }
    m_fn = nullptr;
}

}  // namespace griffin::cpu
