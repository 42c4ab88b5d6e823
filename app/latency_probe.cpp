// SPDX-License-Identifier: Apache-2.0
#include "latency_probe.h"

#include <algorithm>

namespace {
constexpr int kIntervalMs = 5;
}

LatencyProbe::LatencyProbe(QObject* parent) : QObject(parent) {
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(kIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        const qint64 now = m_clock.nsecsElapsed();
        m_lateness.push_back(std::max<qint64>(0, now - m_expectedNs) / 1e6);
        m_expectedNs = now + kIntervalMs * 1000000LL;
    });
}

void LatencyProbe::start() {
    m_clock.start();
    m_expectedNs = kIntervalMs * 1000000LL;
    m_timer.start();
}

void LatencyProbe::stop() {
    m_timer.stop();
}

double LatencyProbe::percentile(double p) const {
    if (m_lateness.empty())
        return 0.0;
    std::vector<double> sorted = m_lateness;
    std::sort(sorted.begin(), sorted.end());
    const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * sorted.size()));
    return sorted[i];
}
