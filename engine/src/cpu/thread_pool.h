// SPDX-License-Identifier: Apache-2.0
// ThreadPool: a fixed set of workers running one parallelFor at a time. Decoding calls it a
// few hundred times per token, so both sides spin briefly before sleeping: a worker that just
// finished a share usually sees the next job within microseconds, without a futex round trip.
//
// Each thread owns an equal, contiguous share of the range and runs it front to back in chunks,
// so that a decode product is one stream of rows per thread. A thread whose share is done steals
// the back half of the largest share left and carries on with it as its own: a thread that is
// slow or that the OS has not scheduled (a busy machine) delays the others by at most about a
// chunk, and every range is run exactly once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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
    // Ranges are at least `grain` long (n itself may be shorter).
    void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

private:
    // Unclaimed units of one thread's share: next << 32 | end, offsets into the current slice.
    struct alignas(64) Share {
        std::atomic<uint64_t> bounds{0};
    };
    void workerLoop(int index);
    // Runs chunks of the current job (own share first, then stolen ones) until none is left.
    void runJob(int self, uint64_t job);
    // The next chunk for thread `self`: from its own share, else stolen; false when none is left.
    bool claim(int self, uint64_t job, uint64_t& begin, uint64_t& end);
    void runSlice(int64_t offset, int64_t n, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

    std::vector<std::thread> m_workers;
    std::unique_ptr<Share[]> m_shares;  // [size()], the caller's first
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    // The job being posted: set before its shares are, m_generation after them (a worker runs
    // runJob when m_generation changes).
    std::atomic<uint64_t> m_posted{0};
    std::atomic<uint64_t> m_generation{0};
    // Units of the current job done, added by each thread when it runs out of work; on a line
    // of its own.
    alignas(64) std::atomic<int64_t> m_finished{0};
    alignas(64) std::atomic<bool> m_quit{false};
    // The current job: written before its shares are published (release) and read only after a
    // claim (acquire); unchanged until every unit is finished, so a claim always runs the job
    // its units belong to.
    const std::function<void(int64_t, int64_t)>* m_fn = nullptr;
    int64_t m_offset = 0;  // the slice's first index (parallelFor over 2^32 or more units)
    int64_t m_n = 0;
    // Also read by a thread still looking for work of the last job (any value is safe there).
    std::atomic<int64_t> m_grain{1};
};

}  // namespace griffin::cpu
