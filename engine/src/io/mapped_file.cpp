// SPDX-License-Identifier: Apache-2.0
#include "io/mapped_file.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace griffin::io {

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ErrorCode code = errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io;
        return makeError(code, path.string() + ": cannot open (" + std::strerror(errno) + ")");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(ErrorCode::Io, path.string() + ": not a regular file");
    }
    std::unique_ptr<MappedFile> file(new MappedFile());
    file->m_path = path;
    file->m_size = static_cast<size_t>(st.st_size);
    if (file->m_size > 0) {
        void* p = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            return makeError(ErrorCode::Io,
                             path.string() + ": cannot map (" + std::strerror(err) + ")");
        }
        file->m_data = static_cast<const std::byte*>(p);
    }
    ::close(fd);
    return file;
}

void MappedFile::release(const std::byte* p, size_t n) const {
    if (m_data == nullptr || p < m_data || p > m_data + m_size || n > m_size - (p - m_data))
        return;
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    const auto pageBytes = static_cast<uintptr_t>(page);
    const uintptr_t begin =
        (reinterpret_cast<uintptr_t>(p) + pageBytes - 1) / pageBytes * pageBytes;
    const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / pageBytes * pageBytes;
    // A private, read-only file mapping: the pages hold nothing but the file's bytes, so
    // dropping them loses nothing. A failure only leaves them resident.
    if (begin < end)
        ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
    if (m_data != nullptr)
        ::munmap(const_cast<std::byte*>(m_data), m_size);
}

}  // namespace griffin::io
