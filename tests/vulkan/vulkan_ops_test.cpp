// SPDX-License-Identifier: Apache-2.0
// Every Vulkan op but the matrix products (vulkan_matvec_test.cpp) against the CPU reference op
// (cpu/ops.h) on random data, for f32, bf16 and f16 weights where the op reads weights; sizes that
// are not multiples of the workgroup sizes; batched against token-by-token; the recorder's
// bindings and barriers; device choice. Any validation message fails the test.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <QtTest>

#include "backend.h"
#include "cpu/ops.h"
#include "vulkan_op_suite.h"

using namespace griffin;
using namespace griffin::vulkan;
using namespace griffin::test;

class VulkanOpsTest : public test::VulkanOpSuite {
    Q_OBJECT

private slots:

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
        DeviceMatrix dw = m_rig->device(w.view);
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
        DeviceMatrix da = m_rig->device(a.view);
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
