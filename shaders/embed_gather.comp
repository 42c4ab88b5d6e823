// SPDX-License-Identifier: Apache-2.0
// embed_gather: out[c] = embedding[token, c] * scale (griffin-spec.md §2.2; scale =
// bf16(sqrt(D))). The token comes from the step parameters, so a recorded command buffer can be
// replayed for any token: one dispatch per row chunk of the table, and only the chunk holding
// the token writes.
// Dispatch: ceil(cols / WG) x tokens x 1; one invocation per (column, token); token t reads
// params[paramIndex + t] and writes out row t (at t * outStride).
// Bindings (set 0):
//   0  uint  weights[]  read   one row chunk of the table (see weights.glsl)
//   1  float out[cols]  write
//   2  ivec4 params[]   read   step parameters (step_params.glsl)
// Push constants (EmbedGatherPush, 28 bytes):
//   0 uint firstRow     table row of the chunk's first row
//   4 uint cols
//   8 uint strideWords  words per row
//  12 float scale
//  16 uint rowCount     rows in the chunk
//  20 uint paramIndex   params[] entry of token 0 (its index in the batch)
//  24 uint outStride    floats between output rows
// Specialization constants: 0 = workgroup size (WG), 1 = weight format (weights.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "step_params.glsl"
#include "weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint kFormat = 0u;

layout(set = 0, binding = 0) readonly buffer Weights { uint weights[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float outValues[]; };
layout(set = 0, binding = 2) readonly buffer Params { ivec4 params[]; };

layout(push_constant) uniform Push {
    uint firstRow;
    uint cols;
    uint strideWords;
    float scale;
    uint rowCount;
    uint paramIndex;
    uint outStride;
} pc;

void main() {
    const uint c = gl_GlobalInvocationID.x;
    const uint t = gl_WorkGroupID.y, outBase = t * pc.outStride;
    const uint token = uint(params[pc.paramIndex + t][kParamToken]);
    if (c >= pc.cols || token < pc.firstRow || token - pc.firstRow >= pc.rowCount)
        return;
    const uint rowBase = (token - pc.firstRow) * pc.strideWords;
    if (isBlockFormat(kFormat)) {
        const uint nb = pc.cols / 32u, b = c / 32u, i = c % 32u;
        const uint quantBase = rowBase + nb + b * blockQuantWords(kFormat);
        const uint word = weights[blockWordIndex(quantBase, i, kFormat)];
        outValues[outBase + c] = uintBitsToFloat(weights[rowBase + b]) * decodeBlockQuant(word, i, kFormat) *
                       pc.scale;
        return;
    }
    const uint word = weights[weightWordIndex(rowBase, c, kFormat)];
    outValues[outBase + c] = decodeWeight(word, c, kFormat) * pc.scale;
}
