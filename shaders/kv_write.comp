// SPDX-License-Identifier: Apache-2.0
// kv_write: stores this token's key and value in ring slot position % W and records the slot's
// position (griffin-spec.md §3.1). Recorded after attention_decode, which still reads the slot's
// previous key (position - W is inside the window).
// Dispatch: ceil(kvDim / WG) x 1 x 1; one invocation per element.
// Bindings (set 0):
//   0  float k[kvDim]             read
//   1  float v[kvDim]             read
//   2  float ringKeys[W * kvDim]  write
//   3  float ringValues[W * kvDim] write
//   4  int   slotPositions[W]     write
// Push constants (KvWritePush, 12 bytes): 0 uint kvDim; 4 uint window; 8 int position.
// Specialization constants: 0 = workgroup size WG.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer K { float k[]; };
layout(set = 0, binding = 1) readonly buffer V { float v[]; };
layout(set = 0, binding = 2) writeonly buffer RingK { float ringKeys[]; };
layout(set = 0, binding = 3) writeonly buffer RingV { float ringValues[]; };
layout(set = 0, binding = 4) writeonly buffer Slots { int slotPositions[]; };

layout(push_constant) uniform Push {
    uint kvDim;
    uint window;
    int position;
} pc;

void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= pc.kvDim)
        return;
    const uint slot = uint(pc.position) % pc.window;
    ringKeys[slot * pc.kvDim + i] = k[i];
    ringValues[slot * pc.kvDim + i] = v[i];
    if (i == 0u)
        slotPositions[slot] = pc.position;
}
