#include "win32_wait.h"

#include <errno.h>

#include <algorithm>
#include <climits>

#include "atomic_word.h"
#include "win32_objects.h"

namespace shmlink {
namespace win32 {

namespace {

// A waker that claimed a sleeper releases its token right after; a sleeper that finds itself
// claimed waits this long for it (longer only if the waker died in between).
constexpr DWORD kClaimedTokenMs = 1000;

// The slot of the word at `offset`: the one holding its key, or (when `claim`) a free one taken
// for it. Linear probing from a hash; slots are never given back, so a free slot ends a search.
WaitSlot* FindSlot(MetaPage* meta, uint64_t offset, bool claim, int* index) {
  LONG64 key = static_cast<LONG64>(offset + 1);
  int start = static_cast<int>((offset / 4) % kWaitSlots);
  for (int i = 0; i < kWaitSlots; i++) {
    int at = (start + i) % kWaitSlots;
    WaitSlot* slot = &meta->slots[at];
    LONG64 found = InterlockedCompareExchange64(&slot->key, 0, 0);
    if (found == 0) {
      if (!claim) return nullptr;
      found = InterlockedCompareExchange64(&slot->key, key, 0);
      if (found == 0) found = key;
    }
    if (found == key) {
      *index = at;
      return slot;
    }
  }
  return nullptr;
}

// The named semaphore of slot `index`, created or opened on first use and kept for the object's
// lifetime.
int SlotSemaphore(RegionObject* object, int index, HANDLE* semaphore) {
  HANDLE h = InterlockedCompareExchangePointer(&object->semaphores[index], nullptr, nullptr);
  if (h == nullptr) {
    Security security(object->permissions, Security::Kind::kAuxiliary);
    if (security.error() != 0) return security.error();
    std::wstring name = L"Local\\shmlink.w." + std::to_wstring(index) + L"." + object->wait_id;
    h = CreateSemaphoreW(security.attributes(), 0, LONG_MAX, name.c_str());
    if (h == nullptr) return LastError();
    HANDLE raced = InterlockedCompareExchangePointer(&object->semaphores[index], h, nullptr);
    if (raced != nullptr) {
      CloseHandle(h);
      h = raced;
    }
  }
  *semaphore = h;
  return 0;
}

// Withdraws this sleeper's announcement. False when it was still counted (now it is not); true
// when a wake had already claimed it — then that wake's token is taken here, so that it cannot
// wake a later sleeper by mistake.
bool Withdraw(WaitSlot* slot, HANDLE semaphore) {
  for (;;) {
    LONG waiters = InterlockedCompareExchange(&slot->waiters, 0, 0);
    if (waiters <= 0) break;
    if (InterlockedCompareExchange(&slot->waiters, waiters - 1, waiters) == waiters) return false;
  }
  WaitForSingleObject(semaphore, kClaimedTokenMs);
  return true;
}

int Locate(uint32_t* word, bool claim, RegionObject** object, WaitSlot** slot, int* index) {
  uint64_t offset = 0;
  *object = ObjectByAddress(word, &offset);
  if (*object == nullptr || (*object)->meta == nullptr) return EINVAL;
  *slot = FindSlot((*object)->meta, offset, claim, index);
  // Every slot taken by another word: more distinct words waited on than the page holds.
  if (*slot == nullptr && claim) return ENOSPC;
  return 0;
}

}  // namespace

int WaitOnWord(uint32_t* word, uint32_t expected, int64_t timeout_ns, WaitResult* result) {
  RegionObject* object = nullptr;
  WaitSlot* slot = nullptr;
  int index = 0;
  HANDLE semaphore = nullptr;
  int err = Locate(word, true, &object, &slot, &index);
  if (err == 0) err = SlotSemaphore(object, index, &semaphore);
  if (err != 0) return err;

  // Announce, then check: a wake that changes the word after this check sees the announcement.
  InterlockedIncrement(&slot->waiters);
  if (AtomicLoad(word) != expected) {
    Withdraw(slot, semaphore);
    *result = WaitResult::kNotEqual;
    return 0;
  }
  // Whole milliseconds, rounded up, so that a wait never ends before its timeout.
  int64_t deadline = timeout_ns < 0 ? -1 : PlatformMonotonicNs() + timeout_ns;
  for (;;) {
    DWORD ms = INFINITE;
    if (deadline >= 0) {
      int64_t left = deadline - PlatformMonotonicNs();
      ms = left <= 0 ? 0 : static_cast<DWORD>(std::min<int64_t>((left + 999999) / 1000000, INFINITE - 1));
    }
    DWORD r = WaitForSingleObject(semaphore, ms);
    if (r == WAIT_OBJECT_0) {
      *result = WaitResult::kOk;
      return 0;
    }
    if (r != WAIT_TIMEOUT) {
      err = LastError();
      Withdraw(slot, semaphore);
      return err != 0 ? err : EINVAL;
    }
    if (deadline >= 0 && PlatformMonotonicNs() >= deadline) break;
  }
  *result = Withdraw(slot, semaphore) ? WaitResult::kOk : WaitResult::kTimedOut;
  return 0;
}

int WakeWord(uint32_t* word, int count, int* woken) {
  *woken = 0;
  RegionObject* object = nullptr;
  WaitSlot* slot = nullptr;
  int index = 0;
  int err = Locate(word, false, &object, &slot, &index);
  if (err != 0) return err;
  if (slot == nullptr || count <= 0) return 0;  // nobody ever slept on this word
  LONG claimed = 0;
  for (;;) {
    LONG waiters = InterlockedCompareExchange(&slot->waiters, 0, 0);
    if (waiters <= 0) return 0;  // the common case of a busy channel: no system call
    claimed = std::min<LONG>(waiters, count);
    if (InterlockedCompareExchange(&slot->waiters, waiters - claimed, waiters) == waiters) break;
  }
  HANDLE semaphore = nullptr;
  err = SlotSemaphore(object, index, &semaphore);
  if (err != 0) return err;
  if (!ReleaseSemaphore(semaphore, claimed, nullptr)) return LastError();
  *woken = static_cast<int>(claimed);
  return 0;
}

}  // namespace win32
}  // namespace shmlink
