// SPDX-License-Identifier: Apache-2.0
// How the CPU backend lays its weights out for the kernels, decided once when a model is loaded
// for it. The block types its kernels read interleaved (cpu::readsInterleaved: q8_0 and q4_0 on
// every instruction set but the scalar one) get the interleaved row layout of quant.h
// (interleaveRow): each 32-bit lane of a load then belongs to one block, so a set of 16 blocks
// needs one or two scale conversions and float multiply-adds and no shuffles, where GGUF blocks
// needed them for every 2 (q8_0) or 4 (q4_0) blocks. Other matrices stay as stored.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>

#include "cpu/thread_pool.h"
#include "griffin/result.h"
#include "io/page_arena.h"
#include "io/tensor_archive.h"
#include "weights.h"

namespace griffin::cpu {

// Whether a model loaded for the CPU backend now gets interleaved rows where its kernels read them
// (see interleaveMatrices): the active instruction set is not scalar, and GRIFFIN_BLOCK_LAYOUT
// is not "gguf" (which keeps the GGUF blocks, for tests; the kernels then interleave rows as
// they read them, more slowly).
bool interleaveAtLoad();

// The bytes interleaveMatrices would copy into its arena for `weights` (the matrices `archive`
// does not let it change in place, each counted once).
int64_t layoutCopyBytes(ModelWeights& weights, const io::TensorArchive& archive);

// Whether a copy of `copyBytes` leaves enough of `available` memory (io::availableMemoryBytes;
// nullopt: unknown, taken as enough) for the rest of a session: an eighth of the copy and at
// least 512 MiB more. Where it does not, a model mapped from a file keeps its GGUF blocks: with
// too little memory the file's pages can be read again, a copy's cannot.
bool layoutCopyFits(int64_t copyBytes, std::optional<int64_t> available);

struct LayoutChange {
    int64_t matrices = 0;      // matrices rearranged
    int64_t inPlaceBytes = 0;  // rearranged where they lie (memory the archive owns)
    int64_t copiedBytes = 0;   // copied into the arena (a file mapping), the originals released
};

// Rearranges every q8_0 and q4_0 matrix of `weights` that the active kernels read interleaved
// (cpu::readsInterleaved) into interleaved rows and marks it
// (Matrix::interleaved):
// in place where `archive` lets its memory be changed (weights quantized at load, synthetic
// ones), else as a copy in `arena`, after which the archive releases the original (a GGUF file's
// pages leave the process's resident memory). A matrix bound twice is rearranged once.
// OutOfMemory when a copy finds no memory; the weights are then unchanged where not yet done
// and consistent everywhere (each matrix is either fully interleaved and marked, or untouched).
// Rows are rearranged on `pool`'s threads when given. `progress` (may be empty) gets the fraction
// of the block-quantized bytes done; `stop` is checked between matrices (Cancelled; the weights are
// then partly rearranged, each matrix consistently, and the model being loaded is dropped anyway).
Result<LayoutChange> interleaveMatrices(ModelWeights& weights, const io::TensorArchive& archive,
                                        io::PageArena& arena, ThreadPool* pool = nullptr,
                                        const std::function<void(double)>& progress = {},
                                        std::stop_token stop = {});

// Long bf16 rows in column blocks (Matrix::blockCols). A decode product streams each row whole,
// and a row of thousands of columns with its activations crowds the L1 cache: the 2B model's MLP
// down projection (7680 columns) read its weights at 0.65 of the read bandwidth where the
// 2560-column products read at 0.82 (2-core Zen 5 VM). Stored as blocks of at most
// kColumnBlockMax columns, each block is a matrix of short rows read as one stream, and the
// products add the blocks' sums (blockRows in cpu/ops.cpp).
constexpr int64_t kColumnBlockMax = 2560;

// The widest column block a model loaded for the CPU backend gets: kColumnBlockMax, or
// GRIFFIN_COLUMN_BLOCKS=N (0: rows stay whole; a width, for tests and benchmarks).
int64_t columnBlockMaxAtLoad();

// The block width for a matrix of `type` and `cols` columns: the widest at most `maxColumns`
// that divides cols into whole blocks of a multiple of 32 columns; 0 (rows stay whole) for
// types other than bf16, rows of at most maxColumns, or no such width.
int64_t columnBlockWidth(WeightType type, int64_t cols, int64_t maxColumns = kColumnBlockMax);

// The bytes blockLongRows would copy into its arena (matrices `archive` does not let it change
// in place, each counted once).
int64_t columnBlockCopyBytes(ModelWeights& weights, const io::TensorArchive& archive,
                             int64_t maxColumns = kColumnBlockMax);

// Stores every projection of every layer that has a columnBlockWidth in column blocks and marks
// it (Matrix::blockCols): in place where `archive` lets its memory be changed, else as a copy in
// `arena`, after which the archive releases the original. The embedding and the RG-LRU gates,
// which are read row by row, keep whole rows. Errors and `stop` as for interleaveMatrices.
Result<LayoutChange> blockLongRows(ModelWeights& weights, const io::TensorArchive& archive,
                                   io::PageArena& arena, std::stop_token stop = {},
                                   int64_t maxColumns = kColumnBlockMax);

}  // namespace griffin::cpu
