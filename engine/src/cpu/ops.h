// SPDX-License-Identifier: Apache-2.0
// The CPU reference operations of the Griffin forward pass. Plain loops in float32; the matrix
// products are split over output rows across the thread pool. Each op cites the spec section
// whose formula it implements.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>

#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "weights.h"

namespace griffin::cpu {

// griffin-spec.md §2.1: GeLU, tanh approximation. The tanh here is our own (tanhApprox in
// ops.cpp, absolute error under 2e-7) so that the loops below vectorise: libm's tanhf, one call
// per value, was a tenth of a prefill.
float gelu(float x);
// x[i] = gelu(x[i]) for i < n.
void geluInPlace(float* x, int64_t n);
// gate[i] = gelu(gate[i]) * up[i] for i < n (GeGLU).
void geluTimes(float* gate, const float* up, int64_t n);

// griffin-spec.md §2.6: the causal Conv1D of the recurrent block over channels [c0, c1) of T
// rows of L channels. Its input is [tail (K-1 rows, oldest first) ++ x (T rows)];
// out[t][c] = bias[c] + sum over taps k < K of w[k * L + c] * input[t + k][c] (tap K-1 is the
// current row), summed in that order. The tail then becomes the input's last K-1 rows.
void conv1dRows(const float* w, const float* bias, int64_t K, int64_t L, float* tail,
                const float* x, int64_t T, int64_t c0, int64_t c1, float* out);

// y[t, o] = sum_i x[t, i] * w[o, i] + bias[o] for t < rows. `bias` may be null.
// x: [rows, w.cols], y: [rows, w.rows]; y must not alias x.
// `shared`, when given, carries x's quantized activations from one product to the next with the
// same x (matmulAll's weights of mixed types): they are made only when the weight type needs
// different ones.
void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t rows, const float* bias,
            float* y, QuantizedActivations* shared = nullptr);

// One product of matmulAll: y = x w^T + bias (bias may be null). `after`, when given, is called
// with each range [r0, r1) of output rows once those columns of y are final for every row of x,
// on the thread that computed them (an elementwise step fused into the product: no pass of its
// own over the pool, and y still in cache).
struct Product {
    const Matrix* w;
    const float* bias;
    float* y;
    const std::function<void(int64_t, int64_t)>* after = nullptr;
};
// matmul() for several weights that read the same x [rows, cols], as one split of the pool over
// all their rows: one start and one finish for the pool instead of one per product. Weights of
// different types run one after another.
void matmulAll(ThreadPool& pool, std::initializer_list<Product> products, const float* x,
               int64_t rows);
// matmulAll for products with the same number of output rows, split by row instead: each range
// of rows runs through every product in turn, then after(r0, r1) sees those rows of all of
// them final (GeGLU: gelu(gate) * up, with no pass of its own). The products' own `after` steps
// are not called.
void matmulByRow(ThreadPool& pool, std::initializer_list<Product> products, const float* x,
                 int64_t rows, const std::function<void(int64_t, int64_t)>& after);

// griffin-spec.md §2.4: y = x / sqrt(mean(x^2) + eps) * gain, per row of n values.
void rmsNorm(const float* x, const float* gain, int64_t rows, int64_t n, double eps, float* y);

// griffin-spec.md §2.6.2: block-diagonal gate, y = b + x_block . w[block] ([in, out] layout),
// one row of `w.rows` values.
void blockDiagonal(const Matrix& w, const float* bias, const float* x, float* y);

// griffin-spec.md §2.7: rotates the first `ropeDims` of a head of `headDim` values in place,
// pairing dim i with i + ropeDims/2, by angle position * invFreq[i] (f32 product).
void applyRope(float* head, int64_t ropeDims, int64_t position, const float* invFreq);

// The same in two steps, for the heads of one position: the rotation's cos and sin
// (ropeDims / 2 each, rounded to float as applyRope does), then applyRope with them, which gives
// applyRope's values bit for bit.
void ropeRotation(int64_t ropeDims, int64_t position, const float* invFreq, float* cos, float* sin);
void applyRope(float* head, int64_t ropeDims, const float* cos, const float* sin);

// Reference inverse frequencies: invFreq[i] = 1 / theta^(2i / ropeDims), in float32.
void ropeInverseFrequencies(int64_t ropeDims, double theta, float* invFreq);

// griffin-spec.md §2.6.2: one RG-LRU step of one channel. `gateXPre`/`gateAPre` are the gate
// pre-activations, `logAConst` = -8 * softplus(a_param). Returns the new h; `reset` (position 0)
// drops the past and skips the sqrt(1 - a^2) normalisation.
float rgLruStep(float x, float gateXPre, float gateAPre, float logAConst, float h, bool reset);

// x[i] = e^(x[i] - shift), or 0 where x[i] is -infinity (a masked score); returns the sum.
// The exponential is ops.cpp's expApprox (relative error under 1.2e-7), so the loop vectorises.
float expShifted(float* x, int64_t n, float shift);

// griffin-spec.md §2.8: cap * tanh(x / cap); cap 0 leaves x unchanged.
void softCap(float* x, int64_t n, float cap);

}  // namespace griffin::cpu
