// SPDX-License-Identifier: Apache-2.0
// embed_gather: out[c] = embedding[row, c] * scale (griffin-spec.md §2.2; scale = bf16(sqrt(D))).
// Dispatch: ceil(cols / WG) x 1 x 1; one invocation per column.
// Bindings (set 0):
//   0  uint  weights[]  read   the row chunk holding the token's row (see weights.glsl)
//   1  float out[cols]  write
// Push constants (EmbedGatherPush, 16 bytes):
//   0 uint row          row inside the bound chunk
//   4 uint cols
//   8 uint strideWords  words per row
//  12 float scale
// Specialization constants: 0 = workgroup size (WG), 1 = weight format (weights.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint kFormat = 0u;

layout(set = 0, binding = 0) readonly buffer Weights { uint weights[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint row;
    uint cols;
    uint strideWords;
    float scale;
} pc;

void main() {
    const uint c = gl_GlobalInvocationID.x;
    if (c >= pc.cols)
        return;
    const uint rowBase = pc.row * pc.strideWords;
    if (isBlockFormat(kFormat)) {
        const uint nb = pc.cols / 32u, b = c / 32u, i = c % 32u;
        const uint quantBase = rowBase + nb + b * blockQuantWords(kFormat);
        const uint word = weights[blockWordIndex(quantBase, i, kFormat)];
        outValues[c] = uintBitsToFloat(weights[rowBase + b]) * decodeBlockQuant(word, i, kFormat) *
                       pc.scale;
        return;
    }
    const uint word = weights[weightWordIndex(rowBase, c, kFormat)];
    outValues[c] = decodeWeight(word, c, kFormat) * pc.scale;
}
