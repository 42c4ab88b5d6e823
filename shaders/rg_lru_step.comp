// SPDX-License-Identifier: Apache-2.0
// rg_lru_step: one decode step of the RG-LRU (griffin-spec.md §2.6.2) fused with the branch gate:
//   gx = sigmoid(gateXPre), ga = sigmoid(gateAPre), in = x * gx
//   reset (position 0): h = in
//   else: logA = logAConst * ga, h = exp(logA) * h + sqrt(-expm1(2 logA)) * in
//   out = h * y                    (y = gelu(linear_y(u)), computed by matvec)
// The state h stays float32. Each invocation owns one channel of h and runs the batch's tokens
// in order (row t of x, the gates, y and out at t * stride; token t's position in
// params[paramIndex + t]): the prefill scan over time.
// Dispatch: ceil(channels / WG) x 1 x 1; one invocation per channel.
// Bindings (set 0):
//   0  float x[channels]         read   (conv1d output)
//   1  float gateXPre[channels]  read
//   2  float gateAPre[channels]  read
//   3  float logA[channels]      read   (-8 * softplus(a_param), precomputed)
//   4  float h[channels]         read/write
//   5  float y[channels]         read
//   6  float out[channels]       write
//   7  ivec4 params[]            read   step parameters (step_params.glsl): reset at position 0
// Push constants (RgLruPush, 16 bytes): 0 uint channels; 4 uint paramIndex (token 0's);
//   8 uint tokens; 12 uint stride (floats between token rows).
// Specialization constants: 0 = workgroup size WG.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "math.glsl"
#include "step_params.glsl"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer GateX { float gateXPre[]; };
layout(set = 0, binding = 2) readonly buffer GateA { float gateAPre[]; };
layout(set = 0, binding = 3) readonly buffer LogA { float logAConst[]; };
layout(set = 0, binding = 4) buffer H { float h[]; };
layout(set = 0, binding = 5) readonly buffer Y { float y[]; };
layout(set = 0, binding = 6) writeonly buffer Out { float outValues[]; };
layout(set = 0, binding = 7) readonly buffer Params { ivec4 params[]; };

layout(push_constant) uniform Push {
    uint channels;
    uint paramIndex;
    uint tokens;
    uint stride;
} pc;

void main() {
    const uint c = gl_GlobalInvocationID.x;
    if (c >= pc.channels)
        return;
    float state = h[c];
    for (uint t = 0u; t < pc.tokens; ++t) {
        const uint at = t * pc.stride + c;
        const float gatedInput = x[at] * sigmoid(gateXPre[at]);
        if (params[pc.paramIndex + t][kParamPosition] != 0) {
            const float logA = logAConst[c] * sigmoid(gateAPre[at]);
            const float a = exp(logA);
            const float mult = sqrt(-expMinusOne(2.0 * logA));
            state = a * state + mult * gatedInput;
        } else {
            state = gatedInput;
        }
        outValues[at] = state * y[at];
    }
    h[c] = state;
}
