// SPDX-License-Identifier: Apache-2.0
// Matrix products for every weight type, with the instruction set chosen at run time:
// AVX-512 (F/BW/VL), AVX2 (+FMA, F16C) or portable scalar code. GRIFFIN_CPU_ISA=scalar|avx2|
// avx512 caps the choice (tests force each path; a path the CPU lacks is never used).
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/kernels_abi.h"
#include "weights.h"

namespace griffin::cpu {

enum class Isa { Scalar, Avx2, Avx512 };

const char* isaName(Isa isa);
// The best instruction set this CPU supports.
Isa supportedIsa();
// What the kernels use now: supportedIsa() capped by GRIFFIN_CPU_ISA or setIsa().
Isa activeIsa();
// Caps the instruction set (for tests and benchmarks); returns what is now active.
Isa setIsa(Isa wanted);

// Activations quantized to 16 bits in blocks of 32 (the q8_0 / q4_0 dot products' other
// operand). `cols` must be a multiple of 32.
void quantizeActivations(const float* x, int64_t rows, int64_t cols,
                         std::vector<abi::BlockAct>& out);

// y[t * ldy + (o - rowBegin)] = dot(w row o, x row t) for o in [rowBegin, rowEnd), t < tokens.
// x: [tokens, w.cols] float; xq: its quantizeActivations() (needed only for block types).
void gemmRows(Isa isa, const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
              const abi::BlockAct* xq, int64_t tokens, float* y, int64_t ldy);

}  // namespace griffin::cpu
