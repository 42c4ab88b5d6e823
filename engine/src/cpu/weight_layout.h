// SPDX-License-Identifier: Apache-2.0
// How the CPU backend lays its weights out for the kernels, decided once when a model is loaded
// for it. On AVX-512 VNNI, q4_0 matrices get the grouped row layout of quant.h (groupQ4Row):
// the decode kernel then loads a group of 4 blocks with one 64-byte load instead of four 16-byte
// pieces and four scales. On a 2-core Sapphire Rapids VM that read a row 30% faster from L2 and
// the 2B model's q4_0 decode products about 3% faster from memory (22.6-24.2 -> 23.4-24.9
// GB/s); a GGUF file's matrices, copied into huge pages on the way, decoded 10% faster (12.6-13.1
// -> 14.3-14.6 tok/s). Other matrices stay as stored.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>

#include "cpu/thread_pool.h"
#include "griffin/result.h"
#include "io/page_arena.h"
#include "io/tensor_archive.h"
#include "weights.h"

namespace griffin::cpu {

// Whether a model loaded for the CPU backend now gets grouped q4_0 rows: the active instruction
// set is AVX-512 VNNI, and GRIFFIN_Q4_LAYOUT is not "gguf" (which keeps the GGUF blocks, to
// compare the two).
bool groupQ4AtLoad();

struct LayoutChange {
    int64_t matrices = 0;      // matrices rearranged
    int64_t inPlaceBytes = 0;  // rearranged where they lie (memory the archive owns)
    int64_t copiedBytes = 0;   // copied into the arena (a file mapping), the originals released
};

// Rearranges every q4_0 matrix of `weights` into grouped rows and marks it (Matrix::q4Grouped):
// in place where `archive` lets its memory be changed (weights quantized at load, synthetic
// ones), else as a copy in `arena`, after which the archive releases the original (a GGUF file's
// pages leave the process's resident memory). A matrix bound twice is rearranged once.
// OutOfMemory when a copy finds no memory; the weights are then unchanged where not yet done
// and consistent everywhere (each matrix is either fully grouped and marked, or untouched).
// Rows are rearranged on `pool`'s threads when given. `progress` (may be empty) gets the fraction
// of the q4_0 bytes done; `stop` is checked between matrices (Cancelled; the weights are then
// partly rearranged, each matrix consistently, and the model being loaded is dropped anyway).
Result<LayoutChange> groupQ4Matrices(ModelWeights& weights, const io::TensorArchive& archive,
                                     io::PageArena& arena, ThreadPool* pool = nullptr,
                                     const std::function<void(double)>& progress = {},
                                     std::stop_token stop = {});

}  // namespace griffin::cpu
