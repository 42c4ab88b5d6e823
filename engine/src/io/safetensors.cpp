// SPDX-License-Identifier: Apache-2.0
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace griffin::io {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // the format's own limit is 100 MB
constexpr int64_t kMaxDim = int64_t{1} << 40;

Error corrupt(const std::filesystem::path& file, const std::string& what) {
    return makeError(ErrorCode::Corrupt, file.string() + ": " + what);
}

Result<WeightType> parseDtype(const std::filesystem::path& file, const std::string& name,
                              const json& dtype) {
    if (!dtype.is_string())
        return corrupt(file, "tensor '" + name + "': dtype is not a string");
    const std::string s = dtype.get<std::string>();
    if (s == "F32")
        return WeightType::F32;
    if (s == "BF16")
        return WeightType::BF16;
    if (s == "F16")
        return WeightType::F16;
    static const std::set<std::string> kKnown = {"F64", "I64", "I32", "I16",  "I8",      "U64",
                                                 "U32", "U16", "U8",  "BOOL", "F8_E4M3", "F8_E5M2"};
    if (kKnown.count(s) != 0) {
        return makeError(ErrorCode::Unsupported, file.string() + ": tensor '" + name +
                                                     "' has dtype " + s +
                                                     "; supported are F32, BF16 and F16");
    }
    return corrupt(file, "tensor '" + name + "' has unknown dtype '" + s + "'");
}

struct Entry {
    TensorInfo info;
    uint64_t begin = 0;
    uint64_t end = 0;
};

Result<Entry> parseEntry(const std::filesystem::path& file, const std::string& name, const json& v,
                         uint64_t dataSize) {
    auto bad = [&](const std::string& what) {
        return corrupt(file, "tensor '" + name + "': " + what);
    };
    if (!v.is_object())
        return bad("header entry is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || sh == v.end() || off == v.end()) {
        return bad("header entry needs dtype, shape and data_offsets");
    }
    Entry e;
    e.info.name = name;
    e.info.file = file;
    auto type = parseDtype(file, name, *dt);
    if (!type)
        return type.error();
    e.info.type = *type;
    if (!sh->is_array() || sh->size() > 8)
        return bad("shape is not a list of at most 8 sizes");
    uint64_t numel = 1;
    for (const json& d : *sh) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(kMaxDim)) {
            return bad("shape " + sh->dump() + " has an invalid size");
        }
        uint64_t dim = d.get<uint64_t>();
        if (dim != 0 && numel > (uint64_t{1} << 62) / dim)
            return bad("shape is absurdly large");
        numel *= dim;
        e.info.shape.push_back(static_cast<int64_t>(dim));
    }
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned()) {
        return bad("data_offsets must be [begin, end]");
    }
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end || e.end > dataSize) {
        return bad("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                   "] lie outside the data section of " + std::to_string(dataSize) + " bytes");
    }
    const uint64_t expected = numel * weightTypeSize(e.info.type);
    if (e.end - e.begin != expected) {
        return bad("shape " + sh->dump() + " of " + weightTypeName(e.info.type) + " needs " +
                   std::to_string(expected) + " bytes but data_offsets span " +
                   std::to_string(e.end - e.begin));
    }
    e.info.bytes = static_cast<size_t>(expected);
    return e;
}

Result<std::string> readSmallFile(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::NotFound, file.string() + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().size() > (size_t{64} << 20))
        return corrupt(file, "larger than 64 MiB");
    return s.str();
}

}  // namespace

size_t weightTypeSize(WeightType type) {
    return type == WeightType::F32 ? 4 : 2;
}

Status SafetensorsArchive::addFile(const std::filesystem::path& file,
                                   const std::vector<std::string>* expected) {
    auto mapped = MappedFile::open(file);
    if (!mapped)
        return mapped.error();
    std::span<const std::byte> bytes = (*mapped)->bytes();
    if (bytes.size() < 8) {
        return corrupt(file, "file is " + std::to_string(bytes.size()) +
                                 " bytes, too short for a safetensors header (truncated?)");
    }
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | std::to_integer<uint64_t>(bytes[i]);
    if (headerLen > bytes.size() - 8) {
        return corrupt(file, "header length " + std::to_string(headerLen) +
                                 " runs past the end of the file (" + std::to_string(bytes.size()) +
                                 " bytes; truncated?)");
    }
    if (headerLen > kMaxHeaderBytes) {
        return corrupt(file, "header length " + std::to_string(headerLen) + " exceeds 100 MB");
    }
    json header;
    try {
        header = json::parse(reinterpret_cast<const char*>(bytes.data() + 8),
                             reinterpret_cast<const char*>(bytes.data() + 8 + headerLen));
    } catch (const json::parse_error& e) {
        return corrupt(file, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!header.is_object())
        return corrupt(file, "header is not a JSON object");

    const std::byte* dataStart = bytes.data() + 8 + headerLen;
    const uint64_t dataSize = bytes.size() - 8 - headerLen;
    std::vector<Entry> entries;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__")
            continue;
        if (m_tensors.count(it.key()) != 0) {
            return corrupt(file, "tensor '" + it.key() + "' appears in more than one shard");
        }
        auto e = parseEntry(file, it.key(), it.value(), dataSize);
        if (!e)
            return e.error();
        entries.push_back(std::move(*e));
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < entries.size(); ++i) {
        if (entries[i].begin < entries[i - 1].end) {
            return corrupt(file, "tensors '" + entries[i - 1].info.name + "' and '" +
                                     entries[i].info.name + "' overlap in the data section");
        }
    }
    if (expected != nullptr) {
        for (const std::string& name : *expected) {
            bool found = std::any_of(entries.begin(), entries.end(),
                                     [&](const Entry& e) { return e.info.name == name; });
            if (!found) {
                return corrupt(file, "tensor '" + name +
                                         "' is listed for this shard in the index but missing");
            }
        }
    }
    for (Entry& e : entries) {
        const std::byte* p = dataStart + e.begin;
        const size_t align = weightTypeSize(e.info.type);
        if (reinterpret_cast<uintptr_t>(p) % align != 0) {
            auto copy = std::make_unique<std::byte[]>(e.info.bytes);
            std::memcpy(copy.get(), p, e.info.bytes);
            p = copy.get();
            m_copies.push_back(std::move(copy));
        }
        e.info.data = p;
        std::string name = e.info.name;
        m_tensors.emplace(std::move(name), std::move(e.info));
    }
    m_files.push_back(std::move(*mapped));
    return {};
}

Result<std::unique_ptr<SafetensorsArchive>> SafetensorsArchive::open(
    const std::filesystem::path& path) {
    std::filesystem::path target = path;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        if (std::filesystem::exists(path / "model.safetensors.index.json", ec)) {
            target = path / "model.safetensors.index.json";
        } else if (std::filesystem::exists(path / "model.safetensors", ec)) {
            target = path / "model.safetensors";
        } else {
            return makeError(
                ErrorCode::NotFound,
                path.string() + ": no model.safetensors or model.safetensors.index.json");
        }
    }
    std::unique_ptr<SafetensorsArchive> archive(new SafetensorsArchive());
    if (target.filename().string().ends_with(".index.json")) {
        auto text = readSmallFile(target);
        if (!text)
            return text.error();
        std::map<std::string, std::vector<std::string>> byShard;
        try {
            json index = json::parse(*text);
            const json& map = index.at("weight_map");
            if (!map.is_object())
                return corrupt(target, "weight_map is not an object");
            for (auto it = map.begin(); it != map.end(); ++it) {
                if (!it.value().is_string()) {
                    return corrupt(target, "weight_map['" + it.key() + "'] is not a file name");
                }
                std::string shard = it.value().get<std::string>();
                if (shard.empty() || shard.find('/') != std::string::npos ||
                    shard.find('\\') != std::string::npos || shard == "." || shard == "..") {
                    return corrupt(target, "shard name '" + shard + "' is not a plain file name");
                }
                byShard[shard].push_back(it.key());
            }
        } catch (const json::exception& e) {
            return corrupt(target, e.what());
        }
        if (byShard.empty())
            return corrupt(target, "weight_map lists no tensors");
        for (const auto& [shard, names] : byShard) {
            if (auto s = archive->addFile(target.parent_path() / shard, &names); !s) {
                return s.error();
            }
        }
    } else {
        if (auto s = archive->addFile(target, nullptr); !s)
            return s.error();
    }
    return archive;
}

}  // namespace griffin::io
