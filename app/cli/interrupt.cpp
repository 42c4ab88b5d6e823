// SPDX-License-Identifier: Apache-2.0
#include "cli/interrupt.h"

#include <pthread.h>
#include <signal.h>

namespace griffin::cli {
namespace {

sigset_t interruptSet() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    return set;
}

}  // namespace

InterruptWatcher::InterruptWatcher() {
    const sigset_t set = interruptSet();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    m_thread = std::thread([this] { run(); });
}

InterruptWatcher::~InterruptWatcher() {
    m_quit = true;
    pthread_kill(m_thread.native_handle(), SIGINT);
    m_thread.join();
    const sigset_t set = interruptSet();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void InterruptWatcher::run() {
    const sigset_t set = interruptSet();
    for (;;) {
        int signal = 0;
        if (sigwait(&set, &signal) != 0)
            continue;
        if (m_quit)
            return;
        ++m_count;
        std::lock_guard lock(m_mutex);
        m_source.request_stop();
    }
}

std::stop_token InterruptWatcher::arm() {
    std::lock_guard lock(m_mutex);
    m_source = std::stop_source();
    return m_source.get_token();
}

}  // namespace griffin::cli
