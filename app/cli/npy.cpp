// SPDX-License-Identifier: Apache-2.0
#include "cli/npy.h"

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace griffin::cli {

Status writeFileAtomically(const std::filesystem::path& path, std::span<const char> bytes) {
    std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
    std::random_device rd;
    const std::filesystem::path tmp =
        dir / ("." + path.filename().string() + ".tmp-" + std::to_string(rd()));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return makeError(ErrorCode::Io,
                         path.string() + ": cannot write (" + std::strerror(errno) + ")");
    }
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return makeError(ErrorCode::Io,
                             path.string() + ": write failed (" + std::strerror(err) + ")");
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return makeError(ErrorCode::Io,
                         path.string() + ": cannot finish writing (" + std::strerror(err) + ")");
    }
    return {};
}

Status writeNpyFloat32(const std::filesystem::path& path, std::span<const int64_t> shape,
                       std::span<const float> data) {
    std::string dims;  // "3, 4" for two dimensions but "3," for one (a Python tuple)
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1)
        dims += ",";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Magic (6) + version (2) + length (2) + header + '\n' padded to a multiple of 64.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string file = "\x93NUMPY";
    file += '\x01';
    file += '\x00';
    file += static_cast<char>(header.size() & 0xFF);
    file += static_cast<char>((header.size() >> 8) & 0xFF);
    file += header;
    const size_t offset = file.size();
    file.resize(offset + data.size_bytes());
    std::memcpy(file.data() + offset, data.data(), data.size_bytes());  // x86-64: little-endian
    return writeFileAtomically(path, std::span<const char>(file.data(), file.size()));
}

}  // namespace griffin::cli
