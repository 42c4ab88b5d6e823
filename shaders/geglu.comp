// SPDX-License-Identifier: Apache-2.0
// geglu: out[i] = gelu(gate[i]) * up[i] (griffin-spec.md §2.5, GeLU with the tanh approximation).
// Dispatch: ceil(n / WG) x 1 x 1; one invocation per element.
// Bindings (set 0):
//   0  float gate[n]  read
//   1  float up[n]    read
//   2  float out[n]   write
// Push constants (GegluPush, 4 bytes): 0 uint n.
// Specialization constants: 0 = workgroup size WG.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "math.glsl"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer Gate { float gate[]; };
layout(set = 0, binding = 1) readonly buffer Up { float up[]; };
layout(set = 0, binding = 2) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint n;
} pc;

void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n)
        return;
    outValues[i] = geluTanh(gate[i]) * up[i];
}
