// SPDX-License-Identifier: Apache-2.0
// matvec (GEMV, and the multi-column GEMV of prefill): for each row r of the bound chunk and
// each column t < columns,
//   v = dot(w[r, :], x[t * xStride ...]) [+ bias[rowOffset + r]], then optionally v = gelu(v)
//   or v = softCap * tanh(v / softCap) (griffin-spec.md §2.8), then
//   out[t * outStride + rowOffset + r] = v, or += v (fused residual add).
// A workgroup handles one row for every column in turn, so the row is read from memory once
// and from cache after that; each column's sum runs in the same order as a single-column call,
// so prefill logits equal step-by-step logits bit for bit.
// Accumulates in float32 with a scalar accumulator (vulkan-backend.md §1: lavapipe miscompiled
// a dynamically indexed accumulator array).
// Dispatch: gx x gy x 1 workgroups with gx * gy >= rows (rows may exceed 65535); row =
// gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; WG invocations split the row's words.
// Bindings (set 0):
//   0  uint  weights[]  read        the row chunk (see weights.glsl)
//   1  float x[cols]    read
//   2  float bias[]     read        unused unless flags & 1 (bind any buffer)
//   3  float out[]      read/write
// Push constants (MatvecPush, 36 bytes):
//   0 uint rows         rows of the bound chunk
//   4 uint cols
//   8 uint strideWords  words per row
//  12 uint flags        1 = bias, 2 = gelu, 4 = accumulate into out, 8 = soft cap
//  16 float softCap
//  20 uint rowOffset    index of the chunk's first row in bias and out
//  24 uint columns      x vectors (tokens), >= 1
//  28 uint xStride      floats between consecutive x vectors
//  32 uint outStride    floats between consecutive output vectors
// Specialization constants: 0 = workgroup size WG (power of two), 1 = weight format,
// 2 = multi-column (0: one column whatever `columns` says, the decode variant without the loop).
// Shared memory: 4 * WG bytes.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "math.glsl"
#include "weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint kFormat = 0u;
layout(constant_id = 2) const uint kMultiColumn = 0u;

layout(set = 0, binding = 0) readonly buffer Weights { uint weights[]; };
layout(set = 0, binding = 1) readonly buffer X { float x[]; };
layout(set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(set = 0, binding = 3) buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint strideWords;
    uint flags;
    float softCap;
    uint rowOffset;
    uint columns;
    uint xStride;
    uint outStride;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= pc.rows)
        return;  // uniform across the workgroup: no barrier is skipped by part of it
    const uint tid = gl_LocalInvocationID.x;
    const uint rowBase = row * pc.strideWords;
    const uint columns = kMultiColumn != 0u ? pc.columns : 1u;
    for (uint t = 0u; t < columns; ++t) {
        const uint xBase = t * pc.xStride;
        float acc = 0.0;
        if (isBlockFormat(kFormat)) {
            // One block per invocation per pass: scale word, then its quant words.
            const uint nb = pc.cols / 32u;
            const uint qWords = blockQuantWords(kFormat);
            for (uint b = tid; b < nb; b += gl_WorkGroupSize.x) {
                const uint quantBase = rowBase + nb + b * qWords;
                const uint c0 = xBase + b * 32u;
                float s = 0.0;
                for (uint j = 0u; j < qWords; ++j) {
                    const uint word = weights[quantBase + j];
                    for (uint k = 0u; k < 4u; ++k) {
                        if (kFormat == kFormatQ8_0) {
                            s += decodeBlockQuant(word, 4u * j + k, kFormat) * x[c0 + 4u * j + k];
                        } else {
                            s += decodeBlockQuant(word, 4u * j + k, kFormat) * x[c0 + 4u * j + k];
                            s += decodeBlockQuant(word, 16u + 4u * j + k, kFormat) *
                                 x[c0 + 16u + 4u * j + k];
                        }
                    }
                }
                acc += uintBitsToFloat(weights[rowBase + b]) * s;
            }
        }
        const uint words = isBlockFormat(kFormat) ? 0u : (kFormat == kFormatF32 ? pc.cols : (pc.cols + 1u) / 2u);
        for (uint i = tid; i < words; i += gl_WorkGroupSize.x) {
            const uint word = weights[rowBase + i];
            if (kFormat == kFormatF32) {
                acc += uintBitsToFloat(word) * x[xBase + i];
            } else {
                const uint c = 2u * i;
                acc += decodeWeight(word, c, kFormat) * x[xBase + c];
                if (c + 1u < pc.cols)
                    acc += decodeWeight(word, c + 1u, kFormat) * x[xBase + c + 1u];
            }
        }
        partial[tid] = acc;
        barrier();
        for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
            if (tid < stride)
                partial[tid] += partial[tid + stride];
            barrier();
        }
        if (tid == 0u) {
            const uint b = pc.rowOffset + row;
            const uint o = t * pc.outStride + b;
            float v = partial[0];
            if ((pc.flags & 1u) != 0u)
                v += bias[b];
            if ((pc.flags & 2u) != 0u)
                v = geluTanh(v);
            if ((pc.flags & 8u) != 0u)
                v = pc.softCap * safeTanh(v / pc.softCap);
            if ((pc.flags & 4u) != 0u)
                v += outValues[o];
            outValues[o] = v;
        }
        if (kMultiColumn != 0u)
            barrier();  // partial[0] is read before the next column overwrites it
    }
}
