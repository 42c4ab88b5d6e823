// SPDX-License-Identifier: Apache-2.0
// Crash-safe file replacement: write a temporary file beside the target, flush, fsync, rename.
#pragma once

#include <QByteArray>
#include <QString>

#include "griffin/result.h"

// Replaces `path` with `data`; on any failure the previous file is untouched and the temporary
// file removed. Errors name the file.
griffin::Status writeFileAtomically(const QString& path, const QByteArray& data);
