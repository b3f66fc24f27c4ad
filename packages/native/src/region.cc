#include "region.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "addon.h"
#include "atomic_word.h"
#include "errors.h"
#include "wait_pool.h"

namespace shmlink {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

// Reads a non-negative integer argument; throws ERR_INVALID_ARGUMENT otherwise.
bool ToIndex(Napi::Env env, Napi::Value value, const char* what, uint64_t* out) {
  if (!value.IsNumber()) {
    ThrowError(env, kErrInvalidArgument, std::string(what) + " must be a number");
    return false;
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d) {
    ThrowError(env, kErrInvalidArgument,
               std::string(what) + " must be a non-negative integer, got " + std::to_string(d));
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// A 32-bit word value: any integer in [-2^31, 2^32), stored modulo 2^32.
bool ToWord(Napi::Env env, Napi::Value value, const char* what, uint32_t* out) {
  if (!value.IsNumber()) {
    ThrowError(env, kErrInvalidArgument, std::string(what) + " must be a number");
    return false;
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0) || d > 4294967295.0 || std::floor(d) != d) {
    ThrowError(env, kErrInvalidArgument,
               std::string(what) + " must be a 32-bit integer, got " + std::to_string(d));
    return false;
  }
  *out = static_cast<uint32_t>(static_cast<int64_t>(d));
  return true;
}

// Milliseconds, non-negative; Infinity or undefined waits forever (-1).
bool ToTimeoutNs(Napi::Env env, Napi::Value value, int64_t* out) {
  if (value.IsUndefined() || value.IsNull()) {
    *out = -1;
    return true;
  }
  if (!value.IsNumber()) {
    ThrowError(env, kErrInvalidArgument, "timeoutMs must be a number of milliseconds");
    return false;
  }
  double ms = value.As<Napi::Number>().DoubleValue();
  if (std::isnan(ms) || ms < 0) {
    ThrowError(env, kErrInvalidArgument, "timeoutMs must be >= 0, got " + std::to_string(ms));
    return false;
  }
  if (std::isinf(ms) || ms > 9.2e12) {
    *out = -1;
    return true;
  }
  *out = static_cast<int64_t>(ms * 1e6);
  return true;
}

bool ToBytes(Napi::Env env, Napi::Value value, const char* what, uint8_t** data, size_t* length) {
  if (!value.IsTypedArray()) {
    ThrowError(env, kErrInvalidArgument, std::string(what) + " must be a Buffer or Uint8Array");
    return false;
  }
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) {
    ThrowError(env, kErrInvalidArgument, std::string(what) + " must be a Buffer or Uint8Array");
    return false;
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  *data = bytes.Data();
  *length = bytes.ElementLength();
  return true;
}

// The (bytes, start?, length?) arguments of write/readInto from index `first`: a window of a
// caller's Uint8Array, checked against its length.
bool ToSlice(const Napi::CallbackInfo& info, size_t first, const char* what, uint8_t** data,
             uint64_t* count) {
  Napi::Env env = info.Env();
  size_t length = 0;
  if (!ToBytes(env, info[first], what, data, &length)) return false;
  const std::string start_name = std::string(what) + "Offset";
  uint64_t start = 0;
  if (info.Length() > first + 1 && !info[first + 1].IsUndefined() &&
      !ToIndex(env, info[first + 1], start_name.c_str(), &start))
    return false;
  if (start > length) {
    ThrowError(env, kErrInvalidArgument, start_name + "=" + std::to_string(start) + " exceeds " +
                                             what + " length=" + std::to_string(length));
    return false;
  }
  *count = length - start;
  if (info.Length() > first + 2 && !info[first + 2].IsUndefined()) {
    uint64_t wanted = 0;
    if (!ToIndex(env, info[first + 2], "length", &wanted)) return false;
    if (wanted > *count) {
      ThrowError(env, kErrInvalidArgument, "length=" + std::to_string(wanted) + " exceeds the " +
                                               std::to_string(*count) + " bytes of " + what +
                                               " from " + start_name);
      return false;
    }
    *count = wanted;
  }
  *data += start;
  return true;
}

}  // namespace

Napi::Function RegionHandle::Init(Napi::Env env) {
  return DefineClass(
      env, "RegionHandle",
      {
          InstanceMethod<&RegionHandle::Close>("close"),
          InstanceAccessor<&RegionHandle::GetSize>("size"),
          InstanceAccessor<&RegionHandle::GetCreated>("created"),
          InstanceAccessor<&RegionHandle::GetClosed>("closed"),
          InstanceMethod<&RegionHandle::Write>("write"),
          InstanceMethod<&RegionHandle::ReadInto>("readInto"),
          InstanceMethod<&RegionHandle::View>("view"),
          InstanceMethod<&RegionHandle::Detach>("detach"),
          InstanceMethod<&RegionHandle::Fill>("fill"),
          InstanceMethod<&RegionHandle::Load>("load"),
          InstanceMethod<&RegionHandle::Store>("store"),
          InstanceMethod<&RegionHandle::CompareExchange>("compareExchange"),
          InstanceMethod<&RegionHandle::Add>("add"),
          InstanceMethod<&RegionHandle::Wait>("wait"),
          InstanceMethod<&RegionHandle::WaitAsync>("waitAsync"),
          InstanceMethod<&RegionHandle::Notify>("notify"),
          InstanceMethod<&RegionHandle::Flush>("flush"),
      });
}

// new RegionHandle(osName: string | null, path: string | null, disposition: 0|1|2, size: number,
//                  access: 0|1|2, permissions: number)
RegionHandle::RegionHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RegionHandle>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) {
    ThrowError(env, kErrInvalidArgument, "RegionHandle expects 6 arguments");
    return;
  }
  OpenRequest request;
  if (info[0].IsString()) request.os_name = info[0].As<Napi::String>().Utf8Value();
  if (info[1].IsString()) request.path = info[1].As<Napi::String>().Utf8Value();
  if (request.os_name.empty() == request.path.empty()) {
    ThrowError(env, kErrInvalidArgument, "exactly one of a shared-memory name and a path is needed");
    return;
  }
  uint64_t disposition = 0, size = 0, access = 0, permissions = 0;
  if (!ToIndex(env, info[2], "disposition", &disposition) || !ToIndex(env, info[3], "size", &size) ||
      !ToIndex(env, info[4], "access", &access) ||
      !ToIndex(env, info[5], "permissions", &permissions)) {
    return;
  }
  if (disposition > 2 || access > 2 || permissions > 0777) {
    ThrowError(env, kErrInvalidArgument, "disposition, access or permissions out of range");
    return;
  }
  request.disposition = static_cast<Disposition>(disposition);
  request.access = static_cast<Access>(access);
  request.size = size;
  request.permissions = static_cast<uint32_t>(permissions);
  label_ = request.path.empty() ? request.os_name : request.path;
  persisted_ = !request.path.empty();

  if (request.disposition != Disposition::kOpen && request.access == Access::kRead) {
    ThrowError(env, kErrInvalidArgument, "a region cannot be created with access 'read'");
    return;
  }
  if (request.disposition != Disposition::kOpen && size == 0) {
    ThrowError(env, kErrInvalidArgument, "size must be > 0 to create a region");
    return;
  }

  OpenResult opened;
  int err = PlatformOpen(request, &opened);
  if (err != 0) {
    ThrowSystemError(env, err, "open '" + label_ + "'");
    return;
  }
  if (opened.size == 0) {
    PlatformClose(opened.fd);
    ThrowError(env, kErrLayoutMismatch, "'" + label_ + "' has size 0: nothing to map");
    return;
  }
  if (request.size != 0 && opened.size != request.size) {
    PlatformClose(opened.fd);
    ThrowError(env, kErrLayoutMismatch,
               "'" + label_ + "' has size=" + std::to_string(opened.size) +
                   " expected=" + std::to_string(request.size));
    return;
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->fd = opened.fd;
  mapping->access = request.access;
  void* address = nullptr;
  err = PlatformMap(opened.fd, opened.size, request.access, &address);
  if (err != 0) {
    if (opened.created && !persisted_) PlatformUnlinkShared(request.os_name);
    ThrowSystemError(env, err, "map '" + label_ + "'");
    return;  // mapping's destructor closes the fd
  }
  mapping->base = static_cast<uint8_t*>(address);
  mapping->size = opened.size;
  mapping_ = std::move(mapping);
  created_ = opened.created;
}

RegionHandle::~RegionHandle() {
  if (mapping_ != nullptr) {
    // Garbage-collected without close(): release waits and the mapping.
    AddonData* data = GetAddonData(Env());
    if (data != nullptr && data->waits != nullptr) data->waits->Cancel(this);
    mapping_.reset();
  }
}

bool RegionHandle::CheckOpen(Napi::Env env) {
  if (mapping_ == nullptr) {
    ThrowError(env, kErrClosed, "region '" + label_ + "' is closed");
    return false;
  }
  return true;
}

bool RegionHandle::CheckWritable(Napi::Env env) {
  if (!CheckOpen(env)) return false;
  if (mapping_->access == Access::kRead) {
    ThrowError(env, kErrPermission, "region '" + label_ + "' was opened with access 'read'");
    return false;
  }
  return true;
}

bool RegionHandle::Range(Napi::Env env, Napi::Value offset, uint64_t length, uint64_t* start) {
  if (!ToIndex(env, offset, "offset", start)) return false;
  if (*start > mapping_->size || length > mapping_->size - *start) {
    ThrowError(env, kErrInvalidArgument,
               "range offset=" + std::to_string(*start) + " length=" + std::to_string(length) +
                   " exceeds size=" + std::to_string(mapping_->size));
    return false;
  }
  return true;
}

uint32_t* RegionHandle::WordAt(const Napi::CallbackInfo& info, size_t index) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return nullptr;
  uint64_t offset = 0;
  if (!Range(env, info[index], 4, &offset)) return nullptr;
  if (offset % 4 != 0) {
    ThrowError(env, kErrInvalidArgument,
               "offset=" + std::to_string(offset) + " must be a multiple of 4 for a 32-bit word");
    return nullptr;
  }
  return reinterpret_cast<uint32_t*>(mapping_->base + offset);
}

Napi::Value RegionHandle::Close(const Napi::CallbackInfo& info) {
  if (mapping_ != nullptr) {
    AddonData* data = GetAddonData(info.Env());
    if (data->waits != nullptr) data->waits->Cancel(this);
    mapping_.reset();
  }
  return info.Env().Undefined();
}

Napi::Value RegionHandle::GetSize(const Napi::CallbackInfo& info) {
  if (!CheckOpen(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(mapping_->size));
}

Napi::Value RegionHandle::GetCreated(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), created_);
}

Napi::Value RegionHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), mapping_ == nullptr);
}

// write(offset, source, sourceOffset?, length?) -> bytes written
Napi::Value RegionHandle::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();
  uint8_t* data = nullptr;
  uint64_t count = 0, offset = 0;
  if (!ToSlice(info, 1, "source", &data, &count) || !Range(env, info[0], count, &offset))
    return Napi::Value();
  if (count > 0) std::memcpy(mapping_->base + offset, data, static_cast<size_t>(count));
  return Napi::Number::New(env, static_cast<double>(count));
}

// readInto(offset, target, targetOffset?, length?) -> bytes copied
Napi::Value RegionHandle::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return Napi::Value();
  uint8_t* data = nullptr;
  uint64_t count = 0, offset = 0;
  if (!ToSlice(info, 1, "target", &data, &count) || !Range(env, info[0], count, &offset))
    return Napi::Value();
  if (count > 0) std::memcpy(data, mapping_->base + offset, static_cast<size_t>(count));
  return Napi::Number::New(env, static_cast<double>(count));
}

// view(offset, length) -> a Buffer over the mapped bytes themselves. The Buffer owns a reference
// to the mapping, so a view that outlives close() still points at mapped memory: holding one can
// never fault, it only sees whatever the region holds.
Napi::Value RegionHandle::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();  // JS cannot make a Buffer read-only
  uint64_t length = 0, offset = 0;
  if (!ToIndex(env, info[1], "length", &length) || !Range(env, info[0], length, &offset))
    return Napi::Value();
  auto* owner = new std::shared_ptr<Mapping>(mapping_);
  napi_value result = nullptr;
  // SHMLINK_NO_EXTERNAL_BUFFERS makes Node answer as Electron does, to exercise that path.
  napi_status status =
      std::getenv("SHMLINK_NO_EXTERNAL_BUFFERS") != nullptr
          ? napi_no_external_buffers_allowed
          : napi_create_external_buffer(
                env, static_cast<size_t>(length), mapping_->base + offset,
                [](napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<Mapping>*>(hint); },
                owner, &result);
  if (status != napi_ok) {
    delete owner;
    // Electron's V8 memory cage forbids memory from outside it behind an ArrayBuffer.
    ThrowError(env, kErrUnsupportedPlatform,
               "this runtime does not allow Buffers over memory it did not allocate (status " +
                   std::to_string(status) + "); copy out with read() or readInto()");
    return Napi::Value();
  }
  return Napi::Value(env, result);
}

// detach(view): empties a Buffer made by view() — and every Buffer over the same memory, since
// they share its ArrayBuffer — so that the mapping need not wait for the garbage collector.
// Anything that is not a view of this mapping is refused: detaching, say, Node's pooled
// ArrayBuffer would empty unrelated Buffers.
Napi::Value RegionHandle::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return Napi::Value();
  bool is_typed_array = false;
  napi_value array_buffer = nullptr;
  void* data = nullptr;
  size_t length = 0;
  if (info.Length() < 1 || napi_is_typedarray(env, info[0], &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, info[0], nullptr, nullptr, nullptr, &array_buffer, nullptr) != napi_ok ||
      napi_get_arraybuffer_info(env, array_buffer, &data, &length) != napi_ok) {
    ThrowError(env, kErrInvalidArgument, "detach expects a Buffer made by view()");
    return Napi::Value();
  }
  if (data == nullptr) return env.Undefined();  // already detached
  auto* start = static_cast<uint8_t*>(data);
  uint8_t* base = mapping_->base;
  if (start < base || start > base + mapping_->size ||
      length > static_cast<uint64_t>(base + mapping_->size - start)) {
    ThrowError(env, kErrInvalidArgument, "detach: the Buffer is not a view of region '" + label_ + "'");
    return Napi::Value();
  }
  if (napi_detach_arraybuffer(env, array_buffer) != napi_ok) {
    ThrowError(env, kErrSystem, "detach: the view's memory could not be detached");
    return Napi::Value();
  }
  return env.Undefined();
}

// fill(offset, length, byte)
Napi::Value RegionHandle::Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();
  uint64_t length = 0, offset = 0, value = 0;
  if (!ToIndex(env, info[1], "length", &length) || !ToIndex(env, info[2], "value", &value) ||
      !Range(env, info[0], length, &offset))
    return Napi::Value();
  if (value > 255) {
    ThrowError(env, kErrInvalidArgument, "value must be a byte (0..255)");
    return Napi::Value();
  }
  std::memset(mapping_->base + offset, static_cast<int>(value), static_cast<size_t>(length));
  return env.Undefined();
}

Napi::Value RegionHandle::Load(const Napi::CallbackInfo& info) {
  uint32_t* word = WordAt(info, 0);
  if (word == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), AtomicLoad(word));
}

Napi::Value RegionHandle::Store(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();
  uint32_t* word = WordAt(info, 0);
  uint32_t value = 0;
  if (word == nullptr || !ToWord(env, info[1], "value", &value)) return Napi::Value();
  AtomicStore(word, value);
  return env.Undefined();
}

// compareExchange(offset, expected, replacement) -> the value found (== expected on success)
Napi::Value RegionHandle::CompareExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();
  uint32_t* word = WordAt(info, 0);
  uint32_t expected = 0, replacement = 0;
  if (word == nullptr || !ToWord(env, info[1], "expected", &expected) ||
      !ToWord(env, info[2], "replacement", &replacement))
    return Napi::Value();
  return Napi::Number::New(env, AtomicCompareExchange(word, expected, replacement));
}

// add(offset, delta) -> the previous value (wraps modulo 2^32)
Napi::Value RegionHandle::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env)) return Napi::Value();
  uint32_t* word = WordAt(info, 0);
  uint32_t delta = 0;
  if (word == nullptr || !ToWord(env, info[1], "delta", &delta)) return Napi::Value();
  return Napi::Number::New(env, AtomicFetchAdd(word, delta));
}

static Napi::Value WaitResultValue(Napi::Env env, WaitResult result) {
  switch (result) {
    case WaitResult::kOk: return Napi::String::New(env, "ok");
    case WaitResult::kNotEqual: return Napi::String::New(env, "not-equal");
    default: return Napi::String::New(env, "timed-out");
  }
}

// wait(offset, expected, timeoutMs) -> 'ok' | 'not-equal' | 'timed-out'. Blocks the calling
// thread; the facade refuses to call it on Node's main thread.
Napi::Value RegionHandle::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* word = WordAt(info, 0);
  uint32_t expected = 0;
  int64_t timeout = -1;
  if (word == nullptr || !ToWord(env, info[1], "expected", &expected) ||
      !ToTimeoutNs(env, info[2], &timeout))
    return Napi::Value();
  std::shared_ptr<Mapping> keep = mapping_;
  WaitResult result = WaitResult::kTimedOut;
  int err = PlatformWait(word, expected, timeout, &result);
  if (err != 0) {
    ThrowSystemError(env, err, "wait");
    return Napi::Value();
  }
  return WaitResultValue(env, result);
}

// waitAsync(offset, expected, timeoutMs, spinMicros?) -> Promise<'ok' | 'not-equal' | 'timed-out'>
Napi::Value RegionHandle::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* word = WordAt(info, 0);
  uint32_t expected = 0;
  int64_t timeout = -1;
  uint64_t spin_us = 0;
  if (word == nullptr || !ToWord(env, info[1], "expected", &expected) ||
      !ToTimeoutNs(env, info[2], &timeout))
    return Napi::Value();
  if (info.Length() > 3 && !info[3].IsUndefined() && !ToIndex(env, info[3], "spinMicros", &spin_us))
    return Napi::Value();
  if (spin_us > 1000000) {
    ThrowError(env, kErrInvalidArgument, "spinMicros must be <= 1000000");
    return Napi::Value();
  }
  AddonData* data = GetAddonData(env);
  return data->waits->Submit(env, mapping_, word, expected, timeout,
                             static_cast<int64_t>(spin_us) * 1000, this);
}

// notify(offset, count?) -> number of waiters woken (in every process)
Napi::Value RegionHandle::Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* word = WordAt(info, 0);
  if (word == nullptr) return Napi::Value();
  uint64_t count = 0x7fffffff;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (info[1].IsNumber() && std::isinf(info[1].As<Napi::Number>().DoubleValue())) {
      count = 0x7fffffff;
    } else if (!ToIndex(env, info[1], "count", &count)) {
      return Napi::Value();
    }
    if (count > 0x7fffffff) count = 0x7fffffff;
  }
  int woken = 0;
  int err = PlatformWake(word, static_cast<int>(count), &woken);
  if (err != 0) {
    ThrowSystemError(env, err, "wake");
    return Napi::Value();
  }
  return Napi::Number::New(env, woken);
}

Napi::Value RegionHandle::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return Napi::Value();
  if (persisted_ && mapping_->access != Access::kCopyOnWrite) {
    int err = PlatformFlush(mapping_->base, mapping_->size);
    if (err != 0) {
      ThrowSystemError(env, err, "msync '" + label_ + "'");
      return Napi::Value();
    }
  }
  return env.Undefined();
}

}  // namespace shmlink
