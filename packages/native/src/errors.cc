#include "errors.h"

#include <errno.h>

#include "addon.h"
#include "platform.h"

namespace shmlink {

void SetErrorClass(Napi::Env env, Napi::Function ctor) {
  AddonData* data = GetAddonData(env);
  data->error_class = Napi::Persistent(ctor);
}

Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message) {
  AddonData* data = GetAddonData(env);
  if (data != nullptr && !data->error_class.IsEmpty()) {
    Napi::Object err = data->error_class.New(
        {Napi::String::New(env, code), Napi::String::New(env, message)});
    if (!env.IsExceptionPending()) return Napi::Error(env, err);
    env.GetAndClearPendingException();
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

void ThrowError(Napi::Env env, const char* code, const std::string& message) {
  MakeError(env, code, message).ThrowAsJavaScriptException();
}

const char* CodeForSystemError(int err) {
  switch (err) {
    case kUnsupportedPlatform: return kErrUnsupportedPlatform;
    case ENOENT: return kErrNotFound;
    case EEXIST: return kErrExists;
    case EACCES:
    case EPERM:
    case EROFS: return kErrPermission;
    case ENOSPC:
    case ENOMEM:
    case EFBIG: return kErrNoSpace;
    case ENAMETOOLONG: return kErrInvalidName;
    case EINVAL: return kErrInvalidArgument;
    default: return kErrSystem;
  }
}

Napi::Error MakeSystemError(Napi::Env env, int err, const std::string& what) {
  if (err == kUnsupportedPlatform) {
    return MakeError(env, kErrUnsupportedPlatform,
                     what + ": not supported on this platform (shmlink's backends: Linux and Windows; "
                            "FIFOs on Linux only)");
  }
  Napi::Error e = MakeError(env, CodeForSystemError(err), what + ": " + PlatformErrorName(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, PlatformErrorName(err)));
  return e;
}

void ThrowSystemError(Napi::Env env, int err, const std::string& what) {
  MakeSystemError(env, err, what).ThrowAsJavaScriptException();
}

}  // namespace shmlink
