// SPDX-License-Identifier: Apache-2.0
// LatencyProbe: measures how late the GUI event loop runs a 5 ms timer (a proxy for how long the
// UI can be blocked). Used by the smoke test to report the p99 while a reply is generated.
#pragma once

#include <vector>

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

class LatencyProbe : public QObject {
    Q_OBJECT

public:
    explicit LatencyProbe(QObject* parent = nullptr);
    void start();
    void stop();
    // Lateness percentiles in milliseconds over the samples so far (0 without samples).
    double percentile(double p) const;
    size_t samples() const { return m_lateness.size(); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_expectedNs = 0;
    std::vector<double> m_lateness;
};
