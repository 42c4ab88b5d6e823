// SPDX-License-Identifier: Apache-2.0
// Weight storage types and their row layouts: f32, bf16, f16 and the GGUF block quantizations
// Q8_0 and Q4_0 (blocks of 32 values along a row, one f16 scale each). The reference
// (de)quantization used by the loader, `griffin quantize` and the tests; the fast kernels in
// cpu/kernels*.cpp must agree with dequantizeRow() up to float rounding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "griffin/model.h"

namespace griffin {

constexpr int64_t kQuantBlock = 32;

// GGUF Q8_0: value i = d * qs[i].
struct BlockQ8_0 {
    uint16_t d;  // f16 scale
    int8_t qs[kQuantBlock];
};
static_assert(sizeof(BlockQ8_0) == 34);

// GGUF Q4_0: value i = d * (nibble_i - 8); qs[j] holds element j in its low nibble and
// element j + 16 in its high nibble.
struct BlockQ4_0 {
    uint16_t d;  // f16 scale
    uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

bool isBlockQuantized(WeightType type);
// Bytes of one row of `cols` values; 0 when `type` cannot hold such a row (block types need
// cols % 32 == 0).
size_t rowBytes(WeightType type, int64_t cols);
// The alignment a row start needs for the kernels' loads (1 for block types).
size_t elementAlignment(WeightType type);

float f16ToFloatValue(uint16_t bits);
uint16_t floatToF16(float value);  // round to nearest even; overflow -> inf

// Encodes `cols` floats as one row of `type` into dst (rowBytes(type, cols) bytes).
void quantizeRow(WeightType type, const float* src, int64_t cols, void* dst);
// Decodes one row of `type` into `cols` floats.
void dequantizeRow(WeightType type, const void* src, int64_t cols, float* dst);

// The interleaved q8_0 / q4_0 row, the layout the AVX-512 VNNI kernels read
// (cpu/weight_layout.h). The row's blocks are taken 16 at a time (a last, partial set has
// fewer: its width w); in each set, 4-byte pieces of the w blocks alternate, so that one
// 64-byte load holds 4 quant bytes of each of 16 blocks, one per 32-bit lane:
//   byte 4w * v + 4b + i = quant byte 4v + i of block b (v < 8 for q8_0, v < 4 for q4_0),
// and the set's w f16 scales follow in block order. q8_0 bytes are stored plus 128 (the
// VNNI instruction multiplies unsigned bytes by signed ones); q4_0 bytes as they are, their
// low nibble value 4v + i and their high nibble value 16 + 4v + i. Same size as the GGUF row.
constexpr int64_t kInterleavedBlocks = 16;
// GGUF row of `type` (Q8_0 or Q4_0) -> interleaved row. `src` and `dst` may be the same.
void interleaveRow(WeightType type, const void* src, int64_t cols, void* dst);
// Interleaved row -> GGUF row. `src` and `dst` may be the same.
void deinterleaveRow(WeightType type, const void* src, int64_t cols, void* dst);
// Decodes one interleaved row into `cols` floats (the values dequantizeRow gives for the GGUF
// row it came from).
void dequantizeInterleavedRow(WeightType type, const void* src, int64_t cols, float* dst);

}  // namespace griffin
