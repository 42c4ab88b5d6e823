// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the engine tests: locating the conformance data and reading/writing files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace griffin::test {

// tests/data/tokenizers/<name> (tiny256.model, multi.model).
std::filesystem::path testTokenizer(const std::string& name);

// <GRIFFIN_CONFORMANCE_DIR>/tiny-public
std::filesystem::path tinyPublicDir();
// The manifest of tiny-public.
nlohmann::json tinyManifest();

std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& bytes);
// Raw little-endian float32 file.
std::vector<float> readFloats(const std::filesystem::path& path);

// A fresh empty directory under the system temp folder, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// A safetensors file from a header (JSON text, written verbatim) and a data section.
std::string makeSafetensors(const std::string& header, const std::string& data);

// Copies a model folder (config.json + model.safetensors) into `dest`.
void copyModel(const std::filesystem::path& from, const std::filesystem::path& dest);

// A model folder in `dest`: the tiny f32 conformance model with tiny256.model as its tokenizer.
void makeTinyChatModel(const std::filesystem::path& dest);

// max |a - b| over two equally long vectors (infinity if their sizes differ).
double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b);

// Strict UTF-8: well-formed sequences only, no overlong forms, surrogates or values past
// U+10FFFF.
bool isStrictUtf8(std::string_view s);

}  // namespace griffin::test
