// SPDX-License-Identifier: Apache-2.0
// argmax: the greedy choice over logits[0, n) without reading the row back: the first maximum
// (lowest index on ties) and its softmax probability 1 / sum_j exp(l_j - max).
// Two dispatches, told apart by `stage`:
//   stage 0: `groups` workgroups; group g reduces logits [g * span, min(n, (g + 1) * span)) to
//            partials[g] = (max, index, sum of exp(l - max), 0).
//   stage 1: one workgroup combines partials[0, groups): M = the largest max (lowest index on
//            ties), sum = sum_g sum_g * exp(max_g - M); result = (index, 1 / sum).
// Every reduction runs in a fixed order (no atomics), so results repeat bit for bit.
// Bindings (set 0):
//   0  float logits[n]        read
//   1  Partial partials[groups] write (stage 0), read (stage 1); 16 bytes each
//   2  uint  result[2]        write (stage 1): [0] the index, [1] the probability's float bits
// Push constants (ArgmaxPush, 16 bytes): 0 uint n; 4 uint span; 8 uint groups; 12 uint stage.
// Specialization constants: 0 = workgroup size WG (power of two). Shared memory: 12 * WG bytes.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer Logits { float logits[]; };
struct Partial {
    float maxValue;
    uint index;  // kNone: the group saw no logit
    float sum;   // of exp(l - maxValue)
    float unused;
};

layout(set = 0, binding = 1) buffer Partials { Partial partials[]; };
layout(set = 0, binding = 2) writeonly buffer Result { uint result[]; };

layout(push_constant) uniform Push {
    uint n;
    uint span;
    uint groups;
    uint stage;
} pc;

shared float sharedMax[gl_WorkGroupSize.x];
shared uint sharedIndex[gl_WorkGroupSize.x];
shared float sharedSum[gl_WorkGroupSize.x];

const uint kNone = 0xffffffffu;

// Whether (value a at index ia) ranks before (b at ib): larger value, then lower index; an
// empty entry (index kNone) ranks last.
bool before(float a, uint ia, float b, uint ib) {
    if (ia == kNone)
        return false;
    if (ib == kNone)
        return true;
    return a > b || (a == b && ia < ib);
}

// Tree reduction of (max, index) over the workgroup; every invocation gets the winner.
void reduceMax(inout float value, inout uint index) {
    const uint tid = gl_LocalInvocationID.x;
    sharedMax[tid] = value;
    sharedIndex[tid] = index;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
        if (tid < stride &&
            before(sharedMax[tid + stride], sharedIndex[tid + stride], sharedMax[tid],
                   sharedIndex[tid])) {
            sharedMax[tid] = sharedMax[tid + stride];
            sharedIndex[tid] = sharedIndex[tid + stride];
        }
        barrier();
    }
    value = sharedMax[0];
    index = sharedIndex[0];
    barrier();
}

float reduceSum(float value) {
    const uint tid = gl_LocalInvocationID.x;
    sharedSum[tid] = value;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2u; stride > 0u; stride /= 2u) {
        if (tid < stride)
            sharedSum[tid] += sharedSum[tid + stride];
        barrier();
    }
    const float total = sharedSum[0];
    barrier();
    return total;
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    if (pc.stage == 0u) {
        const uint first = gl_WorkGroupID.x * pc.span;
        const uint end = min(pc.n, first + pc.span);
        float best = 0.0;
        uint bestIndex = kNone;
        for (uint i = first + tid; i < end; i += gl_WorkGroupSize.x) {
            if (before(logits[i], i, best, bestIndex)) {
                best = logits[i];
                bestIndex = i;
            }
        }
        reduceMax(best, bestIndex);
        float sum = 0.0;
        if (bestIndex != kNone) {
            for (uint i = first + tid; i < end; i += gl_WorkGroupSize.x) sum += exp(logits[i] - best);
        }
        sum = reduceSum(sum);
        if (tid == 0u)
            partials[gl_WorkGroupID.x] = Partial(best, bestIndex, sum, 0.0);
        return;
    }
    float best = 0.0;
    uint bestIndex = kNone;
    for (uint g = tid; g < pc.groups; g += gl_WorkGroupSize.x) {
        const Partial p = partials[g];
        if (before(p.maxValue, p.index, best, bestIndex)) {
            best = p.maxValue;
            bestIndex = p.index;
        }
    }
    reduceMax(best, bestIndex);
    float sum = 0.0;
    for (uint g = tid; g < pc.groups; g += gl_WorkGroupSize.x) {
        const Partial p = partials[g];
        if (p.index != kNone)
            sum += p.sum * exp(p.maxValue - best);
    }
    sum = reduceSum(sum);
    if (tid == 0u) {
        result[0] = bestIndex;
        result[1] = floatBitsToUint(1.0 / sum);
    }
}
