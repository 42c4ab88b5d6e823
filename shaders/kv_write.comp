// SPDX-License-Identifier: Apache-2.0
// kv_write: stores this token's key and value in ring slot position % W and records the slot's
// position (griffin-spec.md §3.1). Recorded after attention_decode, which still reads the slot's
// previous key (position - W is inside the window).
// A batch: token t (k and v rows at t * kvStride, position in params[paramIndex + t]) writes
// only when no later token of the batch maps to its slot (t + W >= tokens), so the writes are
// disjoint and the ring ends as after storing the tokens one by one.
// Dispatch: ceil(kvDim / WG) x tokens x 1; one invocation per (element, token).
// Bindings (set 0):
//   0  float k[kvDim]             read
//   1  float v[kvDim]             read
//   2  float ringKeys[W * kvDim]  write
//   3  float ringValues[W * kvDim] write
//   4  int   slotPositions[W]     write
//   5  ivec4 params[]             read   step parameters (step_params.glsl): the position
// Push constants (KvWritePush, 20 bytes): 0 uint kvDim; 4 uint window; 8 uint paramIndex;
//   12 uint tokens; 16 uint kvStride (floats between token rows).
// Specialization constants: 0 = workgroup size WG.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "step_params.glsl"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer K { float k[]; };
layout(set = 0, binding = 1) readonly buffer V { float v[]; };
layout(set = 0, binding = 2) writeonly buffer RingK { float ringKeys[]; };
layout(set = 0, binding = 3) writeonly buffer RingV { float ringValues[]; };
layout(set = 0, binding = 4) writeonly buffer Slots { int slotPositions[]; };
layout(set = 0, binding = 5) readonly buffer Params { ivec4 params[]; };

layout(push_constant) uniform Push {
    uint kvDim;
    uint window;
    uint paramIndex;
    uint tokens;
    uint kvStride;
} pc;

void main() {
    const uint i = gl_GlobalInvocationID.x;
    const uint t = gl_WorkGroupID.y;
    if (i >= pc.kvDim || t + pc.window < pc.tokens)
        return;
    const int position = params[pc.paramIndex + t][kParamPosition];
    const uint slot = uint(position) % pc.window;
    ringKeys[slot * pc.kvDim + i] = k[t * pc.kvStride + i];
    ringValues[slot * pc.kvDim + i] = v[t * pc.kvStride + i];
    if (i == 0u)
        slotPositions[slot] = position;
}
