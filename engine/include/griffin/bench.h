// SPDX-License-Identifier: Apache-2.0
// Machine probes for `griffin bench`: the bounds that decode and prefill speeds are measured
// against, taken with the same threads and instruction set as the engine's kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "griffin/model.h"

namespace griffin {

struct MachineProbe {
    int threads = 0;
    std::string isa;  // the kernels' instruction set: avx512, avx2 or scalar
    // Streaming read of a buffer far larger than the caches: the fastest of passes of plain loads
    // (the hardware prefetcher alone) and passes that also prefetch in software, as decode does,
    // at each of a few distances (the best one in prefetchAheadBytes).
    double readBytesPerSecond = 0;
    double plainReadBytesPerSecond = 0;
    double prefetchReadBytesPerSecond = 0;
    int64_t prefetchAheadBytes = 0;
    int64_t prefetchNearBytes = 0;  // with it, a second prefetch into L1 this far on (0: none)
    double fmaFlopsPerSecond = 0;   // fused multiply-adds on registers, 2 flops each
    int64_t probeBytes = 0;         // size of the read buffer
};

// Reads a `bufferBytes` buffer with `threads` threads (0 = one per hardware thread), best of
// `repeats` passes of each kind (plain, prefetched), and runs an FMA loop on every thread unless
// `readOnly` (then fmaFlopsPerSecond stays 0).
MachineProbe probeMachine(int threads, int64_t bufferBytes = int64_t{1} << 30, int repeats = 5,
                          bool readOnly = false);

// Streaming read passes over a buffer of its own, one at a time, as probeMachine's: for
// measurements that take turns with other work, such as decode steps (`griffin bench` rates each
// step against the pass right after it, so that both meet the machine in the same state).
class ReadPasses {
public:
    // A `bufferBytes` buffer (rounded up to 4 KiB) read by `threads` threads (0 = one per
    // hardware thread), written once by the threads that read it. Throws std::bad_alloc when
    // the buffer cannot be had.
    ReadPasses(int threads, int64_t bufferBytes);
    ~ReadPasses();
    ReadPasses(const ReadPasses&) = delete;
    ReadPasses& operator=(const ReadPasses&) = delete;

    int threads() const;
    int64_t bytes() const;
    // Reads the whole buffer once; bytes per second. aheadBytes 0: plain loads (the hardware
    // prefetcher alone), else also prefetching that far ahead into L2 and, with nearBytes, that
    // far into L1 (MachineProbe::prefetchAheadBytes / prefetchNearBytes).
    double pass(int64_t aheadBytes = 0, int64_t nearBytes = 0);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The instruction set the CPU kernels use now ("avx512", "avx2", "scalar").
std::string cpuKernelIsa();

// Decode steps on a fresh state of `model` (feeding `token`, then each step's greedy choice)
// until its CPU backend has made the first choice of the decode prefetch by timing its own steps
// (cpu/decode_tuner.h), so that what a benchmark times next runs that choice; at most 64 steps.
// Returns the steps taken: 0 on GPU backends and where the environment fixes the prefetch.
Result<int64_t> settleDecodeTuning(Model& model, int32_t token);

}  // namespace griffin
