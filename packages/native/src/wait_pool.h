// Asynchronous waits on a shared word. A blocking futex wait must never run on Node's main thread,
// so each waitAsync() runs on a pooled native thread and settles its Promise through a
// thread-safe function. Threads are reused: a wait costs a hand-off, not a thread creation.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "mapping.h"
#include "platform.h"

namespace shmlink {

struct WaitJob;
void CallJsComplete(Napi::Env env, Napi::Function, std::nullptr_t*, WaitJob* job);
using CompletionFn = Napi::TypedThreadSafeFunction<std::nullptr_t, WaitJob, CallJsComplete>;

class EnvWaits;

struct WaitJob {
  std::shared_ptr<Mapping> mapping;
  uint32_t* word = nullptr;
  uint32_t expected = 0;
  int64_t timeout_ns = -1;
  int64_t spin_ns = 0;
  const void* owner_tag = nullptr;  // the Region that started the wait, for cancellation
  EnvWaits* env_waits = nullptr;
  Napi::Promise::Deferred deferred;
  std::atomic<bool> cancelled{false};
  WaitResult result = WaitResult::kTimedOut;
  int error = 0;

  explicit WaitJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class EnvWaits {
 public:
  explicit EnvWaits(Napi::Env env);
  ~EnvWaits();

  Napi::Promise Submit(Napi::Env env, std::shared_ptr<Mapping> mapping, uint32_t* word,
                       uint32_t expected, int64_t timeout_ns, int64_t spin_ns, const void* tag);
  // Wakes and rejects (ERR_CLOSED) every wait started by `tag`; does not block.
  void Cancel(const void* tag);
  // Called when the environment is torn down (process exit, worker exit).
  void Shutdown();

  void Finish(WaitJob* job);            // on a pool thread
  void Settle(Napi::Env env, WaitJob* job);  // on the JS thread

 private:
  void WakeAll(const void* tag);

  CompletionFn completion_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_set<WaitJob*> active_;
  bool closing_ = false;
  size_t pending_ = 0;  // jobs not yet settled in JS; the event loop stays alive while > 0
};

}  // namespace shmlink
