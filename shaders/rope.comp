// SPDX-License-Identifier: Apache-2.0
// rope: rotates the first ropeDims of each head in place, pairing dim i with i + ropeDims/2
// (griffin-spec.md §2.7):
//   v[i] = v[i] * cos_i - v[i + half] * sin_i,  v[i + half] = v[i + half] * cos_i + v[i] * sin_i
// cos/sin come from a table the host computes in double from the float32 angle
// float(position) * invFreq[i] (griffin-spec.md §7.4: never GPU sin/cos of large angles).
// Dispatch: ceil(numHeads * ropeDims/2 / WG) x tokens x 1; one invocation per (head, pair,
// token); token t's vector starts at t * vStride, its table row at tableOffset + t * ropeDims.
// Bindings (set 0):
//   0  float v[numHeads * headDim]  read/write
//   1  float table[]                read  (cos_0, sin_0, cos_1, sin_1, ...) from tableOffset
// Push constants (RopePush, 20 bytes): 0 uint numHeads; 4 uint headDim; 8 uint ropeDims;
//   12 uint tableOffset (in floats); 16 uint vStride (floats between token rows).
// Specialization constants: 0 = workgroup size WG.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) buffer V { float v[]; };
layout(set = 0, binding = 1) readonly buffer Table { float table[]; };

layout(push_constant) uniform Push {
    uint numHeads;
    uint headDim;
    uint ropeDims;
    uint tableOffset;
    uint vStride;
} pc;

void main() {
    const uint halfDims = pc.ropeDims / 2u;
    const uint id = gl_GlobalInvocationID.x;
    if (id >= pc.numHeads * halfDims)
        return;
    const uint head = id / halfDims, i = id - head * halfDims;
    const uint t = gl_WorkGroupID.y;
    const uint row = pc.tableOffset + t * pc.ropeDims;
    const float c = table[row + 2u * i];
    const float s = table[row + 2u * i + 1u];
    const uint a = t * pc.vStride + head * pc.headDim + i, b = a + halfDims;
    const float first = v[a], second = v[b];
    v[a] = first * c - second * s;
    v[b] = second * c + first * s;
}
