// SPDX-License-Identifier: Apache-2.0
// Machine probes for `griffin bench`: the bounds that decode and prefill speeds are measured
// against, taken with the same threads and instruction set as the engine's kernels.
#pragma once

#include <cstdint>
#include <string>

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

// The instruction set the CPU kernels use now ("avx512", "avx2", "scalar").
std::string cpuKernelIsa();
// How far ahead the CPU decode kernels prefetch weight rows in software (0: not at all).
int64_t cpuDecodePrefetchBytes();
// With that, how far ahead they also prefetch each line into L1 (0: not at all).
int64_t cpuDecodePrefetchNearBytes();

}  // namespace griffin
