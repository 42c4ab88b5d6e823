// SPDX-License-Identifier: Apache-2.0
// ThreadPool: a fixed set of workers running one parallelFor at a time. Decoding calls it a
// few hundred times per token, so both sides spin briefly before sleeping: a worker that just
// finished a share usually sees the next job within microseconds, without a futex round trip.
// Shares are claimed, not assigned: the caller takes whatever no worker has started, so a
// worker that the OS has not scheduled (a busy machine) delays nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace griffin::cpu {

// parallelFor must be called from one thread at a time (the Model's owner); workers only run the
// ranges it hands out.
class ThreadPool {
public:
    // threads <= 0: one per hardware thread. The calling thread counts as one.
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(m_workers.size()) + 1; }

    // Calls fn(begin, end) over disjoint ranges covering [0, n); returns when all are done.
    // Ranges are at least `grain` long.
    void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

private:
    void workerLoop(int index);
    void runShare(int index, int parts);
    // Claims and runs shares of job `generation` until none is left.
    void runClaimed(uint64_t generation, int parts);

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    // The posted job: generation << 16 | parts, published with release; m_fn, m_n and m_shrink are
    // written before it and stay unchanged until every share is done (m_completed == parts).
    std::atomic<uint64_t> m_job{0};
    // (generation & 0xffffffff) << 32 | next unclaimed share; a claim is a compare-exchange, so a
    // worker holding an old generation can never take a share of a newer job.
    std::atomic<uint64_t> m_claim{0};
    std::atomic<int> m_completed{0};  // shares of the current job finished
    std::atomic<bool> m_quit{false};
    const std::function<void(int64_t, int64_t)>* m_fn = nullptr;
    int64_t m_n = 0;
    bool m_shrink = false;  // parts shrink (see partBoundary) rather than being equal
};

}  // namespace griffin::cpu
