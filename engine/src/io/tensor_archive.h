// SPDX-License-Identifier: Apache-2.0
// TensorArchive: named tensors in memory, whatever file format they came from (safetensors,
// GGUF) or none (converted at load, synthetic). The weight binder reads only this interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "griffin/model.h"
#include "io/page_arena.h"

namespace griffin::io {

// A tensor in Hugging Face naming and shape ([rows, cols] for a matrix, rows outermost).
// `data` points at `bytes` bytes, valid while the archive lives, aligned for its type. For
// the block types (q8_0, q4_0) the innermost dimension is stored in blocks of 32.
struct TensorInfo {
    std::string name;
    WeightType type = WeightType::F32;
    std::vector<int64_t> shape;
    const std::byte* data = nullptr;
    size_t bytes = 0;
    std::filesystem::path file;  // where it came from, for error messages

    int64_t numel() const;
};

class TensorArchive {
public:
    virtual ~TensorArchive() = default;
    // nullptr when absent.
    const TensorInfo* find(const std::string& name) const;
    const std::map<std::string, TensorInfo>& tensors() const { return m_tensors; }

    // The bytes [p, p + n) of one of this archive's tensors as writable memory, for rearranging
    // them in place (cpu/weight_layout.h), or nullptr where they are not the archive's own
    // memory to change (a file mapping, a view into another archive).
    virtual std::byte* writable(const std::byte* p, size_t n) const;
    // Tells the archive that nothing reads [p, p + n) through it any more (the data was copied
    // elsewhere): a file mapping drops those pages from the process, and would read them again
    // from the file if asked. Does nothing for memory the archive owns.
    virtual void release(const std::byte* p, size_t n) const;

protected:
    std::map<std::string, TensorInfo> m_tensors;
};

// Tensors whose bytes the archive owns.
class MemoryArchive : public TensorArchive {
public:
    // Adds a tensor of `bytes` zeroed bytes (64-byte aligned, in huge pages where the system
    // gives them: see PageArena) and returns its data to fill.
    std::byte* add(const std::string& name, WeightType type, std::vector<int64_t> shape,
                   size_t bytes, const std::filesystem::path& file);
    // Keeps another archive (and so its mappings) alive as long as this one.
    void keepAlive(std::shared_ptr<const TensorArchive> other) {
        m_kept.push_back(std::move(other));
    }
    // Adds `info` as is, pointing into a kept archive.
    void addView(const TensorInfo& info) { m_tensors[info.name] = info; }

    const PageArena& arena() const { return m_arena; }

    std::byte* writable(const std::byte* p, size_t n) const override;

private:
    struct Deleter {
        void operator()(std::byte* p) const;
    };
    PageArena m_arena;
    std::vector<std::unique_ptr<std::byte, Deleter>> m_buffers;  // where the arena could not map
    std::vector<std::shared_ptr<const TensorArchive>> m_kept;
    std::map<const std::byte*, size_t> m_owned;  // start -> bytes of each tensor added by add()
};

}  // namespace griffin::io
