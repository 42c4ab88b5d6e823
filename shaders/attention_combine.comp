// SPDX-License-Identifier: Apache-2.0
// attention_combine: merges attention_decode's per-split partials of each head into the output:
//   M = max over splits with l > 0 of m_s; L = sum_s l_s exp(m_s - M);
//   out_h = sum_s o_s exp(m_s - M) / L
// Splits are visited in order (no atomics): results repeat bit for bit. The current key is always
// visible, so L > 0.
// Dispatch: numHeads x tokens x 1; WG invocations per (head, token), one per output element
// (strided); token t's output row starts at t * outStride.
// Bindings (set 0):
//   0  float partials[T * H * splits * (hd + 2)] read  (attention_decode.comp)
//   1  float out[T rows of H * hd]               write
// Push constants (AttentionCombinePush, 16 bytes): 0 uint headDim; 4 uint splits;
//   8 uint numHeads; 12 uint outStride.
// Specialization constants: 0 = workgroup size WG.
#version 450

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) readonly buffer Partials { float partials[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint headDim;
    uint splits;
    uint numHeads;
    uint outStride;
} pc;

void main() {
    const uint head = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    const uint hd = pc.headDim, stride = hd + 2u;
    const uint base = (t * pc.numHeads + head) * pc.splits * stride;
    float m = -3.0e38;
    for (uint s = 0u; s < pc.splits; ++s) {
        if (partials[base + s * stride + 1u] > 0.0)
            m = max(m, partials[base + s * stride]);
    }
    float total = 0.0;
    for (uint s = 0u; s < pc.splits; ++s) {
        const float l = partials[base + s * stride + 1u];
        if (l > 0.0)
            total += l * exp(partials[base + s * stride] - m);
    }
    for (uint i = gl_LocalInvocationID.x; i < hd; i += gl_WorkGroupSize.x) {
        float acc = 0.0;
        for (uint s = 0u; s < pc.splits; ++s) {
            if (partials[base + s * stride + 1u] > 0.0)
                acc += partials[base + s * stride + 2u + i] * exp(partials[base + s * stride] - m);
        }
        outValues[t * pc.outStride + head * hd + i] = acc / total;
    }
}
