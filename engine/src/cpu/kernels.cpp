// SPDX-License-Identifier: Apache-2.0
#include "cpu/kernels.h"

#if defined(GRIFFIN_X86_KERNELS)
#include <cpuid.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "cpu/ops.h"
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
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma")) {
        return __builtin_cpu_supports("avx512vnni") ? Isa::Avx512Vnni : Isa::Avx512;
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
    else if (v == "avx512vnni")
        wanted = Isa::Avx512Vnni;
    return static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
}

int64_t setsPerRow(int64_t cols) {
    return (cols / kQuantBlock + abi::kLaneBlocks - 1) / abi::kLaneBlocks;
}

// Where value i of block b of a set sits in ActInterleaved::q (see kernels_abi.h).
int64_t interleavedByte(int64_t b, int64_t i) {
    return 64 * (i / 4) + 4 * b + i % 4;
}

// lrintf (to nearest, ties to even) for |x| <= 127, without a library call: adding and
// subtracting 1.5 * 2^23 leaves x rounded the same way, and the loop vectorises.
inline int8_t roundToInt8(float x) {
    constexpr float kRound = 12582912.0f;
    return static_cast<int8_t>(static_cast<int32_t>((x + kRound) - kRound));
}

}  // namespace

void quantizeInterleavedReference(WeightType type, const float* x, int64_t rows, int64_t cols,
                                  std::vector<abi::ActInterleaved>& out) {
    const int64_t blocks = cols / kQuantBlock, sets = setsPerRow(cols);
    out.assign(static_cast<size_t>(rows * sets), abi::ActInterleaved{});
    const int32_t excess = type == WeightType::Q8_0 ? 128 : 8;
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t blk = 0; blk < blocks; ++blk) {
            abi::ActInterleaved& set = out[static_cast<size_t>(t * sets + blk / abi::kLaneBlocks)];
            const int64_t b = blk % abi::kLaneBlocks;
            const float* v = x + t * cols + blk * kQuantBlock;
            float amax = 0.0f;
            for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
            const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
            set.d[b] = amax / 127.0f;
            for (int i = 0; i < kQuantBlock; ++i) {
                const int8_t q = roundToInt8(v[i] * inv);
                set.q[interleavedByte(b, i)] = q;
                set.corr[b] -= excess * q;
            }
        }
    }
}

namespace {

// The interleaved kernels' activations: the AVX-512 or AVX2 version on those paths (the AVX-512
// one about ten times faster than the portable one, which cost 0.75% of a 2B q4_0 decode step
// on one thread while the other waited).
void quantizeInterleaved(Isa isa, WeightType type, const float* x, int64_t rows, int64_t cols,
                         std::vector<abi::ActInterleaved>& out) {
#if defined(GRIFFIN_X86_KERNELS)
    if (isa == Isa::Avx512Vnni && supportedIsa() == Isa::Avx512Vnni) {
        out.assign(static_cast<size_t>(rows * setsPerRow(cols)), abi::ActInterleaved{});
        abi::quantizeInterleavedAvx512Vnni(static_cast<int>(type), x, rows, cols, out.data());
        return;
    }
    if (isa != Isa::Scalar && supportedIsa() != Isa::Scalar) {
        out.assign(static_cast<size_t>(rows * setsPerRow(cols)), abi::ActInterleaved{});
        abi::quantizeInterleavedAvx2(static_cast<int>(type), x, rows, cols, out.data());
        return;
    }
#endif
    quantizeInterleavedReference(type, x, rows, cols, out);
}

// The row-by-row decode kernels' prefetch distance where GRIFFIN_DECODE_PREFETCH does not set
// one (see runGemm for Intel's 3 KiB). On AMD the hardware prefetcher alone streams the rows
// faster: on a 2-core Zen 5 VM (family 0x1A), 2B-model decode steps alternated in one process
// with the read probe at 61-76 GB/s read 0.60-0.71 of it with no software prefetch against
// 0.46-0.67 at 3 KiB (q4_0), 0.73-0.81 against 0.62-0.74 (q8_0) and 0.72-0.85 against
// 0.67-0.79 (bf16): no software prefetch was faster in each of the 24 pairs. Zen 4 (family
// 0x19) is the other way round: on a 2-core EPYC VM, 2B-model decode steps alternated in one
// process (medians of 12-15 rounds) ran bf16 1.24-1.34x as fast at 8 KiB as with none (4 KiB
// 1.14x, 12 KiB 1.21x), q4_0 and q8_0 within 0.98-1.00x. Other AMD families keep none (not
// measured).
// An AMD CPU's family (cpuid 1), or 0 on any other CPU.
unsigned amdFamily() {
#if defined(GRIFFIN_X86_KERNELS)
    __builtin_cpu_init();
    if (__builtin_cpu_is("amd")) {
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0)
            return 0;
        const unsigned base = (eax >> 8) & 0xF;
        return base == 0xF ? base + ((eax >> 20) & 0xFF) : base;
    }
#endif
    return 0;
}

bool isZen4() {
#if defined(GRIFFIN_X86_KERNELS)
    return amdFamily() == 0x19 && __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

}  // namespace

int64_t defaultDecodePrefetchBytes() {
    if (amdFamily() != 0)
        return isZen4() ? 8 * 1024 : 0;
    return 3 * 1024;
}

// The second, near prefetch (into L1) of the row-by-row decode kernels where
// GRIFFIN_DECODE_PREFETCH_NEAR does not set one. Work between the loads leaves fewer of them in
// flight: on a 2-core Intel Xeon VM with AVX-512 (2026-12), a streaming read with 4 FMAs per
// 64-byte line read 28.8 GB/s prefetching 1.5 KB ahead into L1 and 31.3 at 3 KB into L2, but
// 32.5 with both 3 KB into L2 and 512 bytes into L1 (33 with no work). The kernels alone
// (kernel_bench, rows of 2560, ratio to the best read probe, 7 rounds): at 3 KB into L2,
// 768 bytes into L1 raised q4_0 from 0.83 to 0.87, q8_0 0.85 to 0.89, bf16 0.84 to 0.91;
// 2B-model decode steps alternated in one process: q4_0 0.78 to 0.80, bf16 0.82 to 0.87.
// Further into L2 (4 or 6 KB) read slower with or without it. Zen 4 takes none: on the 2-core
// EPYC VM, with 8 KiB into L2, 2B-model decode steps alternated in one process (medians of 30-60
// rounds, both orders) ran 1-3% faster without it for bf16, q4_0 and q8_0; bf16 rows of 2560
// streamed alone read 0.90 / 1.00 of a read probe without it (the rounds with the faster / slower
// probe) against 0.84 / 0.98 with it.
int64_t defaultDecodePrefetchNearBytes() {
    return isZen4() ? 0 : 768;
}

namespace {

// A prefetch distance: the environment variable `name` where set, else `fallback`; within
// [0, 1 MiB] either way (as the setters clamp it).
int64_t prefetchBytesFromEnvironment(const char* name, int64_t fallback) {
    const char* env = std::getenv(name);
    return std::clamp<int64_t>(env != nullptr ? std::atoll(env) : fallback, 0, int64_t{1} << 20);
}

std::atomic<int64_t>& decodePrefetchSlot() {
    static std::atomic<int64_t> slot{
        prefetchBytesFromEnvironment("GRIFFIN_DECODE_PREFETCH", defaultDecodePrefetchBytes())};
    return slot;
}

// Whether the environment fixes the decode prefetch (GRIFFIN_DECODE_PREFETCH or
// GRIFFIN_DECODE_PREFETCH_NEAR set, or GRIFFIN_DECODE_TUNE=0); the setters fix it as well.
std::atomic<bool>& decodePrefetchFixedSlot() {
    static std::atomic<bool> slot{[] {
        const char* tune = std::getenv("GRIFFIN_DECODE_TUNE");
        return std::getenv("GRIFFIN_DECODE_PREFETCH") != nullptr ||
               std::getenv("GRIFFIN_DECODE_PREFETCH_NEAR") != nullptr ||
               (tune != nullptr && std::string_view(tune) == "0");
    }()};
    return slot;
}

std::atomic<int64_t>& decodePrefetchNearSlot() {
    static std::atomic<int64_t> slot{prefetchBytesFromEnvironment(
        "GRIFFIN_DECODE_PREFETCH_NEAR", defaultDecodePrefetchNearBytes())};
    return slot;
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
        case Isa::Avx512Vnni:
            return "avx512vnni";
    }
    return "?";
}

void quantizeInterleaved16Reference(const float* x, int64_t rows, int64_t cols,
                                    std::vector<abi::ActInterleaved16>& out) {
    const int64_t blocks = cols / kQuantBlock, sets = setsPerRow(cols);
    out.assign(static_cast<size_t>(rows * sets), abi::ActInterleaved16{});
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t blk = 0; blk < blocks; ++blk) {
            abi::ActInterleaved16& set =
                out[static_cast<size_t>(t * sets + blk / abi::kLaneBlocks)];
            const int64_t b = blk % abi::kLaneBlocks;
            const float* v = x + t * cols + blk * kQuantBlock;
            float amax = 0.0f;
            for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
            // The rounding of quantizeActivations' 16-bit BlockAct.
            const float inv = amax > 0.0f ? 32767.0f / amax : 0.0f;
            set.d[b] = amax / 32767.0f;
            for (int i = 0; i < kQuantBlock; ++i) {
                const auto q = static_cast<int16_t>(std::lrintf(v[i] * inv));
                set.q[interleavedByte(b, i)] = q;
                set.corr[b] -= 128 * q;
            }
        }
    }
}

Isa supportedIsa() {
    static const Isa isa = detect();
    return isa;
}

Isa activeIsa() {
    return static_cast<Isa>(activeSlot().load(std::memory_order_relaxed));
}

int64_t decodePrefetchBytes() {
    return decodePrefetchSlot().load(std::memory_order_relaxed);
}

void setDecodePrefetchBytes(int64_t bytes) {
    decodePrefetchFixedSlot().store(true);
    decodePrefetchSlot().store(std::clamp<int64_t>(bytes, 0, int64_t{1} << 20));
}

int64_t decodePrefetchNearBytes() {
    return decodePrefetchNearSlot().load(std::memory_order_relaxed);
}

void setDecodePrefetchNearBytes(int64_t bytes) {
    decodePrefetchFixedSlot().store(true);
    decodePrefetchNearSlot().store(std::clamp<int64_t>(bytes, 0, int64_t{1} << 20));
}

bool decodePrefetchFixed() {
    return decodePrefetchFixedSlot().load(std::memory_order_relaxed);
}

void useDecodePrefetch(int64_t bytes, int64_t nearBytes) {
    decodePrefetchSlot().store(std::clamp<int64_t>(bytes, 0, int64_t{1} << 20),
                               std::memory_order_relaxed);
    decodePrefetchNearSlot().store(std::clamp<int64_t>(nearBytes, 0, int64_t{1} << 20),
                                   std::memory_order_relaxed);
}

bool readsInterleaved(Isa isa, WeightType type) {
    return isBlockQuantized(type) && isa != Isa::Scalar;
}

bool readsInterleaved16(Isa isa, WeightType type) {
    return type == WeightType::Q8_0 && (isa == Isa::Avx2 || isa == Isa::Avx512);
}

Isa setIsa(Isa wanted) {
    const Isa best = supportedIsa();
    const Isa isa = static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
    activeSlot().store(static_cast<int>(isa));
    return isa;
}

void quantizeActivations(Isa isa, WeightType type, const float* x, int64_t rows, int64_t cols,
                         QuantizedActivations& out) {
    out.type = type;
    out.blocks.clear();
    out.interleaved.clear();
    out.interleaved16.clear();
    if (!isBlockQuantized(type))
        return;
    const int64_t blocks = cols / kQuantBlock;
    if (readsInterleaved16(isa, type)) {
#if defined(GRIFFIN_X86_KERNELS)
        if (supportedIsa() != Isa::Scalar) {
            out.interleaved16.assign(static_cast<size_t>(rows * setsPerRow(cols)),
                                     abi::ActInterleaved16{});
            abi::quantizeInterleaved16Avx2(x, rows, cols, out.interleaved16.data());
            return;
        }
#endif
        quantizeInterleaved16Reference(x, rows, cols, out.interleaved16);
        return;
    }
    if (readsInterleaved(isa, type)) {
        quantizeInterleaved(isa, type, x, rows, cols, out.interleaved);
        return;
    }
    out.blocks.resize(static_cast<size_t>(rows * blocks));
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t b = 0; b < blocks; ++b) {
            const float* v = x + t * cols + b * kQuantBlock;
            abi::BlockAct& blk = out.blocks[static_cast<size_t>(t * blocks + b)];
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

namespace {

// dequantizeActivations for interleaved sets (8- or 16-bit).
template <typename Set>
void dequantizeSets(const std::vector<Set>& sets, int64_t rows, int64_t cols, float* out) {
    const int64_t blocks = cols / kQuantBlock, perRow = setsPerRow(cols);
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t blk = 0; blk < blocks; ++blk) {
            const Set& set = sets[static_cast<size_t>(t * perRow + blk / abi::kLaneBlocks)];
            const int64_t b = blk % abi::kLaneBlocks;
            for (int i = 0; i < kQuantBlock; ++i) {
                out[t * cols + blk * kQuantBlock + i] =
                    set.d[b] * static_cast<float>(set.q[interleavedByte(b, i)]);
            }
        }
    }
}

}  // namespace

void dequantizeActivations(const QuantizedActivations& q, int64_t rows, int64_t cols, float* out) {
    const int64_t blocks = cols / kQuantBlock;
    if (!q.interleaved16.empty())
        return dequantizeSets(q.interleaved16, rows, cols, out);
    if (!q.interleaved.empty())
        return dequantizeSets(q.interleaved, rows, cols, out);
    for (int64_t t = 0; t < rows; ++t) {
        for (int64_t b = 0; b < blocks; ++b) {
            const abi::BlockAct& blk = q.blocks[static_cast<size_t>(t * blocks + b)];
            for (int i = 0; i < kQuantBlock; ++i)
                out[t * cols + b * kQuantBlock + i] = blk.d * static_cast<float>(blk.qs[i]);
        }
    }
}

namespace {

// This thread's GemmArgs::scratch for a call with `tokens` tokens (none for decode).
float* panelScratch(int64_t tokens) {
    if (tokens < 2)
        return nullptr;
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(abi::kPanelScratchFloats));
    return scratch.data();
}

// Sets the decode prefetch distance and calls `isa`'s kernel.
void runGemm(Isa isa, abi::GemmArgs& args) {
    // Kernels that read a register tile of 4 rows at once prefetch about 24 KiB and never less
    // than 4 rows ahead: measured on a 2-core Zen 5 VM with q8_0 rows of 2560 and 7680, this
    // doubled the decode GEMV's bandwidth over prefetching within the row (20 -> 40 GB/s).
    // Those that read one row at a time (the AVX-512 float kernels, the interleaved block
    // kernels: VNNI's and AVX2's q4_0) prefetch decodePrefetchBytes() ahead along their stream of
    // rows, into L2 only (T1), which leaves the L1 fill buffers to the loads themselves (on a
    // 2-core Sapphire Rapids VM, against T0 at 8 KiB, bf16 read 7-10% faster, q8_0 3-5%, q4_0 the
    // same). The distance was 8 KiB rounded to whole rows; on a 2-core Intel VM with AVX-512 and
    // AMX (2026-12), 2B-model decode steps alternated in one process, ratio to the read probe: 4
    // KiB in rows read q4_0 0.79 vs 0.72 and q8_0 0.80 vs 0.76 (4 and 3 rounds); then 3 KiB not
    // rounded to rows (a bf16 row of 2560 is 5 KiB) read bf16 0.81-0.83 vs 0.76-0.79 (3
    // rounds), q8_0 0.77-0.83 vs 0.78-0.80 and q4_0 within the noise of 4 KiB in rows.
    const bool rowByRow =
        isa == Isa::Avx512Vnni || args.type == abi::kQ8_0Interleaved ||
        args.type == abi::kQ4_0Interleaved ||
        (isa == Isa::Avx512 && args.type != abi::kQ8_0 && args.type != abi::kQ4_0);
    const int64_t aheadBytes = rowByRow ? decodePrefetchBytes() : 24 * 1024;
    args.prefetchRows = aheadBytes == 0
                            ? 0
                            : std::max<int64_t>(rowByRow ? 1 : 4,
                                                aheadBytes / static_cast<int64_t>(args.rowStride));
    args.prefetchBytes = rowByRow ? aheadBytes : 0;
    args.prefetchNearBytes = rowByRow && aheadBytes != 0 ? decodePrefetchNearBytes() : 0;
    if (args.rows <= 0 || args.tokens <= 0)
        return;
    switch (isa) {
#if defined(GRIFFIN_X86_KERNELS)
        case Isa::Avx512Vnni:
            abi::gemmAvx512Vnni(args);
            return;
        case Isa::Avx512:
            abi::gemmAvx512(args);
            return;
        case Isa::Avx2:
            if (args.type == abi::kQ4_0Interleaved)
                abi::gemmAvx2Q4Interleaved(args);
            else if (args.type == abi::kQ8_0Interleaved)
                abi::gemmAvx2Q8Interleaved(args);
            else
                abi::gemmAvx2(args);
            return;
#endif
        default:
            abi::gemmScalar(args);
            return;
    }
}

}  // namespace

void gemmRows(Isa isa, const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
              const QuantizedActivations* xq, int64_t tokens, float* y, int64_t ldy) {
    const bool blockType = isBlockQuantized(w.type);
    if (blockType && xq != nullptr && xq->type == w.type && xq->isInterleaved() != w.interleaved) {
        // The VNNI kernels read interleaved rows, the others GGUF blocks: rows in the other
        // layout (a matrix made outside a model, or an instruction set capped after the model was
        // laid out, as tests do) are rearranged here, a few at a time.
        const bool wantInterleaved = !w.interleaved;
        thread_local std::vector<unsigned char> rearranged;
        const size_t perRow = rowBytes(w.type, w.cols);
        constexpr int64_t kRowsAtOnce = 16;
        rearranged.resize(perRow * kRowsAtOnce);
        for (int64_t r = rowBegin; r < rowEnd; r += kRowsAtOnce) {
            const int64_t n = std::min(kRowsAtOnce, rowEnd - r);
            for (int64_t i = 0; i < n; ++i) {
                unsigned char* to = rearranged.data() + static_cast<size_t>(i) * perRow;
                if (wantInterleaved)
                    interleaveRow(w.type, w.row(r + i), w.cols, to);
                else
                    deinterleaveRow(w.type, w.row(r + i), w.cols, to);
            }
            Matrix other{w.type, rearranged.data(), n, w.cols};
            other.interleaved = wantInterleaved;
            gemmRows(isa, other, 0, n, x, xq, tokens, y + (r - rowBegin), ldy);
        }
        return;
    }
    abi::GemmArgs args;
    args.type = static_cast<int>(w.type);
    args.w = reinterpret_cast<const unsigned char*>(w.row(rowBegin));
    args.rowStride = rowBytes(w.type, w.cols);
    args.rows = rowEnd - rowBegin;
    args.k = w.cols;
    args.x = x;
    args.xq = nullptr;
    args.xi = nullptr;
    if (blockType) {
        // The activations decide between the VNNI kernels and the 16-bit ones.
        if (xq == nullptr || xq->type != w.type)
            return;
        if (!xq->interleaved16.empty()) {
            // 16-bit interleaved activations: AVX2's q8_0 kernel.
            if (w.type != WeightType::Q8_0 || supportedIsa() == Isa::Scalar)
                return;
            isa = Isa::Avx2;
            args.xi16 = xq->interleaved16.data();
            args.type = abi::kQ8_0Interleaved;
        } else if (!xq->interleaved.empty()) {
            // Interleaved activations are for a kernel that reads interleaved rows: the VNNI one
            // where asked for (or for a scalar caller, where the CPU has it) and the only one
            // for q8_0, else AVX2's (q4_0).
            const bool vnni =
                supportedIsa() == Isa::Avx512Vnni &&
                (isa == Isa::Avx512Vnni || isa == Isa::Scalar || w.type == WeightType::Q8_0);
            if (vnni)
                isa = Isa::Avx512Vnni;
            else if (w.type == WeightType::Q4_0 && supportedIsa() != Isa::Scalar)
                isa = Isa::Avx2;
            else
                return;
            args.xi = xq->interleaved.data();
            args.type = w.type == WeightType::Q8_0 ? abi::kQ8_0Interleaved : abi::kQ4_0Interleaved;
        } else {
            isa = isa == Isa::Avx512Vnni ? Isa::Avx512 : isa;
            args.xq = xq->blocks.data();
        }
    } else if (isa == Isa::Avx512Vnni) {
        isa = Isa::Avx512;
    }
    args.tokens = tokens;
    args.y = y;
    args.ldy = ldy;
    args.scratch = panelScratch(tokens);
    runGemm(isa, args);
}

void gemmF32(Isa isa, const float* w, int64_t ldw, int64_t rows, int64_t k, const float* x,
             int64_t tokens, float* y, int64_t ldy, const float* next) {
    abi::GemmArgs args;
    args.type = abi::kF32;
    args.w = reinterpret_cast<const unsigned char*>(w);
    args.rowStride = static_cast<size_t>(ldw) * sizeof(float);
    args.rows = rows;
    args.k = k;
    args.x = x;
    args.xq = nullptr;
    args.xi = nullptr;
    args.tokens = tokens;
    args.y = y;
    args.ldy = ldy;
#if defined(GRIFFIN_X86_KERNELS)
    // A few tokens (a decode step's query heads): dot products of each group of rows with them
    // all, rather than the panel GEMM, whose packing of the rows cost as much as the products.
    if ((isa == Isa::Avx512 || isa == Isa::Avx512Vnni) && tokens >= 2 && tokens <= 16 &&
        k % 16 == 0 && rows > 0) {
        args.scratch = nullptr;
        args.prefetchRows = 0;
        args.prefetchBytes = 0;
        args.prefetchNearBytes = 0;
        args.companion = reinterpret_cast<const unsigned char*>(next);
        abi::dotRowsAvx512(args);
        return;
    }
#endif
    args.scratch = panelScratch(tokens);
    runGemm(isa == Isa::Avx512Vnni ? Isa::Avx512 : isa, args);
}

void accumulateRows(Isa isa, const float* p, int64_t ldp, int64_t rows, int64_t keys,
                    const float* v, int64_t ldv, int64_t cols, float* o, int64_t ldo) {
    const abi::AccumulateArgs args{p, ldp, rows, keys, v, ldv, cols, o, ldo};
    if (rows <= 0 || keys <= 0 || cols <= 0)
        return;
    switch (isa) {
#if defined(GRIFFIN_X86_KERNELS)
        case Isa::Avx512Vnni:
        case Isa::Avx512:
            abi::accumulateAvx512(args);
            return;
        case Isa::Avx2:
            abi::accumulateAvx2(args);
            return;
#endif
        default:
            abi::accumulateScalar(args);
            return;
    }
}

void rgLruSteps(Isa isa, const float* x, const float* gateXPre, const float* gateAPre,
                const float* logA, const float* y, bool reset, int64_t n, float* h, float* gated) {
#if defined(GRIFFIN_X86_KERNELS)
    if (isa == Isa::Avx512 || isa == Isa::Avx512Vnni) {
        abi::rgLruStepsAvx512(x, gateXPre, gateAPre, logA, y, reset, n, h, gated);
        return;
    }
#endif
    for (int64_t i = 0; i < n; ++i) {
        h[i] = rgLruStep(x[i], gateXPre[i], gateAPre[i], logA[i], h[i], reset);
        gated[i] = h[i] * y[i];
    }
}

}  // namespace griffin::cpu
