// SPDX-License-Identifier: Apache-2.0
// PageArena and MemoryArchive: blocks are zeroed, 64-byte aligned and disjoint, regions start on
// a huge page boundary, requests larger than a region get their own, absurd sizes fail.
#include "io/page_arena.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include <QtTest>

#include "io/tensor_archive.h"

using namespace griffin;

class PageArenaTest : public QObject {
    Q_OBJECT

private slots:
    void blocksAreZeroedAlignedAndDisjoint() {
        io::PageArena arena;
        QCOMPARE(arena.reservedBytes(), size_t{0});
        // Odd sizes, a zero-byte request, and one of a few MiB that spans huge pages.
        const std::vector<size_t> sizes = {1, 0, 63, 64, 65, 4097, (size_t{5} << 20) + 3, 100};
        std::vector<std::pair<std::byte*, size_t>> blocks;
        for (size_t n : sizes) {
            std::byte* p = arena.allocate(n);
            QVERIFY(p != nullptr);
            QCOMPARE(reinterpret_cast<uintptr_t>(p) % 64, uintptr_t{0});
            QVERIFY(std::all_of(p, p + n, [](std::byte b) { return b == std::byte{0}; }));
            std::memset(p, 0xA5, n);  // writable, and a later block must not see it
            blocks.emplace_back(p, std::max<size_t>(n, 1));
        }
        std::sort(blocks.begin(), blocks.end());
        for (size_t i = 1; i < blocks.size(); ++i)
            QVERIFY(blocks[i - 1].first + blocks[i - 1].second <= blocks[i].first);
        // All in the first region, which starts on a huge page boundary.
        QCOMPARE(arena.reservedBytes(), io::PageArena::kRegionBytes);
        QCOMPARE(reinterpret_cast<uintptr_t>(blocks.front().first) % io::PageArena::kHugePage,
                 uintptr_t{0});
    }

    void largerThanARegionGetsItsOwn() {
        io::PageArena arena;
        std::byte* small = arena.allocate(1000);
        QVERIFY(small != nullptr);
        // Address space only: the pages are never touched, so this costs no memory.
        const size_t big = io::PageArena::kRegionBytes + 12345;
        std::byte* p = arena.allocate(big);
        QVERIFY(p != nullptr);
        QCOMPARE(reinterpret_cast<uintptr_t>(p) % io::PageArena::kHugePage, uintptr_t{0});
        QVERIFY(arena.reservedBytes() >= io::PageArena::kRegionBytes + big);
        p[0] = std::byte{1};
        p[big - 1] = std::byte{2};
        QCOMPARE(p[big - 1], std::byte{2});
        QCOMPARE(small[999], std::byte{0});
        // Absurd sizes fail cleanly.
        QVERIFY(arena.allocate(SIZE_MAX) == nullptr);
        QVERIFY(arena.allocate(SIZE_MAX - 100) == nullptr);
    }

    void memoryArchiveTensorsComeFromItsArena() {
        io::MemoryArchive archive;
        std::byte* a = archive.add("a", WeightType::F32, {3, 5}, 60, "a.bin");
        std::byte* b = archive.add("b", WeightType::Q8_0, {2, 32}, 68, "b.bin");
        QVERIFY(a != nullptr && b != nullptr);
        QCOMPARE(archive.find("a")->data, a);
        QCOMPARE(archive.find("b")->bytes, size_t{68});
        QCOMPARE(reinterpret_cast<uintptr_t>(b) % 64, uintptr_t{0});
        QVERIFY(archive.arena().reservedBytes() >= io::PageArena::kRegionBytes);
        QVERIFY(std::all_of(b, b + 68, [](std::byte x) { return x == std::byte{0}; }));
    }
};

QTEST_APPLESS_MAIN(PageArenaTest)
#include "page_arena_test.moc"
