// SPDX-License-Identifier: Apache-2.0
#include "cli/bench_probe.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>
#include <utility>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/bench_turns.h"

namespace griffin::cli {
namespace {

// Calls io(p, k) (a read, write or send of at most k bytes at p) until n bytes have moved,
// again after a signal; false at the end of the file or on an error.
template <typename Byte, typename Io>
bool moveAll(Byte* p, size_t n, Io io) {
    while (n > 0) {
        const ssize_t moved = io(p, n);
        if (moved < 0 && errno == EINTR)
            continue;
        if (moved <= 0)
            return false;
        p += moved;
        n -= static_cast<size_t>(moved);
    }
    return true;
}

bool readAll(int fd, void* data, size_t n) {
    return moveAll(static_cast<char*>(data), n, [fd](char* p, size_t k) { return read(fd, p, k); });
}

bool writeAll(int fd, const void* data, size_t n) {
    return moveAll(static_cast<const char*>(data), n,
                   [fd](const char* p, size_t k) { return write(fd, p, k); });
}

// To a socket, without SIGPIPE when the other end is gone (an error instead).
bool sendAll(int fd, const void* data, size_t n) {
    return moveAll(static_cast<const char*>(data), n,
                   [fd](const char* p, size_t k) { return send(fd, p, k, MSG_NOSIGNAL); });
}

}  // namespace

std::optional<MachineProbe> probeInChild(int threads, int64_t bytes, bool readOnly) {
    int fds[2];
    if (pipe(fds) != 0)
        return std::nullopt;
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        close(fds[0]);
        const MachineProbe p = probeMachine(threads, bytes, 5, readOnly);
        const double values[6] = {p.readBytesPerSecond,
                                  p.fmaFlopsPerSecond,
                                  p.plainReadBytesPerSecond,
                                  p.prefetchReadBytesPerSecond,
                                  static_cast<double>(p.prefetchAheadBytes),
                                  static_cast<double>(p.prefetchNearBytes)};
        _exit(writeAll(fds[1], values, sizeof values) ? 0 : 1);
    }
    close(fds[1]);
    double values[6] = {0, 0, 0, 0, 0, 0};
    const bool got = readAll(fds[0], values, sizeof values);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || values[0] <= 0 ||
        (!readOnly && values[1] <= 0))
        return std::nullopt;
    MachineProbe p;
    p.readBytesPerSecond = values[0];
    p.fmaFlopsPerSecond = values[1];
    p.plainReadBytesPerSecond = values[2];
    p.prefetchReadBytesPerSecond = values[3];
    p.prefetchAheadBytes = static_cast<int64_t>(values[4]);
    p.prefetchNearBytes = static_cast<int64_t>(values[5]);
    return p;
}

ReadPartner::ReadPartner(int threads, int64_t bytes) {
    int ends[2];  // [0] the parent's, [1] the child's
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
        return;
    const pid_t pid = fork();
    if (pid == 0) {
        close(ends[0]);
        // One reply of 0 when the buffer cannot be had, else 1, then one per request until
        // the parent closes its end.
        int code = 0;
        try {
            ReadPasses reads(threads, bytes);
            const double ready = 1.0;
            int64_t distances[2];
            if (!sendAll(ends[1], &ready, sizeof ready))
                _exit(1);
            while (readAll(ends[1], distances, sizeof distances)) {
                const double rate = reads.pass(distances[0], distances[1]);
                if (!sendAll(ends[1], &rate, sizeof rate)) {
                    code = 1;
                    break;
                }
            }
        } catch (const std::bad_alloc&) {
            const double none = 0.0;
            (void)sendAll(ends[1], &none, sizeof none);
            code = 1;
        }
        _exit(code);
    }
    close(ends[1]);
    m_socket = ends[0];
    m_pid = pid;
    double ready = 0.0;
    if (pid < 0 || !readAll(m_socket, &ready, sizeof ready) || ready <= 0)
        stop();
}

ReadPartner::~ReadPartner() {
    stop();
}

std::optional<double> ReadPartner::pass(int64_t aheadBytes, int64_t nearBytes) {
    if (!running())
        return std::nullopt;
    const int64_t distances[2] = {aheadBytes, nearBytes};
    double rate = 0.0;
    if (!sendAll(m_socket, distances, sizeof distances) || !readAll(m_socket, &rate, sizeof rate) ||
        rate <= 0) {
        stop();
        return std::nullopt;
    }
    return rate;
}

void ReadPartner::stop() {
    if (m_socket >= 0)
        close(m_socket);  // the child's next read sees the end, and it exits
    m_socket = -1;
    if (m_pid > 0) {
        int status = 0;
        while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    m_pid = -1;
}

std::optional<PairedSteps> pairStepsWithReads(Model& model, State& state, int32_t token,
                                              int64_t rounds, ReadPartner& partner,
                                              int64_t aheadBytes, int64_t nearBytes) {
    using Clock = std::chrono::steady_clock;
    const double weightBytes = static_cast<double>(model.info().weightBytes);
    const auto vocab = static_cast<ptrdiff_t>(model.info().config.vocabSize);
    PairedSteps out;
    std::vector<double> ratios;
    // Round -1 is not timed: the first step after the partner's fork pays for its pages.
    for (int64_t round = -1; round < rounds; ++round) {
        const auto start = Clock::now();
        auto logits = model.step(state, token);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (!logits)
            return std::nullopt;
        token = static_cast<int32_t>(
            std::max_element(logits->begin(),
                             logits->begin() + std::min<ptrdiff_t>(vocab, logits->size())) -
            logits->begin());
        std::optional<double> read = partner.pass();
        if (read && aheadBytes > 0) {
            const std::optional<double> prefetched = partner.pass(aheadBytes, nearBytes);
            read = prefetched ? std::optional<double>(std::max(*read, *prefetched)) : prefetched;
        }
        if (!read)
            return std::nullopt;
        if (round < 0)
            continue;
        out.stepGbps.push_back(weightBytes / seconds / 1e9);
        out.readGbps.push_back(*read / 1e9);
        ratios.push_back(out.stepGbps.back() / out.readGbps.back());
    }
    const Spread spread = spreadOf(std::move(ratios));
    out.medianRatio = spread.median;
    out.q1 = spread.q1;
    out.q3 = spread.q3;
    return out;
}

}  // namespace griffin::cli
