// SPDX-License-Identifier: Apache-2.0
// conv1d_step: one decode step of the depthwise causal Conv1D (griffin-spec.md §2.6.1), and the
// conv tail update. With K taps and the tail holding the K-1 previous inputs, oldest first:
//   out[c] = bias[c] + sum_{k<K-1} w[k, c] * tail[k, c] + w[K-1, c] * x[c]   (k ascending)
//   tail <- tail[1..K-2] ++ x
// Each invocation owns channel c of the tail, so the in-place shift has no race, and runs the
// batch's tokens in order (row t of x and out at t * stride): the prefill scan over time.
// Dispatch: ceil(channels / WG) x 1 x 1; one invocation per channel.
// Bindings (set 0):
//   0  float x[channels]                 read   (linear_x output)
//   1  float weight[K, channels]         read
//   2  float bias[channels]              read
//   3  float tail[K - 1, channels]       read/write
//   4  float out[channels]               write
// Push constants (Conv1dPush, 16 bytes): 0 uint channels; 4 uint convWidth (K >= 1);
//   8 uint tokens; 12 uint stride (floats between token rows).
// Specialization constants: 0 = workgroup size WG.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(set = 0, binding = 3) buffer Tail { float tail[]; };
layout(set = 0, binding = 4) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint channels;
    uint convWidth;
    uint tokens;
    uint stride;
} pc;

void main() {
    const uint c = gl_GlobalInvocationID.x;
    if (c >= pc.channels)
        return;
    const uint n = pc.channels;
    const uint last = pc.convWidth - 1u;
    for (uint t = 0u; t < pc.tokens; ++t) {
        const float current = x[t * pc.stride + c];
        float acc = bias[c];
        for (uint k = 0u; k < last; ++k) acc += weight[k * n + c] * tail[k * n + c];
        acc += weight[last * n + c] * current;
        outValues[t * pc.stride + c] = acc;
        if (last == 0u)
            continue;
        for (uint k = 0u; k + 1u < last; ++k) tail[k * n + c] = tail[(k + 1u) * n + c];
        tail[(last - 1u) * n + c] = current;
    }
}
