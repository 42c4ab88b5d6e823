// SPDX-License-Identifier: Apache-2.0
// Host mirrors of the shaders' push-constant blocks (shaders/*.comp header comments). Every field
// is 4 bytes; the static_asserts pin sizes and offsets to what the shaders declare.
#pragma once

#include <cstddef>
#include <cstdint>

namespace griffin::vulkan {

// One token's entry of the step parameters (shaders/common/step_params.glsl): written by the
// host before each submit, so recorded command buffers do not depend on the token or position.
struct StepParams {
    int32_t token;
    int32_t position;
    int32_t unused[2];
};
static_assert(sizeof(StepParams) == 16 && offsetof(StepParams, position) == 4);

struct EmbedGatherPush {  // embed_gather.comp
    uint32_t firstRow;
    uint32_t cols;
    uint32_t strideWords;
    float scale;
    uint32_t rowCount;
    uint32_t paramIndex;
    uint32_t outStride;
};
static_assert(sizeof(EmbedGatherPush) == 28 && offsetof(EmbedGatherPush, scale) == 12 &&
              offsetof(EmbedGatherPush, paramIndex) == 20 &&
              offsetof(EmbedGatherPush, outStride) == 24);

struct RmsNormPush {  // rms_norm.comp
    uint32_t n;
    float eps;
    uint32_t stride;
};
static_assert(sizeof(RmsNormPush) == 12 && offsetof(RmsNormPush, stride) == 8);

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
    uint32_t stride;
};
static_assert(sizeof(BlockDiagPush) == 16 && offsetof(BlockDiagPush, stride) == 12);

struct GegluPush {  // geglu.comp
    uint32_t n;
};
static_assert(sizeof(GegluPush) == 4);

struct Conv1dPush {  // conv1d_step.comp
    uint32_t channels;
    uint32_t convWidth;
    uint32_t tokens;
    uint32_t stride;
};
static_assert(sizeof(Conv1dPush) == 16 && offsetof(Conv1dPush, stride) == 12);

struct RgLruPush {  // rg_lru_step.comp
    uint32_t channels;
    uint32_t paramIndex;
    uint32_t tokens;
    uint32_t stride;
};
static_assert(sizeof(RgLruPush) == 16 && offsetof(RgLruPush, stride) == 12);

struct RopePush {  // rope.comp
    uint32_t numHeads;
    uint32_t headDim;
    uint32_t ropeDims;
    uint32_t tableOffset;
    uint32_t vStride;
};
static_assert(sizeof(RopePush) == 20 && offsetof(RopePush, vStride) == 16);

struct AttentionPush {  // attention_decode.comp
    uint32_t numHeads;
    uint32_t numKvHeads;
    uint32_t headDim;
    uint32_t window;
    uint32_t paramIndex;
    float scale;
    uint32_t splitKeys;  // keys per split; 0 = OpRecorder's default
    uint32_t qStride;    // floats between the tokens' q rows (a batch)
    uint32_t kvStride;   // floats between their k and v rows
};
static_assert(sizeof(AttentionPush) == 36 && offsetof(AttentionPush, paramIndex) == 16 &&
              offsetof(AttentionPush, scale) == 20 && offsetof(AttentionPush, splitKeys) == 24 &&
              offsetof(AttentionPush, kvStride) == 32);

struct AttentionCombinePush {  // attention_combine.comp
    uint32_t headDim;
    uint32_t splits;
    uint32_t numHeads;
    uint32_t outStride;
};
static_assert(sizeof(AttentionCombinePush) == 16 &&
              offsetof(AttentionCombinePush, outStride) == 12);

struct KvWritePush {  // kv_write.comp
    uint32_t kvDim;
    uint32_t window;
    uint32_t paramIndex;
    uint32_t tokens;    // 0 counts as 1
    uint32_t kvStride;  // floats between the tokens' k and v rows
};
static_assert(sizeof(KvWritePush) == 20 && offsetof(KvWritePush, kvStride) == 16);

struct ArgmaxPush {  // argmax.comp
    uint32_t n;
    uint32_t span;
    uint32_t groups;
    uint32_t stage;
};
static_assert(sizeof(ArgmaxPush) == 16 && offsetof(ArgmaxPush, stage) == 12);

}  // namespace griffin::vulkan
