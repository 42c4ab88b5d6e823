// SPDX-License-Identifier: Apache-2.0
#include "cpu/thread_pool.h"

#include <algorithm>

namespace griffin::cpu {

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < threads; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
    }
    m_wake.notify_all();
    for (std::thread& t : m_workers) t.join();
}

void ThreadPool::runShare(int index) {
    // Part `index` of m_parts equal ranges.
    const int64_t begin = m_n * index / m_parts;
    const int64_t end = m_n * (index + 1) / m_parts;
    if (begin < end)
        (*m_fn)(begin, end);
}

void ThreadPool::workerLoop(int index) {
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_quit || m_generation != seen; });
            if (m_quit)
                return;
            seen = m_generation;
            if (index >= m_parts)
                continue;
        }
        runShare(index);
        {
            std::lock_guard lock(m_mutex);
            if (--m_pending == 0)
                m_done.notify_one();
        }
    }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0)
        return;
    const int64_t maxParts = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
    const int parts = static_cast<int>(std::min<int64_t>(size(), maxParts));
    if (parts == 1) {
        fn(0, n);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_fn = &fn;
        m_n = n;
        m_parts = parts;
        m_pending = parts - 1;
        ++m_generation;
    }
    m_wake.notify_all();
    runShare(0);
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending == 0; });
    m_fn = nullptr;
}

}  // namespace griffin::cpu
