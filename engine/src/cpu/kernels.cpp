// SPDX-License-Identifier: Apache-2.0
#include "cpu/kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "quant.h"

namespace griffin::cpu {
namespace {

static_assert(static_cast<int>(WeightType::F32) == abi::kF32 &&
              static_cast<int>(WeightType::BF16) == abi::kBf16 &&
              static_cast<int>(WeightType::F16) == abi::kF16 &&
              static_cast<int>(WeightType::Q8_0) == abi::kQ8_0 &&
              static_cast<int>(WeightType::Q4_0) == abi::kQ4_0);

Isa detect() {
#if defined(GRIFFIN_X86_KERNELS)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("f16c") &&
        __builtin_cpu_supports("fma")) {
        return Isa::Avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c")) {
        return Isa::Avx2;
    }
#endif
    return Isa::Scalar;
}

Isa fromEnvironment(Isa best) {
    const char* env = std::getenv("GRIFFIN_CPU_ISA");
    if (env == nullptr)
        return best;
    const std::string_view v(env);
    Isa wanted = best;
    if (v == "scalar")
        wanted = Isa::Scalar;
    else if (v == "avx2")
        wanted = Isa::Avx2;
    else if (v == "avx512")
        wanted = Isa::Avx512;
    return static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
}

std::atomic<int>& activeSlot() {
    static std::atomic<int> slot{static_cast<int>(fromEnvironment(supportedIsa()))};
    return slot;
}

}  // namespace

const char* isaName(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return "scalar";
        case Isa::Avx2:
            return "avx2";
        case Isa::Avx512:
            return "avx512";
    }
    return "?";
}

Isa supportedIsa() {
    static const Isa isa = detect();
    return isa;
}

Isa activeIsa() {
    return static_cast<Isa>(activeSlot().load(std::memory_order_relaxed));
}

Isa setIsa(Isa wanted) {
    const Isa best = supportedIsa();
    const Isa isa = static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
    activeSlot().store(static_cast<int>(isa));
    return isa;
}

void quantizeActivations(const float* x, int64_t rows, int64_t cols,
                         std::vector<abi::BlockAct>& out) {
    const int64_t blocks = cols / kQuantBlock;
    out.resize(static_cast<size_t>(rows * blocks));
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t b = 0; b < blocks; ++b) {
            const float* v = x + t * cols + b * kQuantBlock;
            abi::BlockAct& blk = out[static_cast<size_t>(t * blocks + b)];
            float amax = 0.0f;
            for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
            // 32767 * 2 products per vpmaddwd lane stay far inside int32.
            blk.d = amax / 32767.0f;
            const float inv = amax > 0.0f ? 32767.0f / amax : 0.0f;
            for (int i = 0; i < kQuantBlock; ++i) {
                blk.qs[i] = static_cast<int16_t>(std::lrintf(v[i] * inv));
            }
        }
    }
}

void gemmRows(Isa isa, const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
              const abi::BlockAct* xq, int64_t tokens, float* y, int64_t ldy) {
    abi::GemmArgs args;
    args.type = static_cast<int>(w.type);
    args.w = reinterpret_cast<const unsigned char*>(w.row(rowBegin));
    args.rowStride = rowBytes(w.type, w.cols);
    args.rows = rowEnd - rowBegin;
    args.k = w.cols;
    args.x = x;
    args.xq = xq;
    args.tokens = tokens;
    args.y = y;
    args.ldy = ldy;
    if (args.rows <= 0 || tokens <= 0)
        return;
    switch (isa) {
#if defined(GRIFFIN_X86_KERNELS)
        case Isa::Avx512:
            abi::gemmAvx512(args);
            return;
        case Isa::Avx2:
            abi::gemmAvx2(args);
            return;
#endif
        default:
            abi::gemmScalar(args);
            return;
    }
}

}  // namespace griffin::cpu
