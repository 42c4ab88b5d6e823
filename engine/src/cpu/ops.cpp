// SPDX-License-Identifier: Apache-2.0
#include "cpu/ops.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/kernels.h"
#include "quant.h"

namespace griffin::cpu {

// The elementwise loops below (GeLU, soft cap, softmax exponentials) are compiled once per x86
// level and picked at load time by the CPU: the 16-lane AVX-512 versions take a quarter of the
// baseline's (4-lane SSE2) time over the 256,000 logits of a token. The scalar gelu() shares
// them, so that it returns exactly what the loops store.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GRIFFIN_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GRIFFIN_VECTOR_CLONES
#endif

namespace {

// e^x for x in [-87, 88] (clamped): 2^n e^r with |r| <= ln2 / 2 and a degree-7 Taylor polynomial
// (truncation under 1.2e-7 relative). Plain arithmetic, no library call, so loops over it
// vectorise.
inline float expApprox(float x) {
    x = std::min(std::max(x, -87.0f), 88.0f);
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float n = (x * 1.44269504f + kRound) - kRound;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln 2 in two parts
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    return p * std::bit_cast<float>(bits);
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)). Absolute error under 2e-7 (relative error grows for
// |x| < 1e-3, where the result is below 1e-3).
inline float tanhApprox(float x) {
    const float e = expApprox(2.0f * std::fabs(x));
    const float t = 1.0f - 2.0f / (e + 1.0f);
    return x < 0.0f ? -t : t;
}

inline float geluApprox(float x) {
    // In float, as griffin-spec.md §7.2 recommends for activations.
    const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + tanhApprox(inner));
}

}  // namespace

GRIFFIN_VECTOR_CLONES
float gelu(float x) {
    return geluApprox(x);
}

GRIFFIN_VECTOR_CLONES
void geluInPlace(float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] = geluApprox(x[i]);
}

GRIFFIN_VECTOR_CLONES
void geluTimes(float* gate, const float* up, int64_t n) {
    for (int64_t i = 0; i < n; ++i) gate[i] = geluApprox(gate[i]) * up[i];
}

// Each tap one loop over contiguous channels, which vectorises: a loop over channels with the
// taps inside, choosing tail or x per tap, took about 0.4 ms of a 2B q4_0 decode token (18
// layers; perf samples against the products'), this about 0.13.
GRIFFIN_VECTOR_CLONES
void conv1dRows(const float* w, const float* bias, int64_t K, int64_t L, float* tail,
                const float* x, int64_t T, int64_t c0, int64_t c1, float* out) {
    const auto input = [&](int64_t row) {  // row of [tail ++ x]
        return row < K - 1 ? tail + row * L : x + (row - (K - 1)) * L;
    };
    for (int64_t t = 0; t < T; ++t) {
        float* o = out + t * L;
        for (int64_t c = c0; c < c1; ++c) o[c] = bias[c];
        for (int64_t k = 0; k < K; ++k) {
            const float* in = input(t + k);
            const float* wk = w + k * L;
            for (int64_t c = c0; c < c1; ++c) o[c] += wk[c] * in[c];
        }
    }
    // The new tail: rows T .. T+K-2 of the input. Row j takes row T + j > j, which this loop has
    // not overwritten yet.
    for (int64_t j = 0; j < K - 1; ++j) {
        const float* in = input(T + j);
        float* dst = tail + j * L;
        for (int64_t c = c0; c < c1; ++c) dst[c] = in[c];
    }
}

GRIFFIN_VECTOR_CLONES
float expShifted(float* x, int64_t n, float shift) {
    // Sixteen partial sums: a float reduction only vectorises with its order spelled out.
    constexpr float kMasked = -std::numeric_limits<float>::infinity();
    float part[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; ++l) {
            const float s = x[i + l];
            const float e = s == kMasked ? 0.0f : expApprox(s - shift);
            x[i + l] = e;
            part[l] += e;
        }
    }
    for (; i < n; ++i) {
        const float e = x[i] == kMasked ? 0.0f : expApprox(x[i] - shift);
        x[i] = e;
        part[0] += e;
    }
    float sum = 0.0f;
    for (float p : part) sum += p;
    return sum;
}

namespace {

// Quantizes x for `type` on `isa` into xq unless xq already holds it (float types need none).
void prepareActivations(Isa isa, WeightType type, const float* x, int64_t rows, int64_t cols,
                        QuantizedActivations& xq) {
    const bool ready =
        xq.type == type &&
        (!isBlockQuantized(type) || (readsInterleaved16(isa, type) ? !xq.interleaved16.empty()
                                     : readsInterleaved(isa, type) ? !xq.interleaved.empty()
                                                                   : !xq.blocks.empty()));
    if (!ready)
        quantizeActivations(isa, type, x, rows, cols, xq);
}

// x [rows, w.cols] by w's column blocks (Matrix::blockCols): block b's columns of every row
// together, at b * rows * w.blockCols, what blockRows reads for more than one row.
void gatherColumnBlocks(const Matrix& w, const float* x, int64_t rows, std::vector<float>& out) {
    const int64_t bc = w.blockCols;
    out.resize(static_cast<size_t>(rows * w.cols));
    for (int64_t b = 0; b < w.blockCount(); ++b) {
        for (int64_t t = 0; t < rows; ++t)
            std::memcpy(out.data() + (b * rows + t) * bc, x + t * w.cols + b * bc,
                        static_cast<size_t>(bc) * sizeof(float));
    }
}

// gemmRows for a float-type w stored in column blocks: block 0's products into y, each further
// block's into a scratch, then added, so that each block's rows are read as one stream. One row
// of x is read in place, more from `gathered` (gatherColumnBlocks).
void blockRows(Isa isa, const Matrix& w, int64_t r0, int64_t r1, const float* x,
               const float* gathered, int64_t rows, float* y, int64_t ldy) {
    const int64_t bc = w.blockCols, n = r1 - r0;
    thread_local std::vector<float> part;
    part.resize(static_cast<size_t>(rows * n));
    for (int64_t b = 0; b < w.blockCount(); ++b) {
        const Matrix block = w.block(b);
        const float* xb = rows == 1 ? x + b * bc : gathered + b * rows * bc;
        if (b == 0) {
            gemmRows(isa, block, r0, r1, xb, nullptr, rows, y, ldy);
            continue;
        }
        gemmRows(isa, block, r0, r1, xb, nullptr, rows, part.data(), n);
        for (int64_t t = 0; t < rows; ++t) {
            for (int64_t r = 0; r < n; ++r) y[t * ldy + r] += part[static_cast<size_t>(t * n + r)];
        }
    }
}

// Rows [r0, r1) of product p for every row of x, with its bias. `gathered`: x by p's column
// blocks, for more than one row of x and a weight stored in them.
void productRows(Isa isa, const Product& p, int64_t r0, int64_t r1, const float* x, int64_t rows,
                 const QuantizedActivations& xq, const float* gathered = nullptr) {
    const int64_t out = p.w->rows;
    if (p.w->blockCols > 0)
        blockRows(isa, *p.w, r0, r1, x, gathered, rows, p.y + r0, out);
    else
        gemmRows(isa, *p.w, r0, r1, x, &xq, rows, p.y + r0, out);
    if (p.bias != nullptr) {
        for (int64_t t = 0; t < rows; ++t) {
            for (int64_t o = r0; o < r1; ++o) p.y[t * out + o] += p.bias[o];
        }
    }
}

// The products' rows in register tiles of 4, numbered across the products in order and split
// over the pool. xq: x prepared for their (common) weight type.
void runProducts(ThreadPool& pool, Isa isa, const Product* products, int64_t count, const float* x,
                 int64_t rows, const QuantizedActivations& xq, const float* gathered = nullptr) {
    std::vector<int64_t> startTile(static_cast<size_t>(count) + 1, 0);
    for (int64_t i = 0; i < count; ++i) {
        startTile[static_cast<size_t>(i) + 1] =
            startTile[static_cast<size_t>(i)] + (products[i].w->rows + 3) / 4;
    }
    pool.parallelFor(startTile.back(), 8, [&](int64_t begin, int64_t end) {
        for (int64_t i = 0; i < count; ++i) {
            const int64_t base = startTile[static_cast<size_t>(i)];
            const int64_t lo = std::max(begin, base);
            const int64_t hi = std::min(end, startTile[static_cast<size_t>(i) + 1]);
            if (lo >= hi)
                continue;
            const Product& p = products[i];
            const int64_t r0 = (lo - base) * 4, r1 = std::min(p.w->rows, (hi - base) * 4);
            productRows(isa, p, r0, r1, x, rows, xq, gathered);
            if (p.after != nullptr)
                (*p.after)(r0, r1);
        }
    });
}

}  // namespace

void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t rows, const float* bias,
            float* y, QuantizedActivations* shared) {
    const Isa isa = activeIsa();
    QuantizedActivations local;
    QuantizedActivations& xq = shared != nullptr ? *shared : local;
    const Product product{&w, bias, y};
    if (w.blockCols > 0) {  // float types only (cpu/weight_layout.h)
        std::vector<float> gathered;
        if (rows > 1)
            gatherColumnBlocks(w, x, rows, gathered);
        runProducts(pool, isa, &product, 1, x, rows, xq, gathered.data());
        return;
    }
    prepareActivations(isa, w.type, x, rows, w.cols, xq);
    runProducts(pool, isa, &product, 1, x, rows, xq);
}

namespace {

bool anyInColumnBlocks(std::initializer_list<Product> products) {
    return std::any_of(products.begin(), products.end(),
                       [](const Product& p) { return p.w->blockCols > 0; });
}

}  // namespace

void matmulAll(ThreadPool& pool, std::initializer_list<Product> products, const float* x,
               int64_t rows) {
    if (products.size() == 0)
        return;
    const Product* first = products.begin();
    QuantizedActivations xq;
    bool sameType = true;
    for (const Product& p : products) sameType = sameType && p.w->type == first->w->type;
    const Isa isa = activeIsa();
    if (anyInColumnBlocks(products)) {  // one at a time, each with its own after-steps
        for (const Product& p : products) {
            matmul(pool, *p.w, x, rows, p.bias, p.y, &xq);
            if (p.after != nullptr)
                pool.parallelFor(p.w->rows, 64, *p.after);
        }
        return;
    }
    if (!sameType) {
        for (const Product& p : products) {
            prepareActivations(isa, p.w->type, x, rows, p.w->cols, xq);
            runProducts(pool, isa, &p, 1, x, rows, xq);
        }
        return;
    }
    prepareActivations(isa, first->w->type, x, rows, first->w->cols, xq);
    runProducts(pool, isa, first, static_cast<int64_t>(products.size()), x, rows, xq);
}

void matmulByRow(ThreadPool& pool, std::initializer_list<Product> products, const float* x,
                 int64_t rows, const std::function<void(int64_t, int64_t)>& after) {
    if (products.size() == 0)
        return;
    const Product* first = products.begin();
    const int64_t out = first->w->rows;
    bool sameType = true;
    for (const Product& p : products) {
        sameType = sameType && p.w->type == first->w->type;
        if (p.w->rows != out) {  // a caller's bug, not bad input: every use pairs equal shapes
            std::fprintf(stderr, "matmulByRow: products of %lld and %lld rows\n",
                         static_cast<long long>(out), static_cast<long long>(p.w->rows));
            std::abort();
        }
    }
    const Isa isa = activeIsa();
    QuantizedActivations xq;
    if (!sameType || anyInColumnBlocks(products)) {  // one after another, then the step
        matmulAll(pool, products, x, rows);
        pool.parallelFor(out, 64, after);
        return;
    }
    prepareActivations(isa, first->w->type, x, rows, first->w->cols, xq);
    pool.parallelFor((out + 3) / 4, 8, [&](int64_t begin, int64_t end) {
        const int64_t r0 = begin * 4, r1 = std::min(out, end * 4);
        for (const Product& p : products) productRows(isa, p, r0, r1, x, rows, xq);
        after(r0, r1);
    });
}

// The sum of squares in double, in eight partial sums that vectorise (a float's square is exact
// in double, so a fused multiply-add gives the same sums): one sequential chain of 2560 double
// additions was 3-4 microseconds per norm, 53 of them per 2B token, with the other threads idle.
GRIFFIN_VECTOR_CLONES
void rmsNorm(const float* x, const float* gain, int64_t rows, int64_t n, double eps, float* y) {
    for (int64_t t = 0; t < rows; ++t) {
        const float* xr = x + t * n;
        double part[8] = {};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            for (int l = 0; l < 8; ++l) part[l] += static_cast<double>(xr[i + l]) * xr[i + l];
        }
        for (; i < n; ++i) part[0] += static_cast<double>(xr[i]) * xr[i];
        const double sumSq = ((part[0] + part[1]) + (part[2] + part[3])) +
                             ((part[4] + part[5]) + (part[6] + part[7]));
        const float inv = static_cast<float>(1.0 / std::sqrt(sumSq / static_cast<double>(n) + eps));
        for (int64_t j = 0; j < n; ++j) y[t * n + j] = xr[j] * inv * gain[j];
    }
}

void blockDiagonal(const Matrix& w, const float* bias, const float* x, float* y) {
    const int64_t bw = w.cols, blocks = w.rows / w.cols;
    std::vector<float> row(static_cast<size_t>(bw));
    for (int64_t h = 0; h < blocks; ++h) {
        float* out = y + h * bw;
        for (int64_t j = 0; j < bw; ++j) out[j] = bias[h * bw + j];
        for (int64_t i = 0; i < bw; ++i) {
            loadRow(w, h * bw + i, row.data());  // row i of block h: input i to every output
            const float xi = x[h * bw + i];
            for (int64_t j = 0; j < bw; ++j) out[j] += xi * row[static_cast<size_t>(j)];
        }
    }
}

void ropeInverseFrequencies(int64_t ropeDims, double theta, float* invFreq) {
    // As the reference: exponent, timescale and its inverse in float32.
    for (int64_t i = 0; i < ropeDims / 2; ++i) {
        const float exponent = 2.0f * static_cast<float>(i) / static_cast<float>(ropeDims);
        const float timescale = std::pow(static_cast<float>(theta), exponent);
        invFreq[i] = 1.0f / timescale;
    }
}

void ropeRotation(int64_t ropeDims, int64_t position, const float* invFreq, float* cos,
                  float* sin) {
    for (int64_t i = 0; i < ropeDims / 2; ++i) {
        const float angle = static_cast<float>(position) * invFreq[i];  // f32 product
        cos[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
        sin[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
}

void applyRope(float* head, int64_t ropeDims, const float* cos, const float* sin) {
    const int64_t half = ropeDims / 2;
    for (int64_t i = 0; i < half; ++i) {
        const float first = head[i], second = head[i + half];
        head[i] = first * cos[i] - second * sin[i];
        head[i + half] = second * cos[i] + first * sin[i];
    }
}

void applyRope(float* head, int64_t ropeDims, int64_t position, const float* invFreq) {
    std::vector<float> cos(static_cast<size_t>(ropeDims / 2)), sin(cos.size());
    ropeRotation(ropeDims, position, invFreq, cos.data(), sin.data());
    applyRope(head, ropeDims, cos.data(), sin.data());
}

float rgLruStep(float x, float gateXPre, float gateAPre, float logAConst, float h, bool reset) {
    const float gateX = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(gateXPre))));
    const float gateA = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(gateAPre))));
    const float input = x * gateX;
    if (reset)
        return input;
    const double logA = static_cast<double>(logAConst) * gateA;
    // sqrt(1 - a^2) through expm1: no cancellation as a -> 1 (griffin-spec.md §2.6.2).
    const float a = static_cast<float>(std::exp(logA));
    const float mult = static_cast<float>(std::sqrt(-std::expm1(2.0 * logA)));
    return a * h + mult * input;
}

GRIFFIN_VECTOR_CLONES
void softCap(float* x, int64_t n, float cap) {
    if (cap <= 0.0f)
        return;
    for (int64_t i = 0; i < n; ++i) x[i] = cap * tanhApprox(x[i] / cap);
}

}  // namespace griffin::cpu
