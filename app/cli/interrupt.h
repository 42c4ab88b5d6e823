// SPDX-License-Identifier: Apache-2.0
// InterruptWatcher: turns Ctrl-C (SIGINT) into a std::stop_token request, so that an interrupt
// stops the current generation instead of killing the program.
#pragma once

#include <atomic>
#include <mutex>
#include <stop_token>
#include <thread>

namespace griffin::cli {

// Construct it before starting any other thread (it blocks SIGINT for the threads created after
// it and waits for the signal on a thread of its own). One per process.
class InterruptWatcher {
public:
    InterruptWatcher();
    ~InterruptWatcher();
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;

    // A fresh token for the next job; the next Ctrl-C stops it. Thread-safe.
    std::stop_token arm();
    // Ctrl-Cs received so far.
    int count() const { return m_count.load(); }

private:
    void run();
    std::mutex m_mutex;
    std::stop_source m_source;  // guarded by m_mutex
    std::atomic<int> m_count{0};
    std::atomic<bool> m_quit{false};
    std::thread m_thread;
};

}  // namespace griffin::cli
