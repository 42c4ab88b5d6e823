// SPDX-License-Identifier: Apache-2.0
// Host mirrors of the shaders' push-constant blocks (shaders/*.comp header comments). Every field
// is 4 bytes; the static_asserts pin sizes and offsets to what the shaders declare.
#pragma once

#include <cstddef>
#include <cstdint>

namespace griffin::vulkan {

struct EmbedGatherPush {  // embed_gather.comp
    uint32_t row;
    uint32_t cols;
    uint32_t strideWords;
    float scale;
};
static_assert(sizeof(EmbedGatherPush) == 16 && offsetof(EmbedGatherPush, scale) == 12);

struct RmsNormPush {  // rms_norm.comp
    uint32_t n;
    float eps;
};
static_assert(sizeof(RmsNormPush) == 8 && offsetof(RmsNormPush, eps) == 4);

enum MatvecFlags : uint32_t {
    kMatvecBias = 1,
    kMatvecGelu = 2,
    kMatvecAccumulate = 4,
    kMatvecSoftCap = 8,
};

struct MatvecPush {  // matvec.comp
    uint32_t rows;
    uint32_t cols;
    uint32_t strideWords;
    uint32_t flags;  // MatvecFlags
    float softCap;
    uint32_t rowOffset;
    uint32_t columns;  // x vectors (tokens)
    uint32_t xStride;  // floats between x vectors
    uint32_t outStride;
};
static_assert(sizeof(MatvecPush) == 36 && offsetof(MatvecPush, flags) == 12 &&
              offsetof(MatvecPush, softCap) == 16 && offsetof(MatvecPush, rowOffset) == 20 &&
              offsetof(MatvecPush, columns) == 24 && offsetof(MatvecPush, outStride) == 32);

struct BlockDiagPush {  // block_diag_matvec.comp
    uint32_t blockWidth;
    uint32_t channels;
    uint32_t strideWords;
};
static_assert(sizeof(BlockDiagPush) == 12 && offsetof(BlockDiagPush, strideWords) == 8);

struct GegluPush {  // geglu.comp
    uint32_t n;
};
static_assert(sizeof(GegluPush) == 4);

struct Conv1dPush {  // conv1d_step.comp
    uint32_t channels;
    uint32_t convWidth;
};
static_assert(sizeof(Conv1dPush) == 8 && offsetof(Conv1dPush, convWidth) == 4);

struct RgLruPush {  // rg_lru_step.comp
    uint32_t channels;
    uint32_t reset;
};
static_assert(sizeof(RgLruPush) == 8 && offsetof(RgLruPush, reset) == 4);

struct RopePush {  // rope.comp
    uint32_t numHeads;
    uint32_t headDim;
    uint32_t ropeDims;
    uint32_t tableOffset;
};
static_assert(sizeof(RopePush) == 16 && offsetof(RopePush, tableOffset) == 12);

struct AttentionPush {  // attention_decode.comp
    uint32_t numHeads;
    uint32_t numKvHeads;
    uint32_t headDim;
    uint32_t window;
    int32_t position;
    float scale;
};
static_assert(sizeof(AttentionPush) == 24 && offsetof(AttentionPush, position) == 16 &&
              offsetof(AttentionPush, scale) == 20);

struct KvWritePush {  // kv_write.comp
    uint32_t kvDim;
    uint32_t window;
    int32_t position;
};
static_assert(sizeof(KvWritePush) == 12 && offsetof(KvWritePush, position) == 8);

}  // namespace griffin::vulkan
