// NamedEvent and NamedMutex on Windows kernel objects: docs/decisions.md §32.
//
// Every wait of a handle runs on one native thread of its own, the handle's *servant*. For a mutex
// this is what makes ownership work: a Windows mutex belongs to the thread whose wait acquired it
// and only that thread may release it (and the OS marks it abandoned when that thread ends), while
// lockAsync must not wait on the JS thread and unlock() is called from JS, possibly from another
// callback. So tryLock, lock, lockAsync and unlock are requests the servant performs; close() ends
// the servant, and a mutex it still holds is abandoned by the OS exactly as if its process had
// died. An event has no owner; its servant only runs waitAsync calls, so that close() can cancel
// them.
#include "kernel_sync.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "win32_util.h"  // windows.h, Widen, FromWin32, Security: shared with the region backend

#ifndef EVENT_QUERY_STATE
#define EVENT_QUERY_STATE 0x0001
#endif

namespace shmlink {
namespace {

using Clock = std::chrono::steady_clock;

// ---- names, security, errors -------------------------------------------------------------------

// The facade passes the name it validated, "/shmlink.ev.chat"; the object lives in the session's
// namespace as "Local\shmlink.ev.chat". The region backend's objects are all "Local\shmlink.<one
// letter>.…" (win32_util.h), so the two never meet.
std::wstring KernelName(const std::string& os_name) {
  return L"Local\\" + win32::Widen(!os_name.empty() && os_name[0] == '/' ? os_name.substr(1) : os_name);
}

// Win32 errors as everywhere in the addon (win32::FromWin32 → errors.cc), but for one the region
// backend never meets: create or open of a name held by a kernel object of another type (an event
// where a mutex is wanted), the counterpart of a wrong magic on Linux.
Napi::Error MakeWin32Error(Napi::Env env, DWORD err, const std::string& what) {
  if (err == ERROR_INVALID_HANDLE) {
    return MakeError(env, kErrLayoutMismatch, what + ": the name belongs to another kind of kernel object");
  }
  return MakeSystemError(env, win32::FromWin32(err), what);
}

void ThrowWin32Error(Napi::Env env, DWORD err, const std::string& what) {
  MakeWin32Error(env, err, what).ThrowAsJavaScriptException();
}

// NtQueryEvent reads an event's type and state without waiting on it, which would consume the
// signal of an auto-reset event. It is exported by ntdll on every Windows since NT (and by wine).
struct EventBasicInformation {
  LONG type;   // 0 NotificationEvent (manual reset), 1 SynchronizationEvent (auto reset)
  LONG state;  // non-zero when set
};
using NtQueryEventFn = LONG(NTAPI*)(HANDLE, int, void*, ULONG, ULONG*);

DWORD QueryEvent(HANDLE event, EventBasicInformation* out) {
  static NtQueryEventFn query =
      reinterpret_cast<NtQueryEventFn>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryEvent"));
  if (query == nullptr) return ERROR_PROC_NOT_FOUND;
  ULONG length = 0;
  LONG status = query(event, 0 /* EventBasicInformation */, out, sizeof(*out), &length);
  return status >= 0 ? 0 : ERROR_INVALID_FUNCTION;
}

// ---- timeouts ----------------------------------------------------------------------------------

struct Deadline {
  bool forever = true;
  Clock::time_point at;

  // Milliseconds for a Win32 wait: INFINITE, or the time left rounded up and capped so that a very
  // long timeout is waited in pieces.
  DWORD WaitMs() const {
    if (forever) return INFINITE;
    auto left = at - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    double ms = std::ceil(std::chrono::duration<double, std::milli>(left).count());
    return ms >= 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<DWORD>(ms);
  }
  bool Passed() const { return !forever && Clock::now() >= at; }
};

// timeoutMs: a number >= 0 (the facade checked it), Infinity or undefined for none.
bool ToDeadline(Napi::Env env, Napi::Value value, Deadline* out) {
  out->forever = true;
  if (value.IsUndefined()) return true;
  double ms = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(ms >= 0)) {
    ThrowError(env, kErrInvalidArgument, "timeoutMs must be a number >= 0 or Infinity");
    return false;
  }
  // Beyond ~30 years is forever: the clock's nanosecond count would overflow near 292 years.
  if (ms > 1e12) return true;
  out->forever = false;
  out->at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double, std::milli>(ms));
  return true;
}

// ---- the servant thread ------------------------------------------------------------------------

// What a request came to; the JS facade turns these into results and errors.
enum class Outcome {
  kSignaled,     // event: the wait was satisfied
  kAcquired,     // mutex: now held by this handle
  kAbandoned,    // mutex: now held; its previous owner ended while holding it
  kBusy,         // mutex: tryLock found it held by someone else
  kTimedOut,
  kAlreadyHeld,  // mutex: this handle holds it already (not recursive)
  kReleased,
  kNotHeld,      // mutex: unlock of a mutex this handle does not hold
  kClosed,       // the handle was closed while the request was pending
  kFailed,       // a Win32 call failed: see error
};

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSignaled: return "signaled";
    case Outcome::kAcquired: return "acquired";
    case Outcome::kAbandoned: return "abandoned";
    case Outcome::kBusy: return "busy";
    case Outcome::kTimedOut: return "timed-out";
    case Outcome::kAlreadyHeld: return "already-held";
    case Outcome::kReleased: return "released";
    case Outcome::kNotHeld: return "not-held";
    case Outcome::kClosed: return "closed";
    case Outcome::kFailed: break;
  }
  return "failed";
}

struct Request {
  enum class Kind { kWait, kTry, kRelease };
  Kind kind = Kind::kWait;
  Deadline deadline;
  Outcome outcome = Outcome::kFailed;
  DWORD error = 0;
  std::string what;  // for the message of a kFailed
  // Settled either on the JS thread through a thread-safe function of its own (waitAsync,
  // lockAsync: a pending one keeps the event loop alive, like a timer), or by waking the thread
  // that waits for it (every other request).
  napi_threadsafe_function tsfn = nullptr;
  napi_deferred deferred = nullptr;
  bool done = false;
};

void SettleOnJs(napi_env env, napi_value, void*, void* data) {
  Request* request = static_cast<Request*>(data);
  if (env != nullptr) {  // null while the environment is torn down: only free the request
    Napi::Env e(env);
    Napi::HandleScope scope(e);
    if (request->outcome == Outcome::kFailed) {
      napi_reject_deferred(env, request->deferred, MakeWin32Error(e, request->error, request->what).Value());
    } else {
      napi_resolve_deferred(env, request->deferred, Napi::String::New(e, OutcomeName(request->outcome)));
    }
  }
  delete request;
}

class Servant {
 public:
  enum class Kind { kEvent, kMutex };

  Servant(Kind kind, HANDLE object, bool manual_reset)
      : kind_(kind), object_(object), manual_reset_(manual_reset) {}
  ~Servant() { Shutdown(false); }
  Servant(const Servant&) = delete;
  Servant& operator=(const Servant&) = delete;

  HANDLE object() const { return object_; }
  bool held() { return InterlockedCompareExchange(&held_, 0, 0) != 0; }

  // Queues `request` and returns a Promise of its outcome (nullptr after throwing).
  napi_value Async(Napi::Env env, std::unique_ptr<Request> request) {
    if (!Start(env)) return nullptr;
    napi_value promise = nullptr;
    napi_value name = Napi::String::New(env, "shmlink.kernelWait");
    if (napi_create_promise(env, &request->deferred, &promise) != napi_ok ||
        napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr,
                                        SettleOnJs, &request->tsfn) != napi_ok) {
      ThrowError(env, kErrSystem, "cannot queue a wait: N-API refused a promise or a thread-safe function");
      return nullptr;
    }
    Enqueue(request.release());
    return promise;
  }

  // Queues `request` and blocks the calling thread until the servant has done it; false after
  // throwing. On the JS thread this is only ever a hand-off (tryLock, unlock), never a wait.
  bool Sync(Napi::Env env, Request* request) {
    if (!Start(env)) return false;
    Enqueue(request);
    AcquireSRWLockExclusive(&lock_);
    while (!request->done) SleepConditionVariableSRW(&done_, &lock_, INFINITE, 0);
    ReleaseSRWLockExclusive(&lock_);
    return true;
  }

  // Ends the servant (pending requests come back kClosed; a mutex it holds is abandoned by the OS
  // as the thread ends) and closes the object's handle. Idempotent.
  void Shutdown(bool from_cleanup_hook) {
    if (thread_ != nullptr) {
      AcquireSRWLockExclusive(&lock_);
      stopping_ = true;
      ReleaseSRWLockExclusive(&lock_);
      WakeAllConditionVariable(&work_);
      SetEvent(wake_);
      WaitForSingleObject(thread_, INFINITE);
      CloseHandle(thread_);
      thread_ = nullptr;
      if (!from_cleanup_hook) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    }
    if (wake_ != nullptr) CloseHandle(wake_);
    wake_ = nullptr;
    if (object_ != nullptr) CloseHandle(object_);
    object_ = nullptr;
  }

 private:
  // A worker thread that exits (or is terminated) holding a mutex must abandon it, as its process
  // would by dying: the environment's cleanup ends its servants.
  static void OnEnvCleanup(void* self) { static_cast<Servant*>(self)->Shutdown(true); }

  static DWORD WINAPI ThreadMain(void* self) {
    static_cast<Servant*>(self)->Run();
    return 0;
  }

  bool Start(Napi::Env env) {
    if (thread_ != nullptr) return true;
    wake_ = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    if (wake_ == nullptr) {
      ThrowWin32Error(env, GetLastError(), "CreateEventW for a servant thread");
      return false;
    }
    // A servant's stack holds a few frames: reserve 64 KiB, not the default megabyte.
    thread_ = CreateThread(nullptr, 64 * 1024, ThreadMain, this, STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
    if (thread_ == nullptr) {
      ThrowWin32Error(env, GetLastError(), "CreateThread for a servant thread");
      return false;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    return true;
  }

  // An idle servant sleeps on a condition variable, which costs no system call to wake (under wine
  // not even a trip to the wineserver); only a servant inside a kernel wait needs the wake event.
  void Enqueue(Request* request) {
    AcquireSRWLockExclusive(&lock_);
    inbox_.push_back(request);
    bool in_kernel_wait = in_kernel_wait_;
    ReleaseSRWLockExclusive(&lock_);
    if (in_kernel_wait) {
      SetEvent(wake_);
    } else {
      WakeAllConditionVariable(&work_);
    }
  }

  void Run() {
    std::vector<Request*> waiting;  // in arrival order
    for (;;) {
      std::deque<Request*> batch;
      AcquireSRWLockExclusive(&lock_);
      while (waiting.empty() && inbox_.empty() && !stopping_) SleepConditionVariableSRW(&work_, &lock_, INFINITE, 0);
      batch.swap(inbox_);
      bool stopping = stopping_;
      ReleaseSRWLockExclusive(&lock_);
      for (Request* request : batch) {
        if (stopping) {
          Complete(request, Outcome::kClosed);
        } else {
          Handle(request, &waiting);
        }
      }
      if (stopping) {
        for (Request* request : waiting) Complete(request, Outcome::kClosed);
        return;  // a mutex still held is abandoned as this thread ends
      }
      if (waiting.empty()) continue;
      DWORD ms = INFINITE;
      for (Request* request : waiting) ms = std::min(ms, request->deadline.WaitMs());
      AcquireSRWLockExclusive(&lock_);
      bool more = !inbox_.empty() || stopping_;
      in_kernel_wait_ = !more;
      ReleaseSRWLockExclusive(&lock_);
      if (more) continue;
      // The wake event first: when both are signalled, requests (a close above all) are looked at
      // before the object is taken. A wake left over from an earlier wait costs one extra round.
      HANDLE handles[2] = {wake_, object_};
      DWORD got = WaitForMultipleObjects(2, handles, FALSE, ms);
      DWORD wait_error = got == WAIT_FAILED ? GetLastError() : 0;
      AcquireSRWLockExclusive(&lock_);
      in_kernel_wait_ = false;
      ReleaseSRWLockExclusive(&lock_);
      if (got == WAIT_OBJECT_0) continue;
      if (got == WAIT_OBJECT_0 + 1 || got == WAIT_ABANDONED_0 + 1) {
        Satisfied(got == WAIT_ABANDONED_0 + 1, &waiting);
      } else if (got == WAIT_TIMEOUT) {
        std::vector<Request*> left;
        for (Request* request : waiting) {
          if (request->deadline.Passed()) {
            Complete(request, Outcome::kTimedOut);
          } else {
            left.push_back(request);
          }
        }
        waiting.swap(left);
      } else {
        for (Request* request : waiting) Complete(request, Outcome::kFailed, wait_error, "WaitForMultipleObjects");
        waiting.clear();
      }
    }
  }

  void Handle(Request* request, std::vector<Request*>* waiting) {
    bool held = held_ != 0;
    switch (request->kind) {
      case Request::Kind::kWait:
        if (kind_ == Kind::kMutex && held) {
          Complete(request, Outcome::kAlreadyHeld);
        } else {
          waiting->push_back(request);
        }
        return;
      case Request::Kind::kTry: {
        if (held) {
          Complete(request, Outcome::kAlreadyHeld);
          return;
        }
        DWORD got = WaitForSingleObject(object_, 0);
        if (got == WAIT_OBJECT_0 || got == WAIT_ABANDONED) {
          Take(got == WAIT_ABANDONED, request, waiting);
        } else if (got == WAIT_TIMEOUT) {
          Complete(request, Outcome::kBusy);
        } else {
          Complete(request, Outcome::kFailed, GetLastError(), "WaitForSingleObject");
        }
        return;
      }
      case Request::Kind::kRelease:
        if (!held) {
          Complete(request, Outcome::kNotHeld);
        } else if (!ReleaseMutex(object_)) {
          Complete(request, Outcome::kFailed, GetLastError(), "ReleaseMutex");
        } else {
          InterlockedExchange(&held_, 0);
          Complete(request, Outcome::kReleased);
        }
        return;
    }
  }

  // The object was signalled for the first waiting request (an auto-reset event or a mutex: that
  // wait consumed it) or for all of them (a manual-reset event stays set).
  void Satisfied(bool abandoned, std::vector<Request*>* waiting) {
    if (kind_ == Kind::kMutex) {
      Request* first = waiting->front();
      waiting->erase(waiting->begin());
      Take(abandoned, first, waiting);
      return;
    }
    if (manual_reset_) {
      for (Request* request : *waiting) Complete(request, Outcome::kSignaled);
      waiting->clear();
      return;
    }
    Complete(waiting->front(), Outcome::kSignaled);
    waiting->erase(waiting->begin());
  }

  // This thread now owns the mutex, on behalf of `winner`; the other waits of this handle would
  // lock it a second time.
  void Take(bool abandoned, Request* winner, std::vector<Request*>* waiting) {
    InterlockedExchange(&held_, 1);
    Complete(winner, abandoned ? Outcome::kAbandoned : Outcome::kAcquired);
    for (Request* request : *waiting) Complete(request, Outcome::kAlreadyHeld);
    waiting->clear();
  }

  void Complete(Request* request, Outcome outcome, DWORD error = 0, const char* what = "") {
    request->outcome = outcome;
    request->error = error;
    if (outcome == Outcome::kFailed) request->what = what;
    if (request->tsfn != nullptr) {
      napi_threadsafe_function tsfn = request->tsfn;
      // Fails only while the environment is torn down; nobody is left to tell.
      if (napi_call_threadsafe_function(tsfn, request, napi_tsfn_nonblocking) != napi_ok) delete request;
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
      return;
    }
    AcquireSRWLockExclusive(&lock_);
    request->done = true;
    ReleaseSRWLockExclusive(&lock_);
    WakeAllConditionVariable(&done_);
  }

  const Kind kind_;
  HANDLE object_;
  const bool manual_reset_;
  HANDLE wake_ = nullptr;
  HANDLE thread_ = nullptr;
  napi_env env_ = nullptr;
  SRWLOCK lock_ = SRWLOCK_INIT;
  CONDITION_VARIABLE done_ = CONDITION_VARIABLE_INIT;  // a request was completed
  CONDITION_VARIABLE work_ = CONDITION_VARIABLE_INIT;  // a request arrived, or stopping_
  bool in_kernel_wait_ = false;  // the servant sleeps in WaitForMultipleObjects: wake it by wake_
  std::deque<Request*> inbox_;
  bool stopping_ = false;
  LONG held_ = 0;  // written by the servant, read by the JS thread for isLocked
};

// ---- the classes -------------------------------------------------------------------------------

// (osName: string, create: boolean, then `flags` more booleans)
bool ArgsOk(const Napi::CallbackInfo& info, const char* what, size_t flags) {
  bool ok = info.Length() >= 2 + flags && info[0].IsString();
  for (size_t i = 1; ok && i < 2 + flags; i++) ok = info[i].IsBoolean();
  if (!ok) {
    ThrowError(info.Env(), kErrInvalidArgument,
               std::string(what) + " expects (osName: string, create: boolean" + (flags > 0 ? ", flags: boolean...)" : ")"));
  }
  return ok;
}

// Creates (owner-only) or opens the named kernel object for `label`; nullptr once it has thrown.
// `created` tells whether this call made the object (false when a create found it existing).
template <typename Create, typename Open>
HANDLE CreateOrOpen(Napi::Env env, const std::string& label, bool create, const char* create_call,
                    const char* open_call, Create create_object, Open open_object, bool* created) {
  std::wstring name = KernelName(label);
  HANDLE object = nullptr;
  if (create) {
    win32::Security security(0600, win32::Security::Kind::kData);  // owner only
    if (security.attributes() == nullptr) {
      ThrowSystemError(env, security.error(), "owner-only security descriptor for '" + label + "'");
      return nullptr;
    }
    object = create_object(security.attributes(), name.c_str());
    *created = object != nullptr && GetLastError() != ERROR_ALREADY_EXISTS;
  } else {
    object = open_object(name.c_str());
  }
  if (object == nullptr) {
    ThrowWin32Error(env, GetLastError(), std::string(create ? create_call : open_call) + " '" + label + "'");
  }
  return object;
}

// new KernelEvent(osName, create, manualReset, initialState)
class KernelEvent : public Napi::ObjectWrap<KernelEvent> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "KernelEvent",
                       {
                           InstanceMethod<&KernelEvent::Set>("set"),
                           InstanceMethod<&KernelEvent::Reset>("reset"),
                           InstanceMethod<&KernelEvent::IsSet>("isSet"),
                           InstanceMethod<&KernelEvent::Wait>("wait"),
                           InstanceMethod<&KernelEvent::WaitAsync>("waitAsync"),
                           InstanceMethod<&KernelEvent::Close>("close"),
                           InstanceAccessor<&KernelEvent::GetCreated>("created"),
                           InstanceAccessor<&KernelEvent::GetManualReset>("manualReset"),
                           InstanceAccessor<&KernelEvent::GetClosed>("closed"),
                       });
  }

  explicit KernelEvent(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KernelEvent>(info) {
    Napi::Env env = info.Env();
    if (!ArgsOk(info, "KernelEvent", 2)) return;
    label_ = info[0].As<Napi::String>().Utf8Value();
    bool manual_reset = info[2].As<Napi::Boolean>().Value();
    bool initial_state = info[3].As<Napi::Boolean>().Value();
    HANDLE event = CreateOrOpen(
        env, label_, info[1].As<Napi::Boolean>().Value(), "CreateEventW", "OpenEventW",
        [&](SECURITY_ATTRIBUTES* security, const wchar_t* name) { return CreateEventW(security, manual_reset, initial_state, name); },
        [](const wchar_t* name) { return OpenEventW(EVENT_MODIFY_STATE | EVENT_QUERY_STATE | SYNCHRONIZE, FALSE, name); },
        &created_);
    if (event == nullptr) return;
    // The kind of an event this call did not create is the creator's: ask the kernel.
    EventBasicInformation query{};
    DWORD err = QueryEvent(event, &query);
    if (err != 0) {
      CloseHandle(event);
      ThrowWin32Error(env, err, "NtQueryEvent '" + label_ + "'");
      return;
    }
    manual_reset_ = query.type == 0;
    servant_ = std::make_unique<Servant>(Servant::Kind::kEvent, event, manual_reset_);
  }

 private:
  bool CheckOpen(Napi::Env env) {
    if (servant_ != nullptr && servant_->object() != nullptr) return true;
    ThrowError(env, kErrClosed, "named event '" + label_ + "' is closed");
    return false;
  }

  Napi::Value Set(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return Napi::Value();
    if (!SetEvent(servant_->object())) ThrowWin32Error(info.Env(), GetLastError(), "SetEvent '" + label_ + "'");
    return info.Env().Undefined();
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return Napi::Value();
    if (!ResetEvent(servant_->object())) ThrowWin32Error(info.Env(), GetLastError(), "ResetEvent '" + label_ + "'");
    return info.Env().Undefined();
  }

  Napi::Value IsSet(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return Napi::Value();
    EventBasicInformation query{};
    DWORD err = QueryEvent(servant_->object(), &query);
    if (err != 0) {
      ThrowWin32Error(info.Env(), err, "NtQueryEvent '" + label_ + "'");
      return Napi::Value();
    }
    return Napi::Boolean::New(info.Env(), query.state != 0);
  }

  // wait(timeoutMs) -> boolean: blocks the calling thread (the facade allows it in workers only).
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Deadline deadline;
    if (!CheckOpen(env) || !ToDeadline(env, info[0], &deadline)) return Napi::Value();
    for (;;) {
      DWORD got = WaitForSingleObject(servant_->object(), deadline.WaitMs());
      if (got == WAIT_OBJECT_0) return Napi::Boolean::New(env, true);
      if (got != WAIT_TIMEOUT) {
        ThrowWin32Error(env, GetLastError(), "WaitForSingleObject '" + label_ + "'");
        return Napi::Value();
      }
      if (deadline.Passed()) return Napi::Boolean::New(env, false);
    }
  }

  // waitAsync(timeoutMs) -> Promise<'signaled' | 'timed-out' | 'closed'>
  Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto request = std::make_unique<Request>();
    if (!CheckOpen(env) || !ToDeadline(env, info[0], &request->deadline)) return Napi::Value();
    napi_value promise = servant_->Async(env, std::move(request));
    return promise == nullptr ? Napi::Value() : Napi::Value(env, promise);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (servant_ != nullptr) servant_->Shutdown(false);
    return info.Env().Undefined();
  }

  Napi::Value GetCreated(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), created_); }
  Napi::Value GetManualReset(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), manual_reset_); }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), servant_ == nullptr || servant_->object() == nullptr);
  }

  std::unique_ptr<Servant> servant_;
  std::string label_;
  bool created_ = false;
  bool manual_reset_ = false;
};

// new KernelMutex(osName, create)
class KernelMutex : public Napi::ObjectWrap<KernelMutex> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "KernelMutex",
                       {
                           InstanceMethod<&KernelMutex::TryLock>("tryLock"),
                           InstanceMethod<&KernelMutex::Lock>("lock"),
                           InstanceMethod<&KernelMutex::LockAsync>("lockAsync"),
                           InstanceMethod<&KernelMutex::Unlock>("unlock"),
                           InstanceMethod<&KernelMutex::Close>("close"),
                           InstanceAccessor<&KernelMutex::GetCreated>("created"),
                           InstanceAccessor<&KernelMutex::GetLocked>("isLocked"),
                           InstanceAccessor<&KernelMutex::GetClosed>("closed"),
                       });
  }

  explicit KernelMutex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KernelMutex>(info) {
    Napi::Env env = info.Env();
    if (!ArgsOk(info, "KernelMutex", 0)) return;
    label_ = info[0].As<Napi::String>().Utf8Value();
    HANDLE mutex = CreateOrOpen(
        env, label_, info[1].As<Napi::Boolean>().Value(), "CreateMutexW", "OpenMutexW",
        [](SECURITY_ATTRIBUTES* security, const wchar_t* name) { return CreateMutexW(security, FALSE, name); },
        [](const wchar_t* name) { return OpenMutexW(MUTEX_MODIFY_STATE | SYNCHRONIZE, FALSE, name); }, &created_);
    if (mutex == nullptr) return;
    servant_ = std::make_unique<Servant>(Servant::Kind::kMutex, mutex, false);
  }

 private:
  bool CheckOpen(Napi::Env env) {
    if (servant_ != nullptr && servant_->object() != nullptr) return true;
    ThrowError(env, kErrClosed, "named mutex '" + label_ + "' is closed");
    return false;
  }

  // A request the servant performs while this thread waits for it; its outcome as a string.
  Napi::Value Hand(Napi::Env env, Request* request) {
    if (!servant_->Sync(env, request)) return Napi::Value();
    if (request->outcome == Outcome::kFailed) {
      ThrowWin32Error(env, request->error, std::string(request->what) + " '" + label_ + "'");
      return Napi::Value();
    }
    return Napi::String::New(env, OutcomeName(request->outcome));
  }

  // tryLock() -> 'acquired' | 'abandoned' | 'busy' | 'already-held'
  Napi::Value TryLock(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return Napi::Value();
    Request request;
    request.kind = Request::Kind::kTry;
    return Hand(info.Env(), &request);
  }

  // lock(timeoutMs) -> 'acquired' | 'abandoned' | 'timed-out' | 'already-held'. Blocks the calling
  // thread (the facade allows it in workers only) while the servant waits.
  Napi::Value Lock(const Napi::CallbackInfo& info) {
    Request request;
    if (!CheckOpen(info.Env()) || !ToDeadline(info.Env(), info[0], &request.deadline)) return Napi::Value();
    return Hand(info.Env(), &request);
  }

  // lockAsync(timeoutMs) -> Promise of lock()'s outcomes or 'closed'
  Napi::Value LockAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto request = std::make_unique<Request>();
    if (!CheckOpen(env) || !ToDeadline(env, info[0], &request->deadline)) return Napi::Value();
    napi_value promise = servant_->Async(env, std::move(request));
    return promise == nullptr ? Napi::Value() : Napi::Value(env, promise);
  }

  // unlock() -> 'released' | 'not-held'
  Napi::Value Unlock(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return Napi::Value();
    Request request;
    request.kind = Request::Kind::kRelease;
    return Hand(info.Env(), &request);
  }

  // Ends the servant: a mutex it holds is abandoned, like one whose owner died.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (servant_ != nullptr) servant_->Shutdown(false);
    return info.Env().Undefined();
  }

  Napi::Value GetCreated(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), created_); }
  Napi::Value GetLocked(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), servant_ != nullptr && servant_->object() != nullptr && servant_->held());
  }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), servant_ == nullptr || servant_->object() == nullptr);
  }

  std::unique_ptr<Servant> servant_;
  std::string label_;
  bool created_ = false;
};

}  // namespace

void RegisterKernelSync(Napi::Env env, Napi::Object exports) {
  exports.Set("KernelEvent", KernelEvent::Init(env));
  exports.Set("KernelMutex", KernelMutex::Init(env));
}

}  // namespace shmlink
