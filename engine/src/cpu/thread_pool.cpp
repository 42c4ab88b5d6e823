// SPDX-License-Identifier: Apache-2.0
#include "cpu/thread_pool.h"

#include <algorithm>

namespace griffin::cpu {
namespace {

// About 50-100 microseconds of polling before sleeping.
constexpr int kSpins = 20000;
// A share is claimed a quarter of what is left at a time (down to the grain): few calls while
// much is left, and small ones at the end, where a thread that ran out waits for the others.
constexpr uint64_t kClaimDivisor = 4;
constexpr int64_t kSliceUnits = int64_t{1} << 31;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

inline uint64_t pack(uint64_t next, uint64_t end) {
    return next << 32 | end;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, 1024);
    m_shares = std::make_unique<Share[]>(static_cast<size_t>(threads));
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

bool ThreadPool::claim(int self, uint64_t job, uint64_t& begin, uint64_t& end) {
    std::atomic<uint64_t>& own = m_shares[static_cast<size_t>(self)].bounds;
    const uint64_t grain = static_cast<uint64_t>(m_grain.load(std::memory_order_relaxed));
    for (;;) {
        // The front of its own share: a quarter of what is left (see kClaimDivisor).
        uint64_t mine = own.load(std::memory_order_acquire);
        for (;;) {
            const uint64_t next = mine >> 32, last = mine & 0xFFFFFFFFu;
            if (next >= last)
                break;
            uint64_t take = std::max(grain, (last - next) / kClaimDivisor);
            if (last - next < take + grain)
                take = last - next;  // no remainder under a grain
            if (own.compare_exchange_weak(mine, pack(next + take, last),
                                          std::memory_order_acq_rel)) {
                begin = next;
                end = next + take;
                return true;
            }
        }
        // Empty (`mine`): the back half of the share with the most left (all of it when that
        // is under two grains, so that both halves are a grain or more), taken with one
        // exchange.
        int victim = -1;
        uint64_t most = 0, seen = 0;
        for (int i = 0; i < size(); ++i) {
            if (i == self)
                continue;
            const uint64_t v =
                m_shares[static_cast<size_t>(i)].bounds.load(std::memory_order_acquire);
            const uint64_t next = v >> 32, last = v & 0xFFFFFFFFu;
            if (next < last && last - next > most) {
                victim = i;
                most = last - next;
                seen = v;
            }
        }
        if (victim < 0)
            return false;
        const uint64_t next = seen >> 32, last = seen & 0xFFFFFFFFu;
        const uint64_t take = last - next <= 2 * grain ? last - next : (last - next) / 2;
        if (!m_shares[static_cast<size_t>(victim)].bounds.compare_exchange_strong(
                seen, pack(next, last - take), std::memory_order_acq_rel))
            continue;  // it moved: look again
        // The stolen units become its own share, so that others can steal from it in turn: only
        // this thread makes its empty share non-empty, but for the caller posting a new job.
        // A thread still looking for work of the last job may have stolen from the new one
        // (m_posted has moved on: it is set before the shares), and its own share may be about
        // to be refilled: it runs what it stole at once instead.
        if (m_posted.load(std::memory_order_acquire) == job &&
            own.compare_exchange_strong(mine, pack(last - take, last), std::memory_order_acq_rel))
            continue;
        begin = last - take;
        end = last;
        return true;
    }
}

void ThreadPool::runJob(int self, uint64_t job) {
    uint64_t begin = 0, end = 0;
    int64_t units = 0, n = 0;
    while (claim(self, job, begin, end)) {
        // Read after the claim, while the job cannot end: its own fields.
        const int64_t offset = m_offset;
        n = m_n;
        (*m_fn)(offset + static_cast<int64_t>(begin), offset + static_cast<int64_t>(end));
        units += static_cast<int64_t>(end - begin);
    }
    // Counted once, when nothing is left to claim: a shared counter touched after every range
    // would move its cache line between the cores each time.
    if (units > 0 && m_finished.fetch_add(units, std::memory_order_acq_rel) + units == n) {
        std::lock_guard lock(m_mutex);
        m_done.notify_one();
    }
}

void ThreadPool::workerLoop(int index) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t generation = m_generation.load(std::memory_order_acquire);
        for (int spin = 0; generation == seen && spin < kSpins; ++spin) {
            if (m_quit.load(std::memory_order_relaxed))
                return;
            relax();
            generation = m_generation.load(std::memory_order_acquire);
        }
        if (generation == seen) {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] {
                return m_quit.load() || m_generation.load(std::memory_order_acquire) != seen;
            });
            if (m_quit.load())
                return;
            generation = m_generation.load(std::memory_order_acquire);
        }
        seen = generation;
        runJob(index, generation);
    }
}

void ThreadPool::runSlice(int64_t offset, int64_t n, int64_t grain,
                          const std::function<void(int64_t, int64_t)>& fn) {
    // Every unit of the previous job is finished, so no thread is inside fn or holds a claim:
    // the job's fields can change before the shares publish it.
    m_fn = &fn;
    m_offset = offset;
    m_n = n;
    m_grain.store(grain, std::memory_order_relaxed);
    m_finished.store(0, std::memory_order_relaxed);
    const uint64_t job = m_generation.load(std::memory_order_relaxed) + 1;
    m_posted.store(job, std::memory_order_seq_cst);
    // Shares of a grain or more: as many as there are threads, or fewer (the others empty).
    const int threads = size();
    const int64_t shares = std::min<int64_t>(threads, n / grain);
    for (int i = 0; i < threads; ++i) {
        const uint64_t begin = static_cast<uint64_t>(n * std::min<int64_t>(i, shares) / shares);
        const uint64_t end = static_cast<uint64_t>(n * std::min<int64_t>(i + 1, shares) / shares);
        m_shares[static_cast<size_t>(i)].bounds.store(pack(begin, end), std::memory_order_seq_cst);
    }
    {
        std::lock_guard lock(m_mutex);
        m_generation.store(job, std::memory_order_release);
    }
    m_wake.notify_all();
    runJob(0, job);
    for (int spin = 0; m_finished.load(std::memory_order_acquire) != n && spin < kSpins; ++spin)
        relax();
    if (m_finished.load(std::memory_order_acquire) != n) {
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return m_finished.load(std::memory_order_acquire) == n; });
    }
    m_fn = nullptr;
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0)
        return;
    grain = std::max<int64_t>(1, grain);
    if (size() == 1 || n < 2 * grain) {
        fn(0, n);
        return;
    }
    for (int64_t offset = 0; offset < n; offset += kSliceUnits)
        runSlice(offset, std::min(kSliceUnits, n - offset), grain, fn);
}

}  // namespace griffin::cpu
