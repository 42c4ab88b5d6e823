// SPDX-License-Identifier: Apache-2.0
// Writing GGUF v3 files (layout in io/gguf_format.h): GgufMetadata encodes the key/value section;
// writeGgufFile lays out the tensors and writes the file atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "griffin/result.h"
#include "io/gguf_format.h"
#include "io/tensor_archive.h"

namespace griffin::io {

// The metadata section, encoded as it is added. Keys must be unique (not checked: the callers
// add fixed key sets). Not thread-safe.
class GgufMetadata {
public:
    void addU32(std::string_view key, uint32_t value);
    void addI32(std::string_view key, int32_t value);
    void addU64(std::string_view key, uint64_t value);
    void addF32(std::string_view key, float value);
    void addF64(std::string_view key, double value);
    void addBool(std::string_view key, bool value);
    void addString(std::string_view key, std::string_view value);
    void addStringArray(std::string_view key, const std::vector<std::string>& values);
    void addF32Array(std::string_view key, std::span<const float> values);
    void addI32Array(std::string_view key, std::span<const int32_t> values);
    // An array of u8 holding `bytes` verbatim.
    void addBytes(std::string_view key, std::string_view bytes);

    uint64_t count() const { return m_count; }
    const std::string& encoded() const { return m_bytes; }

private:
    void key(std::string_view key, gguf::ValueType type);
    void arrayHeader(gguf::ValueType type, uint64_t count);
    void string(std::string_view s);
    template <class T>
    void raw(const T& value);
    std::string m_bytes;
    uint64_t m_count = 0;
};

// Writes `metadata` (plus general.alignment = 32, added here) and `tensors` in the given order,
// each at a 32-byte aligned offset, with shapes reversed into GGUF order. Writes
// `out` + ".partial" in the same folder, fsyncs and renames it over `out`; on any error or a stop
// the partial file is removed and `out` is untouched. `progress` (may be empty) gets the
// fraction of bytes written; `stop` is checked between chunks of at most 16 MiB (Cancelled).
// Requires: every tensor has 1 to 4 dimensions and bytes that match its type and shape.
Status writeGgufFile(const std::filesystem::path& out, const GgufMetadata& metadata,
                     const std::vector<const TensorInfo*>& tensors,
                     const std::function<void(double)>& progress, std::stop_token stop);

}  // namespace griffin::io
