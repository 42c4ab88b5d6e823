// SPDX-License-Identifier: Apache-2.0
// attention_decode: local multi-query attention of one query token at `position` over the K/V
// ring plus the token's own key (griffin-spec.md §2.7). Window semantics: the query sees keys at
// positions position-W .. position, i.e. ring slots whose position p satisfies p >= 0 (-1 marks
// an empty slot) and p >= position - W, plus its own key. For head h (KV head h / (H / KV)):
//   s_j = dot(q_h, k_j) * scale; p_j = exp(s_j - max) / sum; o_h = sum_j p_j v_j
// Keys are visited as ring slots 0..W-1, then the current key (the CPU reference's order).
// Dispatch: numHeads x 1 x 1; one workgroup per query head, WG invocations.
// Bindings (set 0):
//   0  float q[H * hd]               read
//   1  float k[KV * hd]              read   this token's post-RoPE key
//   2  float v[KV * hd]              read
//   3  float ringKeys[W * KV * hd]   read
//   4  float ringValues[W * KV * hd] read
//   5  int   slotPositions[W]        read
//   6  float scores[H * (W + 1)]     scratch (read/write)
//   7  float out[H * hd]             write
// Push constants (AttentionPush, 24 bytes): 0 uint numHeads; 4 uint numKvHeads; 8 uint headDim;
//   12 uint window; 16 int position; 20 float scale.
// Specialization constants: 0 = workgroup size WG (power of two). Shared memory: 4 * WG bytes.
// TODO(#6): split the window over workgroups and reduce (flash decoding); tiled prefill.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer Q { float q[]; };
layout(set = 0, binding = 1) readonly buffer K { float k[]; };
layout(set = 0, binding = 2) readonly buffer V { float v[]; };
layout(set = 0, binding = 3) readonly buffer RingK { float ringKeys[]; };
layout(set = 0, binding = 4) readonly buffer RingV { float ringValues[]; };
layout(set = 0, binding = 5) readonly buffer Slots { int slotPositions[]; };
layout(set = 0, binding = 6) coherent buffer Scores { float scores[]; };
layout(set = 0, binding = 7) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint numHeads;
    uint numKvHeads;
    uint headDim;
    uint window;
    int position;
    float scale;
} pc;

shared float partial[gl_WorkGroupSize.x];

bool keyVisible(uint j) {
    if (j == pc.window)
        return true;
    const int p = slotPositions[j];
    return p >= 0 && p >= pc.position - int(pc.window);
}

// Tree reduction over the workgroup: op 0 = max, 1 = sum. Every invocation must call it.
float reduceWorkgroup(float value, uint op) {
    const uint tid = gl_LocalInvocationID.x;
    partial[tid] = value;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
        if (tid < stride) {
            partial[tid] = op == 0u ? max(partial[tid], partial[tid + stride])
                                    : partial[tid] + partial[tid + stride];
        }
        barrier();
    }
    const float result = partial[0];
    barrier();
    return result;
}

void main() {
    const uint head = gl_WorkGroupID.x;
    const uint tid = gl_LocalInvocationID.x;
    const uint hd = pc.headDim, kvDim = pc.numKvHeads * hd;
    const uint kvHead = head / (pc.numHeads / pc.numKvHeads);
    const uint keys = pc.window + 1u;
    const uint qBase = head * hd, sBase = head * keys;

    float localMax = -3.0e38;
    for (uint j = tid; j < keys; j += gl_WorkGroupSize.x) {
        if (!keyVisible(j))
            continue;
        float dotp = 0.0;
        if (j == pc.window) {
            for (uint i = 0u; i < hd; ++i) dotp += q[qBase + i] * k[kvHead * hd + i];
        } else {
            const uint kBase = j * kvDim + kvHead * hd;
            for (uint i = 0u; i < hd; ++i) dotp += q[qBase + i] * ringKeys[kBase + i];
        }
        const float s = dotp * pc.scale;
        scores[sBase + j] = s;
        localMax = max(localMax, s);
    }
    const float maxScore = reduceWorkgroup(localMax, 0u);

    float localSum = 0.0;
    for (uint j = tid; j < keys; j += gl_WorkGroupSize.x) {
        if (!keyVisible(j))
            continue;
        const float e = exp(scores[sBase + j] - maxScore);
        scores[sBase + j] = e;
        localSum += e;
    }
    const float sum = reduceWorkgroup(localSum, 1u);
    memoryBarrierBuffer();
    barrier();

    for (uint i = tid; i < hd; i += gl_WorkGroupSize.x) {
        float acc = 0.0;
        for (uint j = 0u; j < keys; ++j) {
            if (!keyVisible(j))
                continue;
            const float value = j == pc.window ? v[kvHead * hd + i]
                                               : ringValues[j * kvDim + kvHead * hd + i];
            acc += (scores[sBase + j] / sum) * value;
        }
        outValues[qBase + i] = acc;
    }
}
