// Windows backend: wait and wake on a 32-bit word across processes. WaitOnAddress reaches only
// threads of one process, so a sleeper announces itself in its region's metadata page (a slot per
// waited-on word, with a count of sleepers) and sleeps on a named semaphore of that slot; a wake
// that finds sleepers claims up to `count` of them in the slot and releases as many semaphore
// tokens. A wake that finds none makes no system call. Design and cost: docs/decisions.md, "Windows:
// wait and wake across processes".
#pragma once

#include <cstdint>

#include "platform.h"

namespace shmlink {
namespace win32 {

int WaitOnWord(uint32_t* word, uint32_t expected, int64_t timeout_ns, WaitResult* result);
int WakeWord(uint32_t* word, int count, int* woken);

}  // namespace win32
}  // namespace shmlink
