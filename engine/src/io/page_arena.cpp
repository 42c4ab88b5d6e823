// SPDX-License-Identifier: Apache-2.0
#include "io/page_arena.h"

#include <algorithm>
#include <cstdint>

#include <sys/mman.h>

namespace griffin::io {

namespace {

size_t roundUp(size_t n, size_t to) {
    return (n + to - 1) / to * to;
}

}  // namespace

PageArena::~PageArena() {
    for (const Region& r : m_regions) ::munmap(r.base, r.size);
}

std::byte* PageArena::allocate(size_t bytes) {
    const size_t need = roundUp(std::max<size_t>(bytes, 1), 64);
    if (need < bytes)
        return nullptr;  // overflow
    if (m_regions.empty() || m_regions.back().size - m_regions.back().used < need) {
        // A new region: the rest of the current one stays unused (untouched address space).
        if (need > SIZE_MAX - 2 * kHugePage)
            return nullptr;
        const size_t size = std::max(kRegionBytes, roundUp(need, kHugePage));
        // Map one huge page more and trim, so that the region starts on a huge page boundary.
        const size_t mapped = size + kHugePage;
        void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return nullptr;
        auto* raw = static_cast<std::byte*>(p);
        const uintptr_t addr = reinterpret_cast<uintptr_t>(raw);
        auto* base = reinterpret_cast<std::byte*>(roundUp(addr, kHugePage));
        const size_t head = static_cast<size_t>(base - raw);
        if (head > 0)
            ::munmap(raw, head);
        ::munmap(base + size, kHugePage - head);  // head < kHugePage
        // Advice only: where transparent huge pages are off this changes nothing.
        (void)::madvise(base, size, MADV_HUGEPAGE);
        m_regions.push_back({base, size, 0});
    }
    Region& r = m_regions.back();
    std::byte* out = r.base + r.used;
    r.used += need;
    return out;
}

size_t PageArena::reservedBytes() const {
    size_t n = 0;
    for (const Region& r : m_regions) n += r.size;
    return n;
}

}  // namespace griffin::io
