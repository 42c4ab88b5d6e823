// SPDX-License-Identifier: Apache-2.0
// Memory read probes for `griffin bench`, run in child processes so that their buffers do not
// count in the benchmark's peak RSS.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <sys/types.h>

#include "griffin/bench.h"
#include "griffin/model.h"

namespace griffin::cli {

// probeMachine in a child process; empty when the child could not be run.
std::optional<MachineProbe> probeInChild(int threads, int64_t bytes, bool readOnly = false);

// A child process holding a ReadPasses buffer, reading it once per pass(): measurements that
// take turns with the benchmark's own work, each pass meeting the machine as that work just
// did. Passes run only while the parent waits for them, so the two never compete.
class ReadPartner {
public:
    ReadPartner(int threads, int64_t bytes);
    ~ReadPartner();
    ReadPartner(const ReadPartner&) = delete;
    ReadPartner& operator=(const ReadPartner&) = delete;

    bool running() const { return m_pid > 0; }
    // Bytes per second of one pass (ReadPasses::pass); empty when the child is gone.
    std::optional<double> pass(int64_t aheadBytes = 0, int64_t nearBytes = 0);

private:
    void stop();
    pid_t m_pid = -1;
    int m_socket = -1;  // requests (a pass's distances) out, replies (bytes per second) in
};

// Decode steps taken in turns with read passes of a ReadPartner: per round one step, then a
// plain pass and (aheadBytes > 0) a prefetching one, the faster of the two being the round's
// read. A shared machine's bandwidth swings within a second (a 2-core EPYC VM: 100 passes of 512
// MiB back to back read 21-52 GB/s, median 30), so a run of steps and a best-of-5 probe taken
// around it rarely meet the same machine; a step and the pass right after it mostly do.
struct PairedSteps {
    std::vector<double> stepGbps, readGbps;  // per round: weight bytes / step time, the read
    double medianRatio = 0, q1 = 0, q3 = 0;  // of stepGbps[i] / readGbps[i]
};

// `rounds` rounds on `state` (fed `token`, then each step's greedy choice), after one untimed
// step and pass; empty when the partner could not run or a step failed.
std::optional<PairedSteps> pairStepsWithReads(Model& model, State& state, int32_t token,
                                              int64_t rounds, ReadPartner& partner,
                                              int64_t aheadBytes, int64_t nearBytes);

}  // namespace griffin::cli
