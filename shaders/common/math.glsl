// SPDX-License-Identifier: Apache-2.0
// Numerics shared by the shaders, written for float32 accuracy on every driver
// (griffin-spec.md §7.4: GLSL tanh/exp accuracy is implementation-defined, and tanh built as
// (e^2x - 1)/(e^2x + 1) overflows to NaN for large |x|).
#ifndef GRIFFIN_MATH_GLSL
#define GRIFFIN_MATH_GLSL

// tanh with the argument clamped to [-15, 15], where tanh is +-1 in float32.
float safeTanh(float x) {
    return tanh(clamp(x, -15.0, 15.0));
}

// griffin-spec.md §2.1: GeLU, tanh approximation.
float geluTanh(float x) {
    const float inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    return 0.5 * x * (1.0 + safeTanh(inner));
}

float sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}

// exp(x) - 1 without cancellation near 0: a Taylor polynomial for |x| < 0.1 (error below
// x^7/5040), exp(x) - 1 elsewhere.
float expMinusOne(float x) {
    if (abs(x) < 0.1) {
        return x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 *
                    (1.0 + x / 5.0 * (1.0 + x / 6.0)))));
    }
    return exp(x) - 1.0;
}

#endif
