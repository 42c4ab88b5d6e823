// SPDX-License-Identifier: Apache-2.0
// rope: rotates the first ropeDims of each head in place, pairing dim i with i + ropeDims/2
// (griffin-spec.md §2.7):
//   v[i] = v[i] * cos_i - v[i + half] * sin_i,  v[i + half] = v[i + half] * cos_i + v[i] * sin_i
// cos/sin come from a table the host computes in double from the float32 angle
// float(position) * invFreq[i] (griffin-spec.md §7.4: never GPU sin/cos of large angles).
// Dispatch: ceil(numHeads * ropeDims/2 / WG) x 1 x 1; one invocation per (head, pair).
// Bindings (set 0):
//   0  float v[numHeads * headDim]  read/write
//   1  float table[]                read  (cos_0, sin_0, cos_1, sin_1, ...) from tableOffset
// Push constants (RopePush, 16 bytes): 0 uint numHeads; 4 uint headDim; 8 uint ropeDims;
//   12 uint tableOffset (in floats).
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
} pc;

void main() {
    const uint halfDims = pc.ropeDims / 2u;
    const uint id = gl_GlobalInvocationID.x;
    if (id >= pc.numHeads * halfDims)
        return;
    const uint head = id / halfDims, i = id - head * halfDims;
    const float c = table[pc.tableOffset + 2u * i];
    const float s = table[pc.tableOffset + 2u * i + 1u];
    const uint a = head * pc.headDim + i, b = a + halfDims;
    const float first = v[a], second = v[b];
    v[a] = first * c - second * s;
    v[b] = second * c + first * s;
}
