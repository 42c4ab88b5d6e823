// SPDX-License-Identifier: Apache-2.0
// The Vulkan matrix-vector products against the CPU reference matmul (cpu/ops.h) on random data,
// for every weight type: odd sizes, the epilogues, several columns at once, both shader variants
// (subgroup and workgroup rows); the row chunking of tensors larger than a storage buffer, and
// staged against mapped uploads. Any validation message fails the test.
#include <cstring>
#include <random>

#include <QtTest>

#include "backend.h"
#include "cpu/ops.h"
#include "vulkan_op_suite.h"

using namespace griffin;
using namespace griffin::vulkan;
using namespace griffin::test;

class VulkanMatvecTest : public test::VulkanOpSuite {
    Q_OBJECT

private slots:
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

        DeviceMatrix dw = m_rig->device(w.view);
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

        DeviceMatrix dw = m_rig->device(w.view);
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
        DeviceMatrix dw = m_rig->device(w.view, 40 * 16);  // several row chunks
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
        DeviceMatrix dw = m_rig->device(w.view, chunk);
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
        DeviceMatrix dw = m_rig->device(w.view);
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
        DeviceMatrix mapped = m_rig->device(w.view, 1000);
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

    // A q8_0 / q4_0 matrix laid out for the CPU backend (interleaved rows,
    // cpu/weight_layout.h) uploads to the same device bytes as its GGUF blocks.
    void interleavedUploadsLikeGguf() {
        std::mt19937 rng(29);
        for (WeightType type : {WeightType::Q8_0, WeightType::Q4_0}) {
            const int rows = 37, cols = 608;  // per row: a set of 16 blocks and one of 3
            HostMatrix w = randomMatrix(rng, type, rows, cols);
            const size_t perRow = rowBytes(type, cols);
            std::vector<std::byte> inter(w.blocks.size());
            for (int r = 0; r < rows; ++r) {
                interleaveRow(type, w.blocks.data() + r * perRow, cols, inter.data() + r * perRow);
            }
            QVERIFY(inter != w.blocks);
            Matrix g{type, inter.data(), rows, cols};
            g.interleaved = true;
            DeviceMatrix plain = m_rig->device(w.view, 1000);
            DeviceMatrix fromInterleaved = m_rig->device(g, 1000);
            QCOMPARE(fromInterleaved.chunks.size(), plain.chunks.size());
            for (size_t i = 0; i < plain.chunks.size(); ++i) {
                QCOMPARE(fromInterleaved.chunks[i].size, plain.chunks[i].size);
                QVERIFY(std::memcmp(fromInterleaved.chunks[i].mapped, plain.chunks[i].mapped,
                                    plain.chunks[i].size) == 0);
            }
        }
    }
};

QTEST_APPLESS_MAIN(VulkanMatvecTest)
#include "vulkan_matvec_test.moc"
