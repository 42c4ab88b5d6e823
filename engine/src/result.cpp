// SPDX-License-Identifier: Apache-2.0
#include "griffin/result.h"

namespace griffin {

const char* errorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidArgument:
            return "invalid argument";
        case ErrorCode::NotFound:
            return "not found";
        case ErrorCode::Corrupt:
            return "corrupt";
        case ErrorCode::Unsupported:
            return "unsupported";
        case ErrorCode::OutOfMemory:
            return "out of memory";
        case ErrorCode::DeviceLost:
            return "device lost";
        case ErrorCode::Cancelled:
            return "cancelled";
        case ErrorCode::Io:
            return "I/O error";
        case ErrorCode::Internal:
            return "internal error";
    }
    return "unknown error";
}

}  // namespace griffin
