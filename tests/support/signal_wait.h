// SPDX-License-Identifier: Apache-2.0
// Waiting for a signal that a worker thread emits.
#pragma once

#include <algorithm>

#include <QDeadlineTimer>
#include <QSignalSpy>

namespace griffin::test {

// Waits until `spy` holds more than `seen` signals, or `timeoutMs` passes; true if it does.
// QSignalSpy::wait() alone waits for a signal after the call: one that another thread emits
// between the request and the wait is not counted, and the wait runs out (seen under load
// when the demo model loaded before the test thread reached its wait).
inline bool waitForSignal(QSignalSpy& spy, int timeoutMs, qsizetype seen = 0) {
    const QDeadlineTimer deadline(timeoutMs);
    while (spy.size() <= seen) {
        if (deadline.hasExpired())
            return false;
        spy.wait(static_cast<int>(std::clamp<qint64>(deadline.remainingTime(), 1, 50)));
    }
    return true;
}

}  // namespace griffin::test
