// SPDX-License-Identifier: Apache-2.0
#include "atomic_file.h"

#include <cerrno>
#include <cstring>

#include <QFileInfo>
#include <QRandomGenerator>
#include <fcntl.h>
#include <unistd.h>

griffin::Status writeFileAtomically(const QString& path, const QByteArray& data) {
    const QFileInfo info(path);
    const QByteArray target = QFile::encodeName(path);
    const QByteArray tmp =
        QFile::encodeName(info.absolutePath() + "/." + info.fileName() + ".tmp-" +
                          QString::number(QRandomGenerator::global()->generate64(), 16));
    auto fail = [&](const char* what) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.constData());
        return griffin::makeError(griffin::ErrorCode::Io,
                                  path.toStdString() + ": " + what + " (" + reason + ")");
    };
    const int fd = ::open(tmp.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail("cannot create a temporary file");
    qsizetype done = 0;
    while (done < data.size()) {
        const ssize_t n =
            ::write(fd, data.constData() + done, static_cast<size_t>(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ::close(fd);
            return fail("write failed");
        }
        done += n;
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        return fail("fsync failed");
    }
    if (::close(fd) != 0)
        return fail("close failed");
    if (::rename(tmp.constData(), target.constData()) != 0)
        return fail("rename failed");
    return {};
}
