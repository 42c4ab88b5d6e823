// SPDX-License-Identifier: Apache-2.0
// rms_norm: y = x / sqrt(mean(x^2) + eps) * gain (griffin-spec.md §2.4; gain = 1 + weight is
// precomputed at load). Sums in float32.
// Dispatch: rows x 1 x 1; one workgroup of WG invocations per row of n values (row r at
// r * stride in x and y).
// Bindings (set 0):
//   0  float x[n]     read
//   1  float gain[n]  read
//   2  float y[n]     write (may not alias x)
// Push constants (RmsNormPush, 12 bytes): 0 uint n; 4 float eps; 8 uint stride (floats).
// Specialization constants: 0 = workgroup size WG (a power of two, <= 1024).
// Shared memory: 4 * WG bytes.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer Gain { float gain[]; };
layout(set = 0, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint n;
    float eps;
    uint stride;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint base = gl_WorkGroupID.x * pc.stride;
    float sumSq = 0.0;
    for (uint i = tid; i < pc.n; i += gl_WorkGroupSize.x) sumSq += x[base + i] * x[base + i];
    partial[tid] = sumSq;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
        if (tid < stride)
            partial[tid] += partial[tid + stride];
        barrier();
    }
    const float inv = 1.0 / sqrt(partial[0] / float(pc.n) + pc.eps);
    for (uint i = tid; i < pc.n; i += gl_WorkGroupSize.x)
        y[base + i] = x[base + i] * inv * gain[i];
}
