// SPDX-License-Identifier: Apache-2.0
// Shared by the Vulkan tests: a validated device with a registry, recorder and arena; random
// data; error reports. Every Vulkan test runs on lavapipe with the validation layer, and any
// validation warning or error fails it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <QtTest>

#include "bf16.h"
#include "vulkan/buffer.h"
#include "vulkan/command_recorder.h"
#include "vulkan/context.h"
#include "vulkan/ops.h"
#include "vulkan/pipeline_registry.h"
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
