// SPDX-License-Identifier: Apache-2.0
#include "test_files.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

namespace griffin::test {

std::filesystem::path tinyPublicDir() {
    return std::filesystem::path(GRIFFIN_CONFORMANCE_DIR) / "tiny-public";
}

std::filesystem::path testTokenizer(const std::string& name) {
    return std::filesystem::path(GRIFFIN_TEST_DATA_DIR) / "tokenizers" / name;
}

void makeTinyChatModel(const std::filesystem::path& dest) {
    copyModel(tinyPublicDir() / "model-f32", dest);
    std::filesystem::copy_file(testTokenizer("tiny256.model"), dest / "tokenizer.model",
                               std::filesystem::copy_options::overwrite_existing);
}

nlohmann::json tinyManifest() {
    return nlohmann::json::parse(readFile(tinyPublicDir() / "manifest.json"));
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeFile(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

std::vector<float> readFloats(const std::filesystem::path& path) {
    const std::string bytes = readFile(path);
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

TempDir::TempDir() {
    std::random_device rd;
    m_path = std::filesystem::temp_directory_path() / ("griffin-test-" + std::to_string(rd()));
    std::filesystem::create_directories(m_path);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

std::string makeSafetensors(const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out + header + data;
}

void copyModel(const std::filesystem::path& from, const std::filesystem::path& dest) {
    std::filesystem::create_directories(dest);
    for (const char* name : {"config.json", "model.safetensors"}) {
        std::filesystem::copy_file(from / name, dest / name,
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::permissions(dest / name, std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::add);
    }
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size())
        return std::numeric_limits<double>::infinity();
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
        if (!(d <= m))
            m = d;  // also propagates NaN
    }
    return m;
}

bool isStrictUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const int n = b < 0x80         ? 1
                      : (b >> 5) == 6  ? 2
                      : (b >> 4) == 14 ? 3
                      : (b >> 3) == 30 ? 4
                                       : 0;
        if (n == 0 || i + static_cast<size_t>(n) > s.size())
            return false;
        char32_t c = n == 1 ? b : b & (0x7F >> n);
        for (int k = 1; k < n; ++k) {
            const auto t = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((t & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (t & 0x3F);
        }
        const char32_t least = n == 1 ? 0 : n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (c < least || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000))
            return false;
        i += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace griffin::test
