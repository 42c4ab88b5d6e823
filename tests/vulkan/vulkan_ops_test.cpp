// SPDX-License-Identifier: Apache-2.0
// Every Vulkan op against the CPU reference op (cpu/ops.h) on random data, for f32, bf16 and f16
// weights where the op reads weights; sizes that are not multiples of the workgroup sizes; the
// row chunking of large tensors; determinism. Any validation message fails the test.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <QtTest>

#include "backend.h"
#include "cpu/ops.h"
#include "cpu/thread_pool.h"
#include "griffin/model.h"
#include "quant.h"
#include "vulkan_test_support.h"

using namespace griffin;
using namespace griffin::vulkan;
using griffin::test::compare;
using griffin::test::withinTolerance;

namespace {

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

HostMatrix randomMatrix(std::mt19937& rng, WeightType type, int64_t rows, int64_t cols) {
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

// Step parameters (token, position) for each token of a batch, as the backend writes them.
std::vector<float> stepParamWords(const std::vector<std::pair<int32_t, int32_t>>& entries) {
    std::vector<float> words(entries.size() * 4, 0.0f);
    for (size_t i = 0; i < entries.size(); ++i) {
        const StepParams p{entries[i].first, entries[i].second, {0, 0}};
        std::memcpy(words.data() + i * 4, &p, sizeof p);
    }
    return words;
}

WeightType typeOf(const QString& name) {
    return parseWeightType(name.toStdString()).value_or(WeightType::F32);
}

}  // namespace

class VulkanOpsTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<test::VulkanRig> m_rig;
    cpu::ThreadPool m_pool{1};

    DeviceMatrix device(const Matrix& m, VkDeviceSize chunk = 0) {
        auto d = uploadMatrix(*m_rig->arena, *m_rig->transfer, m,
                              chunk > 0 ? chunk : m_rig->context->caps().maxStorageBufferRange);
        if (!d)
            qFatal("upload: %s", d.error().message.c_str());
        if (auto f = m_rig->transfer->flush(); !f)
            qFatal("upload: %s", f.error().message.c_str());
        return std::move(*d);
    }

private slots:
    void initTestCase() {
        std::string why;
        m_rig = test::VulkanRig::make(&why);
        if (!m_rig)
            QSKIP(qPrintable(QString("no Vulkan device: ") + why.c_str()));
        qInfo("device: %s", describeDevice(m_rig->context->caps()).c_str());
        // CTest runs this suite at several lavapipe subgroup sizes: make sure each run got its.
        if (const QByteArray want = qgetenv("GRIFFIN_EXPECT_SUBGROUP"); !want.isEmpty())
            QCOMPARE(m_rig->context->caps().subgroupSize, want.toUInt());
        // lavapipe has subgroup arithmetic: CI runs the subgroup matvec (and the other variant,
        // forced, in matvecMatchesCpuMatmul).
        if (m_rig->context->caps().name.find("llvmpipe") != std::string::npos)
            QVERIFY(m_rig->context->caps().subgroupArithmetic);
    }

    void cleanup() {
        if (!m_rig)
            return;
        const auto messages = m_rig->context->validationMessages();
        for (const std::string& m : messages) qWarning("validation: %s", m.c_str());
        m_rig->context->clearValidationMessages();
        QVERIFY2(messages.empty(), "the validation layer reported messages");
    }

    void cleanupTestCase() { m_rig.reset(); }

    void matvecMatchesCpuMatmul_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        for (const char* type : {"f32", "bf16", "f16"}) {
            QTest::addRow("%s 1x1", type) << type << 1 << 1;
            QTest::addRow("%s 37x53", type) << type << 37 << 53;
            QTest::addRow("%s 192x64", type) << type << 192 << 64;
            QTest::addRow("%s 64x257", type) << type << 64 << 257;
        }
        for (const char* type : {"q8_0", "q4_0"}) {
            QTest::addRow("%s 1x32", type) << type << 1 << 32;
            QTest::addRow("%s 37x96", type) << type << 37 << 96;
            QTest::addRow("%s 192x64", type) << type << 192 << 64;
            QTest::addRow("%s 64x2080", type) << type << 64 << 2080;  // 65 blocks: > 1 per lane
        }
    }
    void matvecMatchesCpuMatmul() {
        QFETCH(QString, type);
        QFETCH(int, rows);
        QFETCH(int, cols);
        std::mt19937 rng(static_cast<unsigned>(rows * 1000 + cols));
        HostMatrix w = randomMatrix(rng, typeOf(type), rows, cols);
        const auto x = test::randomFloats(rng, static_cast<size_t>(cols));
        const auto bias = test::randomFloats(rng, static_cast<size_t>(rows));
        std::vector<float> want(static_cast<size_t>(rows));
        cpu::matmul(m_pool, w.reference(), x.data(), 1, bias.data(), want.data());

        DeviceMatrix dw = device(w.view);
        QCOMPARE(dw.type, w.view.type);  // block types stay quantized on the device
        auto dx = m_rig->upload(x), db = m_rig->upload(bias);
        auto out1 = m_rig->zeros(static_cast<size_t>(rows));
        auto out2 = m_rig->zeros(static_cast<size_t>(rows));
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            if (auto s = ops.matvec(dw, dx, &db, out1, 0); !s)
                return s;
            return ops.matvec(dw, dx, &db, out2, 0);
        }));
        const auto got = test::read(out1, static_cast<size_t>(rows));
        QVERIFY(withinTolerance(qPrintable("matvec " + type), compare(got, want), 1e-5));
        // Deterministic: no float atomics, a fixed reduction order.
        QVERIFY(std::memcmp(got.data(), out2.mapped, got.size() * 4) == 0);

        // The variant for devices without subgroup arithmetic (a workgroup per row) too.
        m_rig->subgroupMatvec = false;
        auto out3 = m_rig->zeros(static_cast<size_t>(rows));
        const bool ran =
            m_rig->run([&](OpRecorder& ops) { return ops.matvec(dw, dx, &db, out3, 0); });
        m_rig->subgroupMatvec = true;
        QVERIFY(ran);
        QVERIFY(withinTolerance(qPrintable("matvec (workgroup rows) " + type),
                                compare(test::read(out3, static_cast<size_t>(rows)), want), 1e-5));
    }

    void matvecEpiloguesMatchCpu_data() {
        QTest::addColumn<int>("flags");
        QTest::newRow("gelu") << int(kMatvecGelu);
        QTest::newRow("accumulate") << int(kMatvecAccumulate);
        QTest::newRow("soft cap") << int(kMatvecSoftCap);
    }
    void matvecEpiloguesMatchCpu() {
        QFETCH(int, flags);
        const int rows = 45, cols = 70;
        std::mt19937 rng(7);
        HostMatrix w = randomMatrix(rng, WeightType::BF16, rows, cols);
        const auto x = test::randomFloats(rng, cols, 4.0f);
        const auto bias = test::randomFloats(rng, rows);
        const auto residual = test::randomFloats(rng, rows);
        std::vector<float> want(rows);
        cpu::matmul(m_pool, w.view, x.data(), 1, bias.data(), want.data());
        const float cap = 3.0f;  // small, so that the cap bends the values
        for (int i = 0; i < rows; ++i) {
            if (flags == kMatvecGelu)
                want[i] = cpu::gelu(want[i]);
            if (flags == kMatvecAccumulate)
                want[i] = residual[i] + want[i];
        }
        if (flags == kMatvecSoftCap)
            cpu::softCap(want.data(), rows, cap);

        DeviceMatrix dw = device(w.view);
        auto dx = m_rig->upload(x), db = m_rig->upload(bias), out = m_rig->upload(residual);
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            return ops.matvec(dw, dx, &db, out, static_cast<uint32_t>(flags), cap);
        }));
        QVERIFY(
            withinTolerance(QTest::currentDataTag(), compare(test::read(out, rows), want), 1e-5));
    }

    // Prefill's multi-column matvec: every column equals a single-column matvec bit for bit,
    // for every weight type and epilogue, over row chunks, with padded row strides and a
    // column count that is not a power of two.
    void matvecColumnsEqualsOneColumnAtATime_data() { chunkedEmbeddingAndHeadMatchCpu_data(); }
    void matvecColumnsEqualsOneColumnAtATime() {
        QFETCH(QString, type);
        const int rows = 83, cols = isBlockQuantized(typeOf(type)) ? 96 : 70;
        const uint32_t columns = 5, xStride = static_cast<uint32_t>(cols) + 6,
                       outStride = static_cast<uint32_t>(rows) + 9;
        std::mt19937 rng(31);
        HostMatrix w = randomMatrix(rng, typeOf(type), rows, cols);
        DeviceMatrix dw = device(w.view, 40 * 16);  // several row chunks
        QVERIFY(dw.chunks.size() > 1);
        const auto x = test::randomFloats(rng, columns * xStride, 2.0f);
        const auto bias = test::randomFloats(rng, rows);
        const auto residual = test::randomFloats(rng, columns * outStride);
        auto dx = m_rig->upload(x), db = m_rig->upload(bias);
        for (uint32_t flags : {0u, uint32_t{kMatvecGelu}, uint32_t{kMatvecAccumulate}}) {
            auto out = m_rig->upload(residual);
            std::vector<BufferSlice> xs, singles;
            for (uint32_t t = 0; t < columns; ++t) {
                xs.push_back(m_rig->upload(
                    std::vector<float>(x.begin() + t * xStride, x.begin() + t * xStride + cols)));
                singles.push_back(m_rig->upload(std::vector<float>(
                    residual.begin() + t * outStride, residual.begin() + t * outStride + rows)));
            }
            QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
                if (auto st =
                        ops.matvecColumns(dw, dx, &db, out, flags, columns, xStride, outStride);
                    !st)
                    return st;
                for (uint32_t t = 0; t < columns; ++t) {
                    if (auto st = ops.matvec(dw, xs[t], &db, singles[t], flags); !st)
                        return st;
                }
                return {};
            }));
            const auto all = test::read(out, columns * outStride);
            for (uint32_t t = 0; t < columns; ++t) {
                const std::vector<float> got(all.begin() + t * outStride,
                                             all.begin() + t * outStride + rows);
                QCOMPARE(got, test::read(singles[t], rows));
                // The padding between output rows is untouched.
                for (uint32_t i = rows; i < outStride && t * outStride + i < all.size(); ++i)
                    QCOMPARE(all[t * outStride + i], residual[t * outStride + i]);
            }
        }
    }

    void rowChunksCoverTheMatrix() {
        const auto plan = planRowChunks(10, 12, 40);  // 3 rows of 12 bytes per 40-byte chunk
        QCOMPARE(plan.size(), size_t{4});
        QCOMPARE(plan[0].rows, int64_t{3});
        QCOMPARE(plan[3].firstRow, int64_t{9});
        QCOMPARE(plan[3].rows, int64_t{1});
        QCOMPARE(planRowChunks(4, 16, 16).size(), size_t{4});
        QCOMPARE(planRowChunks(4, 16, 1 << 20).size(), size_t{1});
    }

    // A tensor larger than the (forced, tiny) storage range: embedding rows and the LM head
    // GEMV read across chunks exactly as from one buffer.
    void chunkedEmbeddingAndHeadMatchCpu_data() {
        QTest::addColumn<QString>("type");
        QTest::newRow("f32") << "f32";
        QTest::newRow("bf16") << "bf16";
        QTest::newRow("f16") << "f16";
        QTest::newRow("q8_0") << "q8_0";
        QTest::newRow("q4_0") << "q4_0";
    }
    void chunkedEmbeddingAndHeadMatchCpu() {
        QFETCH(QString, type);
        const int rows = 301, cols = isBlockQuantized(typeOf(type)) ? 64 : 50;
        std::mt19937 rng(11);
        HostMatrix w = randomMatrix(rng, typeOf(type), rows, cols);
        const VkDeviceSize chunk = 7 * 100;  // 7 f32 rows, 14 half rows, 9-19 block rows
        DeviceMatrix dw = device(w.view, chunk);
        QVERIFY(dw.chunks.size() > 10);
        for (const BufferSlice& s : dw.chunks) QVERIFY(s.size <= chunk);

        const auto x = test::randomFloats(rng, cols);
        std::vector<float> wantLogits(rows);
        cpu::matmul(m_pool, w.reference(), x.data(), 1, nullptr, wantLogits.data());
        cpu::softCap(wantLogits.data(), rows, 30.0f);
        const float scale = 8.0f;
        // Rows at both ends of chunks; every chunk is dispatched and only the one holding the
        // token writes (the others would overwrite it with their own rows).
        const int32_t tokens[] = {0, 6, 7, 150, 300};
        std::vector<std::pair<int32_t, int32_t>> entries;
        for (int32_t t : tokens) entries.push_back({t, 0});
        const BufferSlice params = m_rig->upload(stepParamWords(entries));
        std::vector<BufferSlice> rowsOut;
        for (size_t i = 0; i < std::size(tokens); ++i) rowsOut.push_back(m_rig->zeros(cols));
        auto dx = m_rig->upload(x), logits = m_rig->zeros(rows);
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            for (size_t i = 0; i < std::size(tokens); ++i) {
                if (auto s =
                        ops.embedGather(dw, scale, rowsOut[i], params, static_cast<uint32_t>(i));
                    !s) {
                    return s;
                }
            }
            return ops.matvec(dw, dx, nullptr, logits, kMatvecSoftCap, 30.0f);
        }));
        for (size_t i = 0; i < std::size(tokens); ++i) {
            std::vector<float> want(cols);
            loadRow(w.view, tokens[i], want.data());
            for (float& v : want) v *= scale;
            QCOMPARE(test::read(rowsOut[i], cols), want);  // exact: a product by a power of 2
        }
        QVERIFY(withinTolerance(qPrintable("chunked LM head " + type),
                                compare(test::read(logits, rows), wantLogits), 1e-5));
    }

    // A real tensor past the device's storage-buffer range (128 MiB on lavapipe; the 2B model's
    // embedding is 1.3 GB in bf16): split at the device limit, not a lowered test limit. The
    // rows on both sides of the split gather exactly and the LM head over both chunks matches
    // the CPU.
    void tensorLargerThanTheStorageRangeIsSplit() {
        const VkDeviceSize range = m_rig->context->caps().maxStorageBufferRange;
        if (range > (VkDeviceSize{512} << 20))
            QSKIP("this device's storage range is above 512 MiB: a tensor past it is too large");
        const int64_t cols = 2560;  // the 2B model's width
        const VkDeviceSize rowBytes = cols * 2;
        const int64_t rows = static_cast<int64_t>(range / rowBytes) + 117;
        std::mt19937 rng(23);
        HostMatrix w = randomMatrix(rng, WeightType::BF16, rows, cols);
        QVERIFY(static_cast<VkDeviceSize>(rows) * rowBytes > range);
        DeviceMatrix dw = device(w.view);
        QCOMPARE(dw.chunks.size(), size_t{2});
        for (const BufferSlice& c : dw.chunks) QVERIFY(c.size <= range);
        const int32_t split = static_cast<int32_t>(dw.ranges[1].firstRow);
        const int32_t tokens[] = {0, split - 1, split, static_cast<int32_t>(rows - 1)};
        std::vector<std::pair<int32_t, int32_t>> entries;
        for (int32_t t : tokens) entries.push_back({t, 0});
        const BufferSlice params = m_rig->upload(stepParamWords(entries));
        std::vector<BufferSlice> gathered;
        for (size_t i = 0; i < std::size(tokens); ++i) gathered.push_back(m_rig->zeros(cols));
        const auto x = test::randomFloats(rng, static_cast<size_t>(cols));
        auto dx = m_rig->upload(x), logits = m_rig->zeros(static_cast<size_t>(rows));
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            for (size_t i = 0; i < std::size(tokens); ++i) {
                if (auto s =
                        ops.embedGather(dw, 2.0f, gathered[i], params, static_cast<uint32_t>(i));
                    !s) {
                    return s;
                }
            }
            return ops.matvec(dw, dx, nullptr, logits, 0);
        }));
        for (size_t i = 0; i < std::size(tokens); ++i) {
            std::vector<float> want(static_cast<size_t>(cols));
            loadRow(w.view, tokens[i], want.data());
            for (float& v : want) v *= 2.0f;
            QCOMPARE(test::read(gathered[i], static_cast<size_t>(cols)), want);
        }
        std::vector<float> wantLogits(static_cast<size_t>(rows));
        cpu::matmul(m_pool, w.view, x.data(), 1, nullptr, wantLogits.data());
        QVERIFY(withinTolerance("LM head over a tensor past the storage range",
                                compare(test::read(logits, static_cast<size_t>(rows)), wantLogits),
                                1e-5));
    }

    // Discrete GPUs keep weights in memory the host cannot map: uploads go through a staging
    // buffer. Forced here (lavapipe could map it) with a staging buffer smaller than the matrix,
    // so that uploads and read-backs flush many times; the device bytes and a matvec over them
    // must equal the mapped upload's bit for bit.
    void stagedUploadEqualsMappedUpload_data() { chunkedEmbeddingAndHeadMatchCpu_data(); }
    void stagedUploadEqualsMappedUpload() {
        QFETCH(QString, type);
        const int rows = 301, cols = isBlockQuantized(typeOf(type)) ? 128 : 70;
        std::mt19937 rng(23);
        HostMatrix w = randomMatrix(rng, typeOf(type), rows, cols);
        auto transfer = Transfer::create(*m_rig->context, 4096);
        QVERIFY(transfer.has_value());
        Transfer& t = **transfer;
        Arena deviceArena(*m_rig->context, 1 << 20, MemoryKind::Device, /*allowMapping=*/false,
                          [&t](VkBuffer b, VkDeviceSize bytes) { return t.zero(b, 0, bytes); });
        auto staged = uploadMatrix(deviceArena, t, w.view, 1000);
        QVERIFY2(staged.has_value(), staged ? "" : staged.error().message.c_str());
        QVERIFY(t.flush().has_value());
        QVERIFY(!deviceArena.mapped());
        QVERIFY(t.stagedBytes() > 4 * t.capacity());  // many batches
        DeviceMatrix mapped = device(w.view, 1000);
        QCOMPARE(staged->chunks.size(), mapped.chunks.size());
        for (size_t i = 0; i < mapped.chunks.size(); ++i) {
            QVERIFY(staged->chunks[i].mapped == nullptr);
            std::vector<std::byte> got(staged->chunks[i].size);
            QVERIFY(t.read(staged->chunks[i], 0, got.size(), got.data()).has_value());
            QVERIFY(t.flush().has_value());
            QVERIFY(std::memcmp(got.data(), mapped.chunks[i].mapped, got.size()) == 0);
        }
        // A zero-filled unmapped slice reads back as zeros; a matvec writes into unmapped memory.
        auto out = deviceArena.allocate(rows * 4);
        QVERIFY(out.has_value());
        std::vector<float> zeros(rows, 1.0f);
        QVERIFY(t.read(*out, 0, rows * 4, zeros.data()).has_value());
        QVERIFY(t.flush().has_value());
        QCOMPARE(zeros, std::vector<float>(rows, 0.0f));
        const auto x = test::randomFloats(rng, cols);
        auto dx = m_rig->upload(x);
        auto wantOut = m_rig->zeros(rows);
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            if (auto s = ops.matvec(*staged, dx, nullptr, *out, 0); !s)
                return s;
            return ops.matvec(mapped, dx, nullptr, wantOut, 0);
        }));
        std::vector<float> got(rows);
        QVERIFY(t.read(*out, 0, rows * 4, got.data()).has_value());
        QVERIFY(t.flush().has_value());
        QCOMPARE(got, test::read(wantOut, rows));
    }

    void rmsNormMatchesCpu_data() {
        QTest::addColumn<int>("n");
        QTest::newRow("1") << 1;
        QTest::newRow("64") << 64;
        QTest::newRow("1000") << 1000;
    }
    void rmsNormMatchesCpu() {
        QFETCH(int, n);
        std::mt19937 rng(static_cast<unsigned>(n));
        const auto x = test::randomFloats(rng, n, 3.0f);
        auto gain = test::randomFloats(rng, n);
        for (float& g : gain) g += 1.0f;
        std::vector<float> want(n);
        cpu::rmsNorm(x.data(), gain.data(), 1, n, 1e-6, want.data());
        auto dx = m_rig->upload(x), dg = m_rig->upload(gain), out = m_rig->zeros(n);
        QVERIFY(m_rig->run([&](OpRecorder& ops) { return ops.rmsNorm(dx, dg, n, 1e-6f, out); }));
        QVERIFY(withinTolerance("rms_norm", compare(test::read(out, n), want), 1e-6));
    }

    void blockDiagonalMatchesCpu_data() {
        QTest::addColumn<QString>("type");
        QTest::newRow("f32") << "f32";
        QTest::newRow("bf16") << "bf16";
        QTest::newRow("f16") << "f16";
    }
    void blockDiagonalMatchesCpu() {
        QFETCH(QString, type);
        const int blocks = 3, bw = 33, n = blocks * bw;
        std::mt19937 rng(5);
        HostMatrix w = randomMatrix(rng, typeOf(type), n, bw);
        const auto x = test::randomFloats(rng, n), bias = test::randomFloats(rng, n);
        std::vector<float> want(n);
        cpu::blockDiagonal(w.view, bias.data(), x.data(), want.data());
        DeviceMatrix dw = device(w.view);
        auto dx = m_rig->upload(x), db = m_rig->upload(bias), out = m_rig->zeros(n);
        QVERIFY(m_rig->run([&](OpRecorder& ops) { return ops.blockDiag(dw, dx, db, out); }));
        QVERIFY(withinTolerance(qPrintable("block_diag_matvec " + type),
                                compare(test::read(out, n), want), 1e-5));
    }

    void gegluMatchesCpu() {
        const int n = 200;
        std::mt19937 rng(3);
        auto gate = test::randomFloats(rng, n, 6.0f);
        gate[0] = 40.0f;  // tanh argument far past the clamp
        gate[1] = -40.0f;
        const auto up = test::randomFloats(rng, n);
        std::vector<float> want(n);
        for (int i = 0; i < n; ++i) want[i] = cpu::gelu(gate[i]) * up[i];
        auto dg = m_rig->upload(gate), du = m_rig->upload(up), out = m_rig->zeros(n);
        QVERIFY(m_rig->run([&](OpRecorder& ops) { return ops.geglu(dg, du, out, n); }));
        QVERIFY(withinTolerance("geglu", compare(test::read(out, n), want), 1e-5));
    }

    void conv1dStepMatchesReferenceAndShiftsTheTail() {
        const int L = 70, K = 4;
        std::mt19937 rng(9);
        const auto weight = test::randomFloats(rng, K * L), bias = test::randomFloats(rng, L);
        auto tail = test::randomFloats(rng, (K - 1) * L);
        auto dw = m_rig->upload(weight), db = m_rig->upload(bias), dt = m_rig->upload(tail);
        auto out = m_rig->zeros(L);
        for (int step = 0; step < 3; ++step) {
            const auto x = test::randomFloats(rng, L);
            std::vector<float> want(L);
            for (int c = 0; c < L; ++c) {  // as cpu_backend.cpp's recurrentBlock for T = 1
                float acc = bias[c];
                for (int k = 0; k < K - 1; ++k) acc += weight[k * L + c] * tail[k * L + c];
                want[c] = acc + weight[(K - 1) * L + c] * x[c];
            }
            tail.erase(tail.begin(), tail.begin() + L);
            tail.insert(tail.end(), x.begin(), x.end());
            auto dx = m_rig->upload(x);
            QVERIFY(m_rig->run(
                [&](OpRecorder& ops) { return ops.conv1dStep(dx, dw, db, dt, out, L, K); }));
            QVERIFY(withinTolerance("conv1d_step", compare(test::read(out, L), want), 1e-6));
            QCOMPARE(test::read(dt, (K - 1) * L), tail);
        }
    }

    void rgLruStepMatchesCpuWithAndWithoutReset_data() {
        QTest::addColumn<bool>("reset");
        QTest::newRow("position 0 (reset)") << true;
        QTest::newRow("position > 0") << false;
    }
    void rgLruStepMatchesCpuWithAndWithoutReset() {
        QFETCH(bool, reset);
        const int L = 130;
        std::mt19937 rng(13);
        const auto x = test::randomFloats(rng, L, 2.0f), y = test::randomFloats(rng, L);
        auto gx = test::randomFloats(rng, L, 8.0f), ga = test::randomFloats(rng, L, 8.0f);
        auto logA = test::randomFloats(rng, L, 4.0f);
        for (float& a : logA) a = -std::fabs(a);
        logA[0] = -1e-5f;  // a -> 1: the sqrt(1 - a^2) cancellation case
        ga[1] = 30.0f;
        gx[2] = -30.0f;
        const auto h0 = test::randomFloats(rng, L);
        std::vector<float> wantH(L), wantOut(L);
        for (int c = 0; c < L; ++c) {
            wantH[c] = cpu::rgLruStep(x[c], gx[c], ga[c], logA[c], h0[c], reset);
            wantOut[c] = wantH[c] * y[c];
        }
        auto dx = m_rig->upload(x), dgx = m_rig->upload(gx), dga = m_rig->upload(ga);
        auto dl = m_rig->upload(logA), dh = m_rig->upload(h0), dy = m_rig->upload(y);
        auto out = m_rig->zeros(L);
        // The reset comes from the position in the step parameters (entry 1 of two).
        const auto params = m_rig->upload(stepParamWords({{0, 5}, {0, reset ? 0 : 9}}));
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            return ops.rgLruStep(dx, dgx, dga, dl, dh, dy, out, L, params, 1);
        }));
        QVERIFY(withinTolerance("rg_lru_step h", compare(test::read(dh, L), wantH), 1e-5));
        QVERIFY(withinTolerance("rg_lru_step out", compare(test::read(out, L), wantOut), 1e-5));
    }

    void ropeMatchesCpuAtSmallAndLargePositions_data() {
        QTest::addColumn<int>("position");
        QTest::newRow("0") << 0;
        QTest::newRow("7") << 7;
        QTest::newRow("100000") << 100000;
    }
    void ropeMatchesCpuAtSmallAndLargePositions() {
        QFETCH(int, position);
        const int heads = 3, hd = 32, ropeDims = 16, half = ropeDims / 2;
        std::vector<float> invFreq(half);
        cpu::ropeInverseFrequencies(ropeDims, 10000.0, invFreq.data());
        std::mt19937 rng(17);
        const auto v = test::randomFloats(rng, heads * hd);
        auto want = v;
        for (int h = 0; h < heads; ++h)
            cpu::applyRope(want.data() + h * hd, ropeDims, position, invFreq.data());
        std::vector<float> table(2 * half);
        for (int i = 0; i < half; ++i) {  // as VulkanBackend: f32 angle, double cos/sin
            const float angle = static_cast<float>(position) * invFreq[i];
            table[2 * i] = static_cast<float>(std::cos(static_cast<double>(angle)));
            table[2 * i + 1] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
        auto dv = m_rig->upload(v), dt = m_rig->upload(table);
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            return ops.rope(dv, dt, RopePush{heads, hd, ropeDims, 0, 0});
        }));
        QVERIFY(withinTolerance("rope", compare(test::read(dv, heads * hd), want), 1e-6));
    }

    // Attention over a ring of W slots plus the current key; the reference is the CPU backend's
    // decode loop (T = 1). At position >= W the query sees W + 1 keys, its own included.
    void attentionDecodeMatchesReferenceAroundTheWindowEdge_data() {
        QTest::addColumn<int>("position");
        QTest::addColumn<int>("filled");     // slots holding positions position-filled..position-1
        QTest::addColumn<bool>("stale");     // one slot overwritten by a key outside the window
        QTest::addColumn<int>("keys");       // keys the query sees
        QTest::addColumn<int>("splitKeys");  // keys per split (0: the default, one split here)
        for (int split : {0, 3, 1}) {
            QTest::addRow("first token, split %d", split) << 0 << 0 << false << 1 << split;
            QTest::addRow("partly filled, split %d", split) << 3 << 3 << false << 4 << split;
            QTest::addRow("at the window edge, split %d", split) << 8 << 8 << false << 9 << split;
            QTest::addRow("past the window, split %d", split) << 21 << 8 << false << 9 << split;
            QTest::addRow("past the window, one stale slot, split %d", split)
                << 21 << 8 << true << 8 << split;
        }
    }
    void attentionDecodeMatchesReferenceAroundTheWindowEdge() {
        QFETCH(int, position);
        QFETCH(int, filled);
        QFETCH(bool, stale);
        QFETCH(int, keys);
        QFETCH(int, splitKeys);
        const int H = 4, KV = 2, hd = 20, W = 8, kvDim = KV * hd;
        std::mt19937 rng(static_cast<unsigned>(position + 100));
        const auto q = test::randomFloats(rng, H * hd), k = test::randomFloats(rng, kvDim);
        const auto v = test::randomFloats(rng, kvDim);
        const auto ringK = test::randomFloats(rng, W * kvDim, 2.0f);
        const auto ringV = test::randomFloats(rng, W * kvDim);
        std::vector<int32_t> slotPos(W, -1);
        for (int p = position - filled; p < position; ++p) slotPos[p % W] = p;
        if (stale)
            slotPos[(position + 3) % W] = position - W - 1;  // a stale key outside the window

        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        std::vector<float> want(H * hd, 0.0f);
        for (int h = 0; h < H; ++h) {
            const int kvh = h / (H / KV);
            std::vector<float> scores;
            std::vector<const float*> values;
            auto visit = [&](const float* key, const float* value) {
                float d = 0.0f;
                for (int i = 0; i < hd; ++i) d += q[h * hd + i] * key[i];
                scores.push_back(d * scale);
                values.push_back(value);
            };
            for (int s = 0; s < W; ++s) {
                if (slotPos[s] >= 0 && slotPos[s] >= position - W)
                    visit(&ringK[s * kvDim + kvh * hd], &ringV[s * kvDim + kvh * hd]);
            }
            visit(&k[kvh * hd], &v[kvh * hd]);
            QCOMPARE(static_cast<int>(scores.size()), keys);
            const float m = *std::max_element(scores.begin(), scores.end());
            double sum = 0.0;
            for (float& s : scores) sum += (s = std::exp(s - m));
            for (size_t j = 0; j < scores.size(); ++j) {
                for (int i = 0; i < hd; ++i)
                    want[h * hd + i] += static_cast<float>(scores[j] / sum) * values[j][i];
            }
        }
        std::vector<float> slotBits(W);
        std::memcpy(slotBits.data(), slotPos.data(), W * 4);
        // The position comes from the step parameters (entry 2 of three).
        const BufferSlice params =
            m_rig->upload(stepParamWords({{1, position + 40}, {2, 0}, {3, position}}));
        const uint32_t split = static_cast<uint32_t>(splitKeys);
        const size_t partials =
            static_cast<size_t>(OpRecorder::attentionPartialFloats(H, hd, W, split));
        const BufferSlice b[10] = {
            m_rig->upload(q),          m_rig->upload(k),       m_rig->upload(v),
            m_rig->upload(ringK),      m_rig->upload(ringV),   m_rig->upload(slotBits),
            m_rig->zeros(H * (W + 1)), m_rig->zeros(partials), params,
            m_rig->zeros(H * hd)};
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            return ops.attentionDecode(b, AttentionPush{H, KV, hd, W, 2, scale, split, 0, 0});
        }));
        const auto got = test::read(b[9], H * hd);
        QVERIFY(withinTolerance("attention_decode", compare(got, want), 1e-5));
        QVERIFY(m_rig->run([&](OpRecorder& ops) {  // again: the same bits
            return ops.attentionDecode(b, AttentionPush{H, KV, hd, W, 2, scale, split, 0, 0});
        }));
        QCOMPARE(test::read(b[9], H * hd), got);

        // kv_write then stores this token in slot position % W.
        const BufferSlice w[6] = {b[1], b[2], b[3], b[4], b[5], params};
        QVERIFY(m_rig->run([&](OpRecorder& ops) {
            return ops.kvWrite(w, KvWritePush{kvDim, W, 2, 1, 0});
        }));
        const int slot = position % W;
        QCOMPARE(b[5].as<int32_t>()[slot], position);
        QVERIFY(std::memcmp(b[3].as<float>() + slot * kvDim, k.data(), kvDim * 4) == 0);
        QVERIFY(std::memcmp(b[4].as<float>() + slot * kvDim, v.data(), kvDim * 4) == 0);
    }

    // The greedy choice on the device equals the host's (greedyChoice, Sampler's numbers): the
    // first maximum, and 1 / sum(exp(l - max)). Sizes below, at and far above one workgroup's
    // span, ties across workgroups, and the limit cutting the row short.
    void argmaxMatchesHostGreedyChoice_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("limit");
        QTest::addColumn<int>("tieA");  // -1: no tie
        QTest::addColumn<int>("tieB");
        QTest::newRow("1") << 1 << 1 << -1 << -1;
        QTest::newRow("63") << 63 << 63 << -1 << -1;
        QTest::newRow("64") << 64 << 64 << -1 << -1;
        QTest::newRow("1000") << 1000 << 1000 << -1 << -1;
        QTest::newRow("256000") << 256000 << 256000 << -1 << -1;
        QTest::newRow("tie across groups") << 100003 << 100003 << 70001 << 1234;
        QTest::newRow("tie inside a group") << 5000 << 5000 << 40 << 41;
        QTest::newRow("limit below the row") << 300 << 257 << -1 << -1;
    }
    void argmaxMatchesHostGreedyChoice() {
        QFETCH(int, n);
        QFETCH(int, limit);
        QFETCH(int, tieA);
        QFETCH(int, tieB);
        std::mt19937 rng(static_cast<unsigned>(n));
        auto logits = test::randomFloats(rng, n, 20.0f);
        if (tieA >= 0) {
            logits[tieA] = logits[tieB] = 50.0f;
        }
        if (limit < n)
            logits[n - 1] = 99.0f;  // the largest, but outside the limit
        const GreedyToken want =
            greedyChoice(std::span<const float>(logits).first(static_cast<size_t>(limit)));
        if (tieA >= 0)
            QCOMPARE(want.id, std::min(tieA, tieB));
        const BufferSlice dl = m_rig->upload(logits);
        const BufferSlice partials = m_rig->zeros(
            static_cast<size_t>(OpRecorder::argmaxPartialBytes(static_cast<uint32_t>(limit)) / 4));
        const BufferSlice result = m_rig->zeros(2);
        for (int run = 0; run < 2; ++run) {  // twice: identical bits
            QVERIFY(m_rig->run([&](OpRecorder& ops) {
                return ops.argmax(dl, static_cast<uint32_t>(limit), partials, result);
            }));
            const uint32_t* got = result.as<uint32_t>();
            QCOMPARE(static_cast<int32_t>(got[0]), want.id);
            float probability = 0.0f;
            std::memcpy(&probability, &got[1], 4);
            QVERIFY2(std::fabs(probability - want.probability) <= 1e-5f * want.probability,
                     qPrintable(QString("probability %1, host %2")
                                    .arg(probability, 0, 'g', 9)
                                    .arg(want.probability, 0, 'g', 9)));
        }
    }

    // Which bindings each shader writes comes from its SPIR-V (readonly buffers are
    // NonWritable); the recorder's barriers depend on it.
    void writtenBindingsComeFromTheShaders() {
        struct Want {
            const char* shader;
            std::vector<uint32_t> spec;
            uint32_t mask;
        };
        const Want wants[] = {
            {"matvec", {32, 0, 0}, 1u << 3},
            {"attention_decode", {64}, (1u << 6) | (1u << 7)},
            {"attention_combine", {64}, 1u << 1},
            {"rg_lru_step", {64}, (1u << 4) | (1u << 6)},
            {"kv_write", {64}, (1u << 2) | (1u << 3) | (1u << 4)},
            {"argmax", {64}, (1u << 1) | (1u << 2)},
            {"embed_gather", {64, 0}, 1u << 1},
            {"rope", {64}, 1u << 0},
        };
        for (const Want& w : wants) {
            auto p = m_rig->registry->get(w.shader, w.spec);
            QVERIFY(p.has_value());
            QCOMPARE((*p)->writtenBindings, w.mask);
        }
        QCOMPARE(writtenBindings(std::vector<uint32_t>{1, 2, 3}), ~0u);  // not SPIR-V
    }

    // Independent dispatches share no barrier; a dispatch that reads what an earlier one wrote
    // (or writes what it read) gets one. The synchronization validation layer checks the rest.
    void barriersOnlyWhereADispatchDependsOnAnEarlierOne() {
        std::mt19937 rng(29);
        HostMatrix a = randomMatrix(rng, WeightType::F32, 40, 64);
        DeviceMatrix da = device(a.view);
        const auto x = test::randomFloats(rng, 64);
        const BufferSlice dx = m_rig->upload(x), q = m_rig->zeros(40), k = m_rig->zeros(40),
                          v = m_rig->zeros(40), gain = m_rig->upload(std::vector<float>(40, 1.0f)),
                          normed = m_rig->zeros(40);
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            for (const BufferSlice* out : {&q, &k, &v}) {
                if (auto s = ops.matvec(da, dx, nullptr, *out, 0); !s)
                    return s;
            }
            return {};
        }));
        QCOMPARE(m_rig->recorder->barrierCount(), 0u);  // three readers of x, three outputs
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            if (auto s = ops.matvec(da, dx, nullptr, q, 0); !s)
                return s;
            if (auto s = ops.rmsNorm(q, gain, 40, 1e-6f, normed); !s)  // reads q
                return s;
            return ops.matvec(da, dx, nullptr, q, 0);  // writes q, which rmsNorm read
        }));
        QCOMPARE(m_rig->recorder->barrierCount(), 2u);
        std::vector<float> want(40);
        cpu::matmul(m_pool, a.view, x.data(), 1, nullptr, want.data());
        QVERIFY(withinTolerance("matvec without barriers", compare(test::read(q, 40), want), 1e-6));
    }

    // Prefill runs attention for a whole batch before storing any of its keys, and the ring
    // write once: the outputs, the ring and its positions must equal token-by-token decoding
    // (attention, then the write, for each token) bit for bit. 21 tokens with a window of 8:
    // tokens see earlier batch keys, ring keys from before the batch, and slots the batch
    // overwrites several times; split 3 puts the keys of one token in several splits.
    void batchedAttentionEqualsTokenByToken() {
        // Rows of 256 and 512 bytes: legal offsets for per-token bindings on any device.
        const uint32_t H = 8, KV = 4, hd = 16, W = 8, T = 21, kvDim = KV * hd, qDim = H * hd;
        const int32_t firstPos = 30;
        std::mt19937 rng(31);
        const auto q = test::randomFloats(rng, T * qDim), k = test::randomFloats(rng, T * kvDim);
        const auto v = test::randomFloats(rng, T * kvDim);
        const auto ringK = test::randomFloats(rng, W * kvDim),
                   ringV = test::randomFloats(rng, W * kvDim);
        std::vector<int32_t> ringPositions(W);
        for (int32_t p = firstPos - static_cast<int32_t>(W); p < firstPos; ++p)
            ringPositions[p % W] = p;
        ringPositions[3] = -1;  // one empty slot
        std::vector<float> slotBits(W);
        std::memcpy(slotBits.data(), ringPositions.data(), W * 4);
        std::vector<std::pair<int32_t, int32_t>> entries;
        for (uint32_t t = 0; t < T; ++t) entries.push_back({0, firstPos + static_cast<int32_t>(t)});
        const BufferSlice params = m_rig->upload(stepParamWords(entries));
        const float scale = 0.25f;
        const uint32_t split = 3;
        const size_t partials =
            static_cast<size_t>(OpRecorder::attentionPartialFloats(H, hd, W, split));
        struct Ring {
            BufferSlice keys, values, positions;
        };
        auto makeRing = [&] {
            return Ring{m_rig->upload(ringK), m_rig->upload(ringV), m_rig->upload(slotBits)};
        };
        const BufferSlice dq = m_rig->upload(q), dk = m_rig->upload(k), dv = m_rig->upload(v);

        // One token at a time, each its own submit.
        Ring one = makeRing();
        const BufferSlice outOne = m_rig->zeros(T * qDim), scores = m_rig->zeros(H * (W + 1));
        const BufferSlice partOne = m_rig->zeros(partials);
        auto rowOf = [](const BufferSlice& b, uint32_t t, uint32_t n) {
            return BufferSlice{b.buffer, b.offset + VkDeviceSize{t} * n * 4, VkDeviceSize{n} * 4,
                               b.mapped + VkDeviceSize{t} * n * 4};
        };
        for (uint32_t t = 0; t < T; ++t) {
            const BufferSlice qt = rowOf(dq, t, qDim), kt = rowOf(dk, t, kvDim),
                              vt = rowOf(dv, t, kvDim);
            const BufferSlice b[10] = {qt,         kt,
                                       vt,         one.keys,
                                       one.values, one.positions,
                                       scores,     partOne,
                                       params,     rowOf(outOne, t, qDim)};
            const BufferSlice w[6] = {kt, vt, one.keys, one.values, one.positions, params};
            QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
                if (auto s =
                        ops.attentionDecode(b, AttentionPush{H, KV, hd, W, t, scale, split, 0, 0});
                    !s) {
                    return s;
                }
                return ops.kvWrite(w, KvWritePush{kvDim, W, t, 1, 0});
            }));
        }
        // The batch: one attention dispatch pair, one write.
        Ring all = makeRing();
        const BufferSlice outAll = m_rig->zeros(T * qDim),
                          scoresAll = m_rig->zeros(T * H * (W + 1));
        const BufferSlice partAll = m_rig->zeros(T * partials);
        const BufferSlice b[10] = {dq,        dk,      dv,     all.keys, all.values, all.positions,
                                   scoresAll, partAll, params, outAll};
        const BufferSlice w[6] = {dk, dv, all.keys, all.values, all.positions, params};
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            if (auto s = ops.attentionDecode(
                    b, AttentionPush{H, KV, hd, W, 0, scale, split, qDim, kvDim}, T, qDim);
                !s) {
                return s;
            }
            return ops.kvWrite(w, KvWritePush{kvDim, W, 0, T, kvDim});
        }));
        const auto gotAll = test::read(outAll, T * qDim);
        QVERIFY(std::any_of(gotAll.begin(), gotAll.end(), [](float f) { return f != 0.0f; }));
        QCOMPARE(gotAll, test::read(outOne, T * qDim));
        QCOMPARE(test::read(all.keys, W * kvDim), test::read(one.keys, W * kvDim));
        QCOMPARE(test::read(all.values, W * kvDim), test::read(one.values, W * kvDim));
        QVERIFY(std::memcmp(all.positions.mapped, one.positions.mapped, W * 4) == 0);
        QCOMPARE(one.positions.as<int32_t>()[(firstPos + T - 1) % W],
                 firstPos + static_cast<int32_t>(T) - 1);
    }

    // Conv1D and the RG-LRU scan a batch in one dispatch: equal to one token per dispatch, bit
    // for bit, tail and h included, with a reset at position 0 inside the batch.
    void batchedScansEqualTokenByToken() {
        const uint32_t L = 64, K = 4, T = 9;  // 256-byte rows
        std::mt19937 rng(37);
        const auto x = test::randomFloats(rng, T * L), weight = test::randomFloats(rng, K * L);
        const auto bias = test::randomFloats(rng, L), tail = test::randomFloats(rng, (K - 1) * L);
        const auto gx = test::randomFloats(rng, T * L, 4.0f),
                   ga = test::randomFloats(rng, T * L, 4.0f);
        const auto y = test::randomFloats(rng, T * L), h0 = test::randomFloats(rng, L);
        auto logA = test::randomFloats(rng, L, 4.0f);
        for (float& a : logA) a = -std::fabs(a);
        // Positions 5..8 then 0..4: the sixth token resets h.
        std::vector<std::pair<int32_t, int32_t>> entries;
        for (int32_t t = 0; t < static_cast<int32_t>(T); ++t)
            entries.push_back({0, t < 4 ? 5 + t : t - 4});
        const BufferSlice params = m_rig->upload(stepParamWords(entries));
        const BufferSlice dw = m_rig->upload(weight), db = m_rig->upload(bias),
                          dl = m_rig->upload(logA);
        const BufferSlice dx = m_rig->upload(x), dgx = m_rig->upload(gx), dga = m_rig->upload(ga),
                          dy = m_rig->upload(y);
        auto rowOf = [L](const BufferSlice& b, uint32_t t) {
            return BufferSlice{b.buffer, b.offset + VkDeviceSize{t} * L * 4, VkDeviceSize{L} * 4,
                               b.mapped + VkDeviceSize{t} * L * 4};
        };
        const BufferSlice tailOne = m_rig->upload(tail), hOne = m_rig->upload(h0);
        const BufferSlice convOne = m_rig->zeros(T * L), lruOne = m_rig->zeros(T * L);
        for (uint32_t t = 0; t < T; ++t) {
            QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
                if (auto s = ops.conv1dStep(rowOf(dx, t), dw, db, tailOne, rowOf(convOne, t), L, K);
                    !s)
                    return s;
                return ops.rgLruStep(rowOf(convOne, t), rowOf(dgx, t), rowOf(dga, t), dl, hOne,
                                     rowOf(dy, t), rowOf(lruOne, t), L, params, t);
            }));
        }
        const BufferSlice tailAll = m_rig->upload(tail), hAll = m_rig->upload(h0);
        const BufferSlice convAll = m_rig->zeros(T * L), lruAll = m_rig->zeros(T * L);
        QVERIFY(m_rig->run([&](OpRecorder& ops) -> Status {
            if (auto s = ops.conv1dStep(dx, dw, db, tailAll, convAll, L, K, T, L); !s)
                return s;
            return ops.rgLruStep(convAll, dgx, dga, dl, hAll, dy, lruAll, L, params, 0, T, L);
        }));
        QCOMPARE(test::read(convAll, T * L), test::read(convOne, T * L));
        QCOMPARE(test::read(tailAll, (K - 1) * L), test::read(tailOne, (K - 1) * L));
        const auto lru = test::read(lruAll, T * L);
        QVERIFY(std::any_of(lru.begin(), lru.end(), [](float f) { return f != 0.0f; }));
        QCOMPARE(lru, test::read(lruOne, T * L));
        QCOMPARE(test::read(hAll, L), test::read(hOne, L));
    }

    void choosingADevicePrefersGpusAndHonoursOverrides() {
        std::vector<DeviceCaps> devices(3);
        for (uint32_t i = 0; i < 3; ++i) {
            devices[i].index = i;
            devices[i].apiVersion = VK_API_VERSION_1_3;
            devices[i].hasComputeQueue = devices[i].hasHostVisibleMemory = true;
            devices[i].maxComputeWorkGroupInvocations = 1024;
            devices[i].maxPushConstantsSize = 128;
            devices[i].maxPerStageStorageBuffers = 16;
        }
        devices[0].name = "llvmpipe (LLVM 15.0.6, 256 bits)";
        devices[0].type = VK_PHYSICAL_DEVICE_TYPE_CPU;
        devices[1].name = "Intel(R) UHD Graphics";
        devices[1].type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
        devices[2].name = "AMD Radeon RX 7900";
        devices[2].type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
        QCOMPARE(*chooseDevice(devices, ""), size_t{2});
        QCOMPARE(*chooseDevice(devices, "0"), size_t{0});
        QCOMPARE(*chooseDevice(devices, "LLVMpipe"), size_t{0});
        QCOMPARE(*chooseDevice(devices, "uhd"), size_t{1});
        QVERIFY(!chooseDevice(devices, "7").has_value());
        QVERIFY(!chooseDevice(devices, "nvidia").has_value());
        // Shaders bind up to kMaxBindings storage buffers (attention_decode binds 9).
        devices[2].maxPerStageStorageBuffers = 8;
        QVERIFY(unsuitableReason(devices[2]).find("storage buffers") != std::string::npos);
        QCOMPARE(*chooseDevice(devices, ""), size_t{1});
        devices[2].maxPerStageStorageBuffers = 16;
        devices[2].apiVersion = VK_API_VERSION_1_1;  // unsuitable: skipped by the automatic choice
        QCOMPARE(*chooseDevice(devices, ""), size_t{1});
        QCOMPARE(chooseDevice(devices, "2").error().code, ErrorCode::Unsupported);
        QCOMPARE(chooseDevice({}, "").error().code, ErrorCode::Unsupported);
    }

    // "auto": the best suitable GPU, never a CPU device (lavapipe), and the reason in words.
    void autoBackendPicksAGpuOrSaysWhyNot() {
        const ComputeDevice lavapipe{0, "llvmpipe (LLVM 15.0.6, 256 bits)", "CPU", ""};
        const ComputeDevice igpu{1, "Intel(R) UHD Graphics", "integrated GPU", ""};
        const ComputeDevice dgpu{2, "AMD Radeon RX 7900", "discrete GPU", ""};
        BackendChoice c = chooseAutoBackend({lavapipe, igpu, dgpu});
        QCOMPARE(c.backend, BackendKind::Vulkan);
        QCOMPARE(c.device, std::string("2"));
        QVERIFY(c.reason.find("AMD Radeon RX 7900") != std::string::npos);
        c = chooseAutoBackend({lavapipe, igpu});
        QCOMPARE(c.device, std::string("1"));
        c = chooseAutoBackend({lavapipe});
        QCOMPARE(c.backend, BackendKind::Cpu);
        QVERIFY(c.device.empty());
        QVERIFY(c.reason.find("llvmpipe") != std::string::npos);
        ComputeDevice old = dgpu;
        old.unsuitable = "Vulkan 1.1 < 1.2";
        c = chooseAutoBackend({lavapipe, old});
        QCOMPARE(c.backend, BackendKind::Cpu);
        QVERIFY(c.reason.find("Vulkan 1.1 < 1.2") != std::string::npos);
        c = chooseAutoBackend({});
        QCOMPARE(c.backend, BackendKind::Cpu);
        QVERIFY(c.reason.find("no Vulkan device") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(VulkanOpsTest)
#include "vulkan_ops_test.moc"
