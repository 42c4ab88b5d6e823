// SPDX-License-Identifier: Apache-2.0
// What matvec.comp and matvec_subgroup.comp share: bindings, push constants, one invocation's
// share of a row's dot product, and the epilogue (see matvec.comp's header).
#ifndef GRIFFIN_MATVEC_GLSL
#define GRIFFIN_MATVEC_GLSL

#include "math.glsl"
#include "weights.glsl"

layout(constant_id = 1) const uint kFormat = 0u;
layout(constant_id = 2) const uint kMultiColumn = 0u;

layout(set = 0, binding = 0) readonly buffer Weights { uint weights[]; };
layout(set = 0, binding = 1) readonly buffer X { float x[]; };
layout(set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(set = 0, binding = 3) buffer Out { float outValues[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint strideWords;
    uint flags;
    float softCap;
    uint rowOffset;
    uint columns;
    uint xStride;
    uint outStride;
} pc;

// The sum over the row's elements that lane `lane` of `lanes` owns (blocks of 32 for the block
// formats, words otherwise), against x vector xBase. Scalar accumulator (vulkan-backend.md §1).
float rowDot(uint rowBase, uint xBase, uint lane, uint lanes) {
    float acc = 0.0;
    if (isBlockFormat(kFormat)) {
        // One block per lane per pass: scale word, then its quant words.
        const uint nb = pc.cols / 32u;
        const uint qWords = blockQuantWords(kFormat);
        for (uint b = lane; b < nb; b += lanes) {
            const uint quantBase = rowBase + nb + b * qWords;
            const uint c0 = xBase + b * 32u;
            float s = 0.0;
            for (uint j = 0u; j < qWords; ++j) {
                const uint word = weights[quantBase + j];
                for (uint k = 0u; k < 4u; ++k) {
                    if (kFormat == kFormatQ8_0) {
                        s += decodeBlockQuant(word, 4u * j + k, kFormat) * x[c0 + 4u * j + k];
                    } else {
                        s += decodeBlockQuant(word, 4u * j + k, kFormat) * x[c0 + 4u * j + k];
                        s += decodeBlockQuant(word, 16u + 4u * j + k, kFormat) *
                             x[c0 + 16u + 4u * j + k];
                    }
                }
            }
            acc += uintBitsToFloat(weights[rowBase + b]) * s;
        }
        return acc;
    }
    const uint words = kFormat == kFormatF32 ? pc.cols : (pc.cols + 1u) / 2u;
    for (uint i = lane; i < words; i += lanes) {
        const uint word = weights[rowBase + i];
        if (kFormat == kFormatF32) {
            acc += uintBitsToFloat(word) * x[xBase + i];
        } else {
            const uint c = 2u * i;
            acc += decodeWeight(word, c, kFormat) * x[xBase + c];
            if (c + 1u < pc.cols)
                acc += decodeWeight(word, c + 1u, kFormat) * x[xBase + c + 1u];
        }
    }
    return acc;
}

// Bias, activation, soft cap and the residual add; writes row `row` of column t.
void storeRow(uint row, uint t, float v) {
    const uint b = pc.rowOffset + row;
    const uint o = t * pc.outStride + b;
    if ((pc.flags & 1u) != 0u)
        v += bias[b];
    if ((pc.flags & 2u) != 0u)
        v = geluTanh(v);
    if ((pc.flags & 8u) != 0u)
        v = pc.softCap * safeTanh(v / pc.softCap);
    if ((pc.flags & 4u) != 0u)
        v += outValues[o];
    outValues[o] = v;
}

#endif
