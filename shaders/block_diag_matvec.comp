// SPDX-License-Identifier: Apache-2.0
// block_diag_matvec: the RG-LRU gates' block-diagonal linear (griffin-spec.md §2.6.2). With
// blocks of width bw, weights stored [in, out] per block (row h*bw + i is input i of block h):
//   out[h*bw + j] = bias[h*bw + j] + sum_i x[h*bw + i] * w[h*bw + i, j]   (i ascending)
// Dispatch: ceil(channels / WG) x tokens x 1; one invocation per (output channel, token); token
// t's x and out rows start at t * stride.
// Bindings (set 0):
//   0  uint  weights[]        read  [channels, bw] (see weights.glsl)
//   1  float x[channels]      read
//   2  float bias[channels]   read
//   3  float out[channels]    write
// Push constants (BlockDiagPush, 16 bytes): 0 uint blockWidth; 4 uint channels;
//   8 uint strideWords; 12 uint stride (floats between token rows).
// Specialization constants: 0 = workgroup size WG, 1 = weight format.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint kFormat = 0u;

layout(set = 0, binding = 0) readonly buffer Weights { uint weights[]; };
layout(set = 0, binding = 1) readonly buffer X { float x[]; };
layout(set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(set = 0, binding = 3) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint blockWidth;
    uint channels;
    uint strideWords;
    uint stride;
} pc;

void main() {
    const uint ch = gl_GlobalInvocationID.x;
    if (ch >= pc.channels)
        return;
    const uint first = (ch / pc.blockWidth) * pc.blockWidth;
    const uint j = ch - first;
    const uint base = gl_WorkGroupID.y * pc.stride;
    float acc = bias[ch];
    for (uint i = 0u; i < pc.blockWidth; ++i) {
        const uint word = weights[weightWordIndex((first + i) * pc.strideWords, j, kFormat)];
        acc += x[base + first + i] * decodeWeight(word, j, kFormat);
    }
    outValues[base + ch] = acc;
}
