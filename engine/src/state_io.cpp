// SPDX-License-Identifier: Apache-2.0
// State snapshots (Model::saveState / loadState). Layout, all little-endian:
//   0  char[8]  magic "GRIFSTAT"
//   8  u32      format version (1)
//  12  u32      number of recurrent layers
//  16  u32      number of attention layers
//  20  u32      reserved (0)
//  24  char[16] model fingerprint (hex)
//  40  i64      position
//  48  u64      payload bytes
//  56  payload: per recurrent layer h[f32] then conv tail[f32]; per attention layer keys[f32],
//      values[f32], slot positions[i64]
//  end u64      FNV-1a 64 checksum of every byte before it
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "griffin/model.h"
#include "hash.h"

namespace griffin {
namespace {

constexpr char kMagic[8] = {'G', 'R', 'I', 'F', 'S', 'T', 'A', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 56;

template <class T>
void put(std::string& out, const T& value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
template <class T>
void putAll(std::string& out, const std::vector<T>& values) {
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Reads from a byte string with bounds checks.
class Cursor {
public:
    explicit Cursor(const std::string& bytes) : m_bytes(bytes) {}
    template <class T>
    bool get(T& value) {
        if (m_bytes.size() - m_pos < sizeof(T))
            return false;
        std::memcpy(&value, m_bytes.data() + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return true;
    }
    template <class T>
    bool getAll(std::vector<T>& values) {
        const size_t n = values.size() * sizeof(T);
        if (m_bytes.size() - m_pos < n)
            return false;
        std::memcpy(values.data(), m_bytes.data() + m_pos, n);
        m_pos += n;
        return true;
    }
    size_t position() const { return m_pos; }

private:
    const std::string& m_bytes;
    size_t m_pos = 0;
};

size_t payloadBytes(const State& s) {
    size_t n = 0;
    for (const auto& r : s.recurrentLayers()) n += (r.h.size() + r.convTail.size()) * sizeof(float);
    for (const auto& a : s.attentionLayers()) {
        n += (a.keys.size() + a.values.size()) * sizeof(float) +
             a.slotPositions.size() * sizeof(int64_t);
    }
    return n;
}

}  // namespace

Status Model::saveState(const State& state, const std::filesystem::path& file) const {
    const State fresh = newState();
    if (state.recurrentLayers().size() != fresh.recurrentLayers().size() ||
        state.attentionLayers().size() != fresh.attentionLayers().size() ||
        payloadBytes(state) != payloadBytes(fresh)) {
        return makeError(ErrorCode::InvalidArgument,
                         file.string() + ": the state does not belong to this model");
    }
    std::string out(kMagic, sizeof kMagic);
    put(out, kVersion);
    put(out, static_cast<uint32_t>(state.recurrentLayers().size()));
    put(out, static_cast<uint32_t>(state.attentionLayers().size()));
    put(out, uint32_t{0});
    out += info().fingerprint;
    put(out, state.position());
    put(out, static_cast<uint64_t>(payloadBytes(state)));
    for (const auto& r : state.recurrentLayers()) {
        putAll(out, r.h);
        putAll(out, r.convTail);
    }
    for (const auto& a : state.attentionLayers()) {
        putAll(out, a.keys);
        putAll(out, a.values);
        putAll(out, a.slotPositions);
    }
    put(out, fnv1a64(out));

    std::random_device rd;
    const std::filesystem::path tmp =
        file.parent_path() / ("." + file.filename().string() + ".tmp-" + std::to_string(rd()));
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f.write(out.data(), static_cast<std::streamsize>(out.size()));
        f.flush();
        if (!f) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            return makeError(ErrorCode::Io, file.string() + ": cannot write the snapshot");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return makeError(ErrorCode::Io, file.string() + ": cannot write the snapshot");
    }
    return {};
}

Result<State> Model::loadState(const std::filesystem::path& file) const {
    auto corrupt = [&](const std::string& what) {
        return makeError(ErrorCode::Corrupt, file.string() + ": " + what);
    };
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::NotFound, file.string() + ": cannot open the snapshot");
    State state = newState();
    const size_t expectedSize = kHeaderBytes + payloadBytes(state) + sizeof(uint64_t);
    std::string bytes;
    {
        std::ostringstream s;
        s << in.rdbuf();
        bytes = s.str();
    }
    if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        return corrupt("not a Griffin state snapshot");
    }
    Cursor c(bytes);
    char magic[8], fingerprintBytes[16];
    uint32_t version = 0, numRecurrent = 0, numAttention = 0, reserved = 0;
    int64_t position = 0;
    uint64_t payload = 0;
    // The size was checked above: the whole header is there.
    (void)(c.get(magic) && c.get(version) && c.get(numRecurrent) && c.get(numAttention) &&
           c.get(reserved) && c.get(fingerprintBytes) && c.get(position) && c.get(payload));
    if (version != kVersion) {
        return makeError(ErrorCode::Unsupported,
                         file.string() + ": snapshot format version " + std::to_string(version) +
                             " is not supported (this build reads version 1)");
    }
    const std::string fingerprint(fingerprintBytes, sizeof fingerprintBytes);
    if (fingerprint != info().fingerprint) {
        return makeError(ErrorCode::InvalidArgument,
                         file.string() + ": the snapshot belongs to another model (fingerprint " +
                             fingerprint + ", this model is " + info().fingerprint + ")");
    }
    if (bytes.size() != expectedSize) {
        return corrupt("is " + std::to_string(bytes.size()) + " bytes, expected " +
                       std::to_string(expectedSize) + " (truncated?)");
    }
    uint64_t stored = 0;
    std::memcpy(&stored, bytes.data() + bytes.size() - sizeof stored, sizeof stored);
    if (stored != fnv1a64(std::string_view(bytes).substr(0, bytes.size() - sizeof stored))) {
        return corrupt("checksum mismatch: the snapshot is damaged");
    }
    if (position < 0 || numRecurrent != state.recurrentLayers().size() ||
        numAttention != state.attentionLayers().size() || payload != payloadBytes(state)) {
        return corrupt("header does not match this model's state layout");
    }
    for (auto& r : state.recurrentLayers()) {
        if (!c.getAll(r.h) || !c.getAll(r.convTail))
            return corrupt("truncated payload");
    }
    for (auto& a : state.attentionLayers()) {
        if (!c.getAll(a.keys) || !c.getAll(a.values) || !c.getAll(a.slotPositions)) {
            return corrupt("truncated payload");
        }
        for (int64_t p : a.slotPositions) {
            if (p < -1 || p >= position)
                return corrupt("attention slot positions are inconsistent");
        }
    }
    state.setPosition(position);
    return state;
}

}  // namespace griffin
