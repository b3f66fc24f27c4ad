// Every failure reaches JavaScript as one error class with a stable `code` (ShmError, registered by
// the TypeScript facade at load time; a plain Error carrying the same code until then).
#pragma once

#include <napi.h>

#include <string>

namespace shmlink {

// Stable codes shared with lib/errors.ts.
constexpr const char* kErrNotFound = "ERR_SHM_NOT_FOUND";
constexpr const char* kErrExists = "ERR_SHM_EXISTS";
constexpr const char* kErrInvalidName = "ERR_INVALID_NAME";
constexpr const char* kErrInvalidArgument = "ERR_INVALID_ARGUMENT";
constexpr const char* kErrLayoutMismatch = "ERR_LAYOUT_MISMATCH";
constexpr const char* kErrPermission = "ERR_PERMISSION";
constexpr const char* kErrClosed = "ERR_CLOSED";
constexpr const char* kErrNoSpace = "ERR_NO_SPACE";
constexpr const char* kErrUnsupportedPlatform = "ERR_UNSUPPORTED_PLATFORM";
constexpr const char* kErrSystem = "ERR_SYSTEM";

void SetErrorClass(Napi::Env env, Napi::Function ctor);
Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message);
void ThrowError(Napi::Env env, const char* code, const std::string& message);

// Maps an errno-style code from the platform layer to a stable code and a message that says what
// was being done, e.g. "open '/x': ENOENT".
const char* CodeForSystemError(int err);
void ThrowSystemError(Napi::Env env, int err, const std::string& what);
Napi::Error MakeSystemError(Napi::Env env, int err, const std::string& what);

}  // namespace shmlink
