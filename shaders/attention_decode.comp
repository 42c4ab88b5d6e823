// SPDX-License-Identifier: Apache-2.0
// attention_decode: local multi-query attention of one query token at `position` over the K/V
// ring plus the token's own key (griffin-spec.md §2.7), split over the window (flash decoding):
// this pass reduces each split of the keys on its own, attention_combine merges the splits.
// Window semantics: the query sees keys at positions position-W .. position, i.e. ring slots
// whose position p satisfies p >= 0 (-1 marks an empty slot) and p >= position - W, plus its own
// key. Keys are numbered j = 0..W: ring slots 0..W-1, then the current key (j = W).
// For head h (KV head h / (H / KV)) and split s (keys [s * splitKeys, (s + 1) * splitKeys)):
//   s_j = dot(q_h, k_j) * scale; m = max_j s_j; l = sum_j exp(s_j - m); o = sum_j exp(s_j - m) v_j
// and partial (h, s) = (m, l, o[hd]); l = 0 when the split sees no key.
// A batch of tokens (prefill) runs in one dispatch, before any of them is stored in the ring:
// token t (z = t; q, k and v rows at t * qStride / t * kvStride; position in
// params[paramIndex + t]) sees in slot j what one-by-one decoding would have left there, the
// latest position p < its own with p = j (mod W): an earlier token of the batch when
// p >= the batch's first position, else the ring's key. Keys are visited in the same order as
// a single token's, so the results equal step-by-step decoding bit for bit.
// Dispatch: numHeads x splits x tokens; WG invocations per (head, split, token).
// Bindings (set 0):
//   0  float q[H * hd]               read
//   1  float k[KV * hd]              read   this token's post-RoPE key
//   2  float v[KV * hd]              read
//   3  float ringKeys[W * KV * hd]   read
//   4  float ringValues[W * KV * hd] read
//   5  int   slotPositions[W]        read
//   6  float scores[T * H * (W + 1)] scratch (read/write)
//   7  float partials[T * H * splits * (hd + 2)] write: per (token, head, split) m, l, o[hd]
//   8  ivec4 params[]                read   step parameters (step_params.glsl): the position
// Push constants (AttentionPush, 36 bytes): 0 uint numHeads; 4 uint numKvHeads; 8 uint headDim;
//   12 uint window; 16 uint paramIndex (token 0's); 20 float scale; 24 uint splitKeys;
//   28 uint qStride; 32 uint kvStride (floats between token rows).
// Specialization constants: 0 = workgroup size WG (power of two). Shared memory: 4 * WG bytes.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "step_params.glsl"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer Q { float q[]; };
layout(set = 0, binding = 1) readonly buffer K { float k[]; };
layout(set = 0, binding = 2) readonly buffer V { float v[]; };
layout(set = 0, binding = 3) readonly buffer RingK { float ringKeys[]; };
layout(set = 0, binding = 4) readonly buffer RingV { float ringValues[]; };
layout(set = 0, binding = 5) readonly buffer Slots { int slotPositions[]; };
layout(set = 0, binding = 6) coherent buffer Scores { float scores[]; };
layout(set = 0, binding = 7) writeonly buffer Partials { float partials[]; };
layout(set = 0, binding = 8) readonly buffer Params { ivec4 params[]; };

layout(push_constant) uniform Push {
    uint numHeads;
    uint numKvHeads;
    uint headDim;
    uint window;
    uint paramIndex;
    float scale;
    uint splitKeys;
    uint qStride;
    uint kvStride;
} pc;

shared float partial[gl_WorkGroupSize.x];

// Where key j of token t comes from: -1 = the ring's slot j, else the batch row holding it.
int batchRow(uint j, uint t, int position, int batchStart) {
    if (j == pc.window)
        return int(t);
    const int back = position - 1 - int(j);
    if (back < 0)
        return -1;
    const int p = position - 1 - back % int(pc.window);
    return p >= batchStart ? p - batchStart : -1;
}

bool keyVisible(uint j, int row, int position) {
    if (row >= 0)
        return true;  // the current key, or an earlier token of the batch: inside the window
    const int p = slotPositions[j];
    return p >= 0 && p >= position - int(pc.window);
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
    const uint head = gl_WorkGroupID.x, split = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    const uint tid = gl_LocalInvocationID.x;
    const uint hd = pc.headDim, kvDim = pc.numKvHeads * hd;
    const uint kvHead = head / (pc.numHeads / pc.numKvHeads);
    const uint keys = pc.window + 1u;
    const uint first = split * pc.splitKeys, end = min(keys, first + pc.splitKeys);
    const int position = params[pc.paramIndex + t][kParamPosition];
    const int batchStart = params[pc.paramIndex][kParamPosition];
    const uint row = t * pc.numHeads + head;
    const uint qBase = t * pc.qStride + head * hd, sBase = row * keys;
    const uint pBase = (row * gl_NumWorkGroups.y + split) * (hd + 2u);

    float localMax = -3.0e38;
    bool any = false;
    for (uint j = first + tid; j < end; j += gl_WorkGroupSize.x) {
        const int from = batchRow(j, t, position, batchStart);
        if (!keyVisible(j, from, position))
            continue;
        const uint kBase = from >= 0 ? uint(from) * pc.kvStride + kvHead * hd
                                     : j * kvDim + kvHead * hd;
        float dotp = 0.0;
        if (from >= 0) {
            for (uint i = 0u; i < hd; ++i) dotp += q[qBase + i] * k[kBase + i];
        } else {
            for (uint i = 0u; i < hd; ++i) dotp += q[qBase + i] * ringKeys[kBase + i];
        }
        const float s = dotp * pc.scale;
        scores[sBase + j] = s;
        localMax = max(localMax, s);
        any = true;
    }
    const float maxScore = reduceWorkgroup(localMax, 0u);
    const float seen = reduceWorkgroup(any ? 1.0 : 0.0, 1u);

    float localSum = 0.0;
    for (uint j = first + tid; j < end; j += gl_WorkGroupSize.x) {
        if (!keyVisible(j, batchRow(j, t, position, batchStart), position))
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
        for (uint j = first; j < end; ++j) {
            const int from = batchRow(j, t, position, batchStart);
            if (!keyVisible(j, from, position))
                continue;
            const float value = from >= 0 ? v[uint(from) * pc.kvStride + kvHead * hd + i]
                                          : ringValues[j * kvDim + kvHead * hd + i];
            acc += scores[sBase + j] * value;
        }
        partials[pBase + 2u + i] = acc;
    }
    if (tid == 0u) {
        partials[pBase] = seen > 0.0 ? maxScore : 0.0;
        partials[pBase + 1u] = seen > 0.0 ? sum : 0.0;
    }
}
