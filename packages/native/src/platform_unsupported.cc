// Platforms without a backend yet: every operation reports kUnsupportedPlatform, which the addon
// turns into ERR_UNSUPPORTED_PLATFORM naming the platform.
#include "platform.h"

#include <chrono>

namespace shmlink {

int PlatformOpen(const OpenRequest&, OpenResult*) { return kUnsupportedPlatform; }
int PlatformMap(int, uint64_t, Access, void**) { return kUnsupportedPlatform; }
void PlatformUnmap(void*, uint64_t) {}
void PlatformClose(int) {}
int PlatformUnlinkShared(const std::string&) { return kUnsupportedPlatform; }
int PlatformListShared(std::vector<std::string>*) { return kUnsupportedPlatform; }
int PlatformFlush(void*, uint64_t) { return kUnsupportedPlatform; }
int PlatformMakeFifo(const std::string&, uint32_t) { return kUnsupportedPlatform; }
int PlatformOpenFifo(const std::string&, int*) { return kUnsupportedPlatform; }
int PlatformWait(uint32_t*, uint32_t, int64_t, WaitResult*) { return kUnsupportedPlatform; }
int PlatformWake(uint32_t*, int, int*) { return kUnsupportedPlatform; }
bool PlatformProcessAlive(int) { return false; }
int PlatformProcessStartTime(int, uint64_t*) { return kUnsupportedPlatform; }
int PlatformCurrentPid() { return 0; }
int PlatformCurrentThreadId() { return 0; }
int64_t PlatformMonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
std::string PlatformErrorName(int code) { return "EUNSUPPORTED"; }

}  // namespace shmlink
