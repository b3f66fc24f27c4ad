#include "wait_pool.h"

#include <chrono>
#include <climits>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "atomic_word.h"
#include "errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SHMLINK_PAUSE() _mm_pause()
#else
#define SHMLINK_PAUSE() std::this_thread::yield()
#endif

namespace shmlink {

namespace {

// Process-wide pool of threads that run blocking waits. Idle threads park on a condition variable;
// a few stay parked for reuse, the rest exit.
class ThreadPool {
 public:
  static ThreadPool& Instance() {
    static ThreadPool* pool = new ThreadPool();  // never destroyed: threads may outlive statics
    return *pool;
  }

  void Run(std::function<void()> task) {
    std::unique_lock<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    if (idle_ > 0) {
      cv_.notify_one();
      return;
    }
    threads_++;
    std::thread(&ThreadPool::Loop, this).detach();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (tasks_.empty()) {
        if (idle_ >= kMaxIdle) {
          threads_--;
          return;
        }
        idle_++;
        cv_.wait(lock);
        idle_--;
      }
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  static constexpr int kMaxIdle = 8;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  int idle_ = 0;
  int threads_ = 0;
};

void RunJob(WaitJob* job) {
  if (job->spin_ns > 0) {
    int64_t until = PlatformMonotonicNs() + job->spin_ns;
    while (!job->cancelled.load(std::memory_order_relaxed)) {
      if (AtomicLoad(job->word) != job->expected) {
        job->result = WaitResult::kNotEqual;
        job->env_waits->Finish(job);
        return;
      }
      if (PlatformMonotonicNs() >= until) break;
      for (int i = 0; i < 32; i++) SHMLINK_PAUSE();
    }
  }
  if (!job->cancelled.load()) {
    int64_t timeout = job->timeout_ns;
    if (timeout >= 0 && job->spin_ns > 0) timeout = timeout > job->spin_ns ? timeout - job->spin_ns : 0;
    job->error = PlatformWait(job->word, job->expected, timeout, &job->result);
  }
  job->env_waits->Finish(job);
}

}  // namespace

void CallJsComplete(Napi::Env env, Napi::Function, std::nullptr_t*, WaitJob* job) {
  if (env == nullptr) {  // the environment is being torn down; nobody is waiting for the answer
    delete job;
    return;
  }
  job->env_waits->Settle(env, job);
}

EnvWaits::EnvWaits(Napi::Env env) {
  completion_ = CompletionFn::New(env, "shmlink-wait", 0, 1, nullptr);
  completion_.Unref(env);
}

EnvWaits::~EnvWaits() = default;

Napi::Promise EnvWaits::Submit(Napi::Env env, std::shared_ptr<Mapping> mapping, uint32_t* word,
                               uint32_t expected, int64_t timeout_ns, int64_t spin_ns,
                               const void* tag) {
  WaitJob* job = new WaitJob(env);
  job->mapping = std::move(mapping);
  job->word = word;
  job->expected = expected;
  job->timeout_ns = timeout_ns;
  job->spin_ns = spin_ns;
  job->owner_tag = tag;
  job->env_waits = this;
  Napi::Promise promise = job->deferred.Promise();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_.insert(job);
  }
  if (pending_++ == 0) completion_.Ref(env);
  ThreadPool::Instance().Run([job] { RunJob(job); });
  return promise;
}

void EnvWaits::Finish(WaitJob* job) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(job);
  if (closing_) {
    delete job;
    idle_.notify_all();
    return;
  }
  if (completion_.NonBlockingCall(job) != napi_ok) delete job;
}

void EnvWaits::Settle(Napi::Env env, WaitJob* job) {
  if (--pending_ == 0) completion_.Unref(env);
  Napi::HandleScope scope(env);
  if (job->cancelled.load()) {
    job->deferred.Reject(MakeError(env, kErrClosed, "the region was closed while waiting").Value());
  } else if (job->error != 0) {
    job->deferred.Reject(MakeSystemError(env, job->error, "wait").Value());
  } else {
    const char* text = job->result == WaitResult::kOk         ? "ok"
                       : job->result == WaitResult::kNotEqual ? "not-equal"
                                                              : "timed-out";
    job->deferred.Resolve(Napi::String::New(env, text));
  }
  delete job;
}

void EnvWaits::WakeAll(const void* tag) {
  for (WaitJob* job : active_) {
    if (tag != nullptr && job->owner_tag != tag) continue;
    job->cancelled.store(true);
    int woken = 0;
    PlatformWake(job->word, INT_MAX, &woken);
  }
}

void EnvWaits::Cancel(const void* tag) {
  // A job may be between its cancellation check and its sleep when a wake lands; wake again until
  // every job of this tag has left. That stretch is a few instructions on Linux, but on Windows it
  // includes opening a named semaphore, milliseconds under load: after the first rounds, go on at
  // 1 ms intervals. Each job checks `cancelled` before it sleeps, so this ends once they have run.
  const int64_t give_up = PlatformMonotonicNs() + 10 * 1000000000LL;
  for (int round = 0;; round++) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      bool any = false;
      for (WaitJob* job : active_) {
        if (job->owner_tag == tag) any = true;
      }
      if (!any) return;
      WakeAll(tag);
    }
    if (round < 200) {
      std::this_thread::yield();
    } else {
      if (PlatformMonotonicNs() > give_up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

void EnvWaits::Shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  while (!active_.empty()) {
    WakeAll(nullptr);
    idle_.wait_for(lock, std::chrono::milliseconds(1));
  }
  lock.unlock();
  completion_.Abort();
}

}  // namespace shmlink
