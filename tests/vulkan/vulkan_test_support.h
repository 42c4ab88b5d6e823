// SPDX-License-Identifier: Apache-2.0
// Shared by the Vulkan tests: a validated device with a registry, recorder and arena; random
// data; error reports. Every Vulkan test runs on lavapipe with the validation layer, and any
// validation warning or error fails it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <QtTest>

#include "bf16.h"
#include "griffin/model.h"
#include "quant.h"
#include "vulkan/buffer.h"
#include "vulkan/command_recorder.h"
#include "vulkan/context.h"
#include "vulkan/ops.h"
#include "vulkan/pipeline_registry.h"
#include "vulkan/push_constants.h"
#include "vulkan/transfer.h"

namespace griffin::test {

struct VulkanRig {
    std::unique_ptr<vulkan::Context> context;
    std::unique_ptr<vulkan::PipelineRegistry> registry;
    std::unique_ptr<vulkan::Arena> arena;
    std::unique_ptr<vulkan::CommandRecorder> recorder;
    std::unique_ptr<vulkan::Transfer> transfer;
    // Matrix products with matvec_subgroup where the device supports it (else matvec).
    bool subgroupMatvec = true;

    // Null (after a QSKIP-worthy message in `why`) when no device is available.
    static std::unique_ptr<VulkanRig> make(std::string* why) {
        auto rig = std::make_unique<VulkanRig>();
        vulkan::ContextOptions options;
        options.validation = true;
        auto ctx = vulkan::Context::create(options);
        if (!ctx) {
            *why = ctx.error().message;
            return nullptr;
        }
        rig->context = std::move(*ctx);
        auto reg = vulkan::PipelineRegistry::create(*rig->context);
        if (!reg) {
            *why = reg.error().message;
            return nullptr;
        }
        rig->registry = std::move(*reg);
        rig->arena = std::make_unique<vulkan::Arena>(*rig->context, 4 << 20);
        auto rec = vulkan::CommandRecorder::create(*rig->context, *rig->registry);
        if (!rec) {
            *why = rec.error().message;
            return nullptr;
        }
        rig->recorder = std::move(*rec);
        auto transfer = vulkan::Transfer::create(*rig->context, 1 << 20);
        if (!transfer) {
            *why = transfer.error().message;
            return nullptr;
        }
        rig->transfer = std::move(*transfer);
        return rig;
    }

    vulkan::BufferSlice upload(const std::vector<float>& v) {
        auto s = vulkan::uploadFloats(*arena, *transfer, v);
        if (!s)
            qFatal("upload: %s", s.error().message.c_str());
        if (auto f = transfer->flush(); !f)
            qFatal("upload: %s", f.error().message.c_str());
        return *s;
    }
    vulkan::BufferSlice zeros(size_t n) { return upload(std::vector<float>(n, 0.0f)); }

    // `m` on the device, its rows split into buffers of at most `chunk` bytes (0: the device's
    // storage range).
    vulkan::DeviceMatrix device(const Matrix& m, VkDeviceSize chunk = 0) {
        auto d = vulkan::uploadMatrix(*arena, *transfer, m,
                                      chunk > 0 ? chunk : context->caps().maxStorageBufferRange);
        if (!d)
            qFatal("upload: %s", d.error().message.c_str());
        if (auto f = transfer->flush(); !f)
            qFatal("upload: %s", f.error().message.c_str());
        return std::move(*d);
    }

    // What is wrong with the device the op suites run on, or empty. CTest runs them at several
    // lavapipe subgroup sizes (GRIFFIN_EXPECT_SUBGROUP): each run must get its size. lavapipe
    // has subgroup arithmetic, so CI runs the subgroup matvec (and the other variant, forced).
    QString opSuiteProblem() const {
        const vulkan::DeviceCaps& caps = context->caps();
        if (const QByteArray want = qgetenv("GRIFFIN_EXPECT_SUBGROUP");
            !want.isEmpty() && caps.subgroupSize != want.toUInt()) {
            return QString("subgroup size %1, expected %2")
                .arg(caps.subgroupSize)
                .arg(QString::fromLatin1(want));
        }
        if (caps.name.find("llvmpipe") != std::string::npos && !caps.subgroupArithmetic)
            return "lavapipe without subgroup arithmetic";
        return {};
    }

    // Logs and clears the validation layer's messages; true when there were none.
    bool takeValidationMessages() {
        const auto messages = context->validationMessages();
        for (const std::string& m : messages) qWarning("validation: %s", m.c_str());
        context->clearValidationMessages();
        return messages.empty();
    }

    // Records `record` into one command buffer, runs it and waits.
    bool run(const std::function<Status(vulkan::OpRecorder&)>& record) {
        vulkan::OpRecorder ops(*registry, *recorder);
        ops.setSubgroupMatvec(subgroupMatvec);
        if (auto s = recorder->begin(); !s) {
            qWarning("begin: %s", s.error().message.c_str());
            return false;
        }
        if (auto s = record(ops); !s) {
            qWarning("record: %s", s.error().message.c_str());
            return false;
        }
        if (auto s = recorder->submitAndWait(); !s) {
            qWarning("submit: %s", s.error().message.c_str());
            return false;
        }
        return true;
    }
};

inline std::vector<float> read(const vulkan::BufferSlice& s, size_t n) {
    const float* p = s.as<const float>();
    return std::vector<float>(p, p + n);
}

inline std::vector<float> randomFloats(std::mt19937& rng, size_t n, float scale = 1.0f) {
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Raw storage of a random [rows, cols] matrix of `type` (little-endian, as in safetensors).
inline std::vector<uint16_t> randomHalfBits(std::mt19937& rng, size_t n, WeightType type) {
    std::vector<uint16_t> bits(n);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::uniform_int_distribution<int> mant(0, 0x3FF), expo(9, 15), sign(0, 1);
    for (uint16_t& b : bits) {
        if (type == WeightType::BF16) {
            b = floatToBf16(dist(rng));
        } else {
            b = static_cast<uint16_t>((sign(rng) << 15) | (expo(rng) << 10) | mant(rng));
        }
    }
    return bits;
}

// Host storage of a random matrix and its Matrix view (the CPU reference reads the same values).
struct HostMatrix {
    std::vector<float> f32;
    std::vector<uint16_t> half;
    std::vector<std::byte> blocks;
    std::vector<float> dequantized;  // block types: the values the device multiplies
    Matrix view;
    // The same values as an f32 matrix (the CPU reference for block types, whose own CPU
    // kernels also quantize the activations).
    Matrix reference() const {
        return blocks.empty() ? view
                              : Matrix{WeightType::F32, dequantized.data(), view.rows, view.cols};
    }
};

inline HostMatrix randomMatrix(std::mt19937& rng, WeightType type, int64_t rows, int64_t cols) {
    HostMatrix m;
    const size_t n = static_cast<size_t>(rows * cols);
    if (type == WeightType::F32) {
        m.f32 = test::randomFloats(rng, n);
        m.view = Matrix{type, m.f32.data(), rows, cols};
    } else if (isBlockQuantized(type)) {
        const auto values = test::randomFloats(rng, n);
        const size_t perRow = rowBytes(type, cols);
        m.blocks.resize(perRow * static_cast<size_t>(rows));
        m.dequantized.resize(n);
        for (int64_t r = 0; r < rows; ++r) {
            quantizeRow(type, values.data() + r * cols, cols, m.blocks.data() + r * perRow);
            dequantizeRow(type, m.blocks.data() + r * perRow, cols,
                          m.dequantized.data() + r * cols);
        }
        m.view = Matrix{type, m.blocks.data(), rows, cols};
    } else {
        m.half = test::randomHalfBits(rng, n, type);
        m.view = Matrix{type, m.half.data(), rows, cols};
    }
    return m;
}

inline WeightType typeOf(const QString& name) {
    return parseWeightType(name.toStdString()).value_or(WeightType::F32);
}

// Step parameters (token, position) for each token of a batch, as the backend writes them.
inline std::vector<float> stepParamWords(const std::vector<std::pair<int32_t, int32_t>>& entries) {
    std::vector<float> words(entries.size() * 4, 0.0f);
    for (size_t i = 0; i < entries.size(); ++i) {
        const vulkan::StepParams p{entries[i].first, entries[i].second, {0, 0}};
        std::memcpy(words.data() + i * 4, &p, sizeof p);
    }
    return words;
}

struct ErrorStats {
    double maxAbs = 0.0;
    double maxRel = 0.0;  // relative to max |expected|
};

inline ErrorStats compare(const std::vector<float>& got, const std::vector<float>& want) {
    ErrorStats e;
    if (got.size() != want.size())
        return {INFINITY, INFINITY};
    double scale = 0.0;
    for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
    for (size_t i = 0; i < got.size(); ++i) {
        const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        e.maxAbs = std::isnan(d) ? INFINITY : std::max(e.maxAbs, d);
    }
    e.maxRel = scale > 0 ? e.maxAbs / scale : e.maxAbs;
    return e;
}

// Logs the errors; true when within `relTolerance`. Use as QVERIFY(withinTolerance(...)).
inline bool withinTolerance(const char* what, const ErrorStats& e, double relTolerance) {
    qInfo("%-36s max abs %.3g, max rel %.3g (tolerance rel %.0e)", what, e.maxAbs, e.maxRel,
          relTolerance);
    return e.maxRel <= relTolerance;
}

}  // namespace griffin::test
