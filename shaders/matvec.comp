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
// matvec_subgroup.comp is the same product with a row per subgroup, for devices with subgroup
// arithmetic; this one needs no subgroup support.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "matvec.glsl"

layout(local_size_x_id = 0) in;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= pc.rows)
        return;  // uniform across the workgroup: no barrier is skipped by part of it
    const uint tid = gl_LocalInvocationID.x;
    const uint rowBase = row * pc.strideWords;
    const uint columns = kMultiColumn != 0u ? pc.columns : 1u;
    for (uint t = 0u; t < columns; ++t) {
        partial[tid] = rowDot(rowBase, t * pc.xStride, tid, gl_WorkGroupSize.x);
        barrier();
        for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
            if (tid < stride)
                partial[tid] += partial[tid + stride];
            barrier();
        }
        if (tid == 0u)
            storeRow(row, t, partial[0]);
        if (kMultiColumn != 0u)
            barrier();  // partial[0] is read before the next column overwrites it
    }
}
