// SPDX-License-Identifier: Apache-2.0
// Result<T> and Status: how the engine's public API reports failure (it never throws).
// Spelled like std::expected so that moving to C++23 is one alias.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace griffin {

enum class ErrorCode {
    InvalidArgument,  // the caller passed something unusable (bad token id, bad option)
    NotFound,         // a file or a tensor is missing
    Corrupt,          // a file exists but its content is malformed or inconsistent
    Unsupported,      // well-formed but not something we handle (unknown dtype, model type)
    OutOfMemory,
    DeviceLost,
    Cancelled,  // a std::stop_token fired
    Io,         // the operating system refused a read or write
    Internal,
};

// A short English name of the code ("corrupt", "not found", ...).
const char* errorCodeName(ErrorCode code);

// What went wrong, in words a user can act on: the message names the file and the problem.
struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

inline Error makeError(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

// Either a T or an Error. Not thread-safe (a plain value type).
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return m_v.index() == 0; }
    explicit operator bool() const { return has_value(); }

    // Requires: has_value().
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // Requires: !has_value().
    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}

    bool has_value() const { return !m_error.has_value(); }
    explicit operator bool() const { return has_value(); }
    // Requires: !has_value().
    const Error& error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

using Status = Result<void>;

}  // namespace griffin
