// Module entry: registers RegionHandle and the process-level helpers, and keeps per-environment
// state so that the addon works the same on the main thread and in every worker thread.
#include <napi.h>

#include "addon.h"
#include "errors.h"
#include "platform.h"
#include "region.h"
#include "wait_pool.h"
#if defined(_WIN32)
#include "kernel_sync.h"
#endif

namespace shmlink {

AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

namespace {

void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  if (data->waits != nullptr) data->waits->Shutdown();
}

Napi::Value SetErrorClassJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    ThrowError(info.Env(), kErrInvalidArgument, "setErrorClass expects a constructor");
    return Napi::Value();
  }
  SetErrorClass(info.Env(), info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value UnlinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    ThrowError(env, kErrInvalidArgument, "unlink expects a shared-memory name");
    return Napi::Value();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int err = PlatformUnlinkShared(name);
  if (err != 0) {
    ThrowSystemError(env, err, "unlink '" + name + "'");
    return Napi::Value();
  }
  return env.Undefined();
}

Napi::Value ListJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> names;
  int err = PlatformListShared(&names);
  if (err != 0) {
    ThrowSystemError(env, err, "list shared memory");
    return Napi::Value();
  }
  Napi::Array out = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) out.Set(i, Napi::String::New(env, names[i]));
  return out;
}

// makeFifo(path, permissions): a named pipe, the doorbell a sleeping event loop listens on.
Napi::Value MakeFifoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber()) {
    ThrowError(env, kErrInvalidArgument, "makeFifo expects (path: string, permissions: number)");
    return Napi::Value();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  double mode = info[1].As<Napi::Number>().DoubleValue();
  if (path.empty() || !(mode >= 0 && mode <= 0777) || static_cast<double>(static_cast<int>(mode)) != mode) {
    ThrowError(env, kErrInvalidArgument, "makeFifo: a non-empty path and permissions 0..0o777");
    return Napi::Value();
  }
  int err = PlatformMakeFifo(path, static_cast<uint32_t>(mode));
  if (err != 0) {
    ThrowSystemError(env, err, "mkfifo '" + path + "'");
    return Napi::Value();
  }
  return env.Undefined();
}

// openFifo(path): the fd of the FIFO at `path`, opened read-write and non-blocking (platform.h
// says why not fs.openSync).
Napi::Value OpenFifoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || info[0].As<Napi::String>().Utf8Value().empty()) {
    ThrowError(env, kErrInvalidArgument, "openFifo expects (path: a non-empty string)");
    return Napi::Value();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = -1;
  int err = PlatformOpenFifo(path, &fd);
  if (err != 0) {
    ThrowSystemError(env, err, "open FIFO '" + path + "'");
    return Napi::Value();
  }
  return Napi::Number::New(env, fd);
}

bool PidArg(const Napi::CallbackInfo& info, int* pid) {
  if (!info[0].IsNumber()) {
    ThrowError(info.Env(), kErrInvalidArgument, "pid must be a number");
    return false;
  }
  double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 2147483647.0) || static_cast<double>(static_cast<int>(d)) != d) {
    ThrowError(info.Env(), kErrInvalidArgument, "pid must be a positive 32-bit integer");
    return false;
  }
  *pid = static_cast<int>(d);
  return true;
}

Napi::Value ProcessAliveJs(const Napi::CallbackInfo& info) {
  int pid = 0;
  if (!PidArg(info, &pid)) return Napi::Value();
  return Napi::Boolean::New(info.Env(), PlatformProcessAlive(pid));
}

// processStartTime(pid) -> number (clock ticks since boot) or null when the pid does not exist
Napi::Value ProcessStartTimeJs(const Napi::CallbackInfo& info) {
  int pid = 0;
  if (!PidArg(info, &pid)) return Napi::Value();
  uint64_t start = 0;
  int err = PlatformProcessStartTime(pid, &start);
  if (err != 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(start));
}

Napi::Value CurrentThreadIdJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PlatformCurrentThreadId());
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by N-API when the environment goes away
  data->waits = new EnvWaits(env);
  napi_add_env_cleanup_hook(env, Cleanup, data);

  Napi::Function region = RegionHandle::Init(env);
  data->region_class = Napi::Persistent(region);
  exports.Set("RegionHandle", region);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClassJs, "setErrorClass"));
  exports.Set("unlink", Napi::Function::New(env, UnlinkJs, "unlink"));
  exports.Set("makeFifo", Napi::Function::New(env, MakeFifoJs, "makeFifo"));
  exports.Set("openFifo", Napi::Function::New(env, OpenFifoJs, "openFifo"));
  exports.Set("list", Napi::Function::New(env, ListJs, "list"));
  exports.Set("processAlive", Napi::Function::New(env, ProcessAliveJs, "processAlive"));
  exports.Set("processStartTime", Napi::Function::New(env, ProcessStartTimeJs, "processStartTime"));
  exports.Set("currentThreadId", Napi::Function::New(env, CurrentThreadIdJs, "currentThreadId"));
#if defined(_WIN32)
  RegisterKernelSync(env, exports);  // NamedEvent / NamedMutex on kernel objects
#endif
#if defined(__linux__) || defined(_WIN32)
  exports.Set("platformSupported", Napi::Boolean::New(env, true));
#else
  exports.Set("platformSupported", Napi::Boolean::New(env, false));
#endif
  return exports;
}

}  // namespace shmlink

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return shmlink::Init(env, exports);
}

NODE_API_MODULE(shmlink, InitModule)
