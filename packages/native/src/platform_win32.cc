// Windows backend of the seam (platform.h): named sections and files for regions
// (win32_*_regions.cc), named semaphores for wait and wake across processes (win32_wait.cc),
// process handles for liveness. The seam's `fd` is a key into win32_objects' table.
#include "platform.h"

#include <errno.h>

#include <cstring>

#include "win32_objects.h"
#include "win32_regions.h"
#include "win32_util.h"
#include "win32_wait.h"

namespace shmlink {

using win32::LastError;
using win32::RegionObject;

int PlatformOpen(const OpenRequest& request, OpenResult* result) {
  RegionObject* object = nullptr;
  int err = request.path.empty() ? win32::OpenSharedRegion(request, &object, result)
                                 : win32::OpenFileRegion(request, &object, result);
  if (err != 0) return err;
  result->fd = win32::AddObject(object);
  return 0;
}

int PlatformMap(int fd, uint64_t size, Access access, void** address) {
  RegionObject* object = win32::ObjectByKey(fd);
  if (object == nullptr || object->section == nullptr) return EINVAL;
  DWORD flags = access == Access::kReadWrite ? FILE_MAP_READ | FILE_MAP_WRITE
                : access == Access::kRead    ? FILE_MAP_READ
                                             : FILE_MAP_COPY;
  void* view = MapViewOfFile(object->section, flags, 0, 0, static_cast<SIZE_T>(size));
  if (view == nullptr) return LastError();
  win32::SetMapped(fd, static_cast<uint8_t*>(view), size);
  *address = view;
  return 0;
}

void PlatformUnmap(void* address, uint64_t size) {
  if (address == nullptr) return;
  win32::ClearMapped(address);
  UnmapViewOfFile(address);
}

void PlatformClose(int fd) {
  if (fd >= 0) win32::RemoveObject(fd);
}

int PlatformUnlinkShared(const std::string& os_name) { return win32::UnlinkSharedRegion(os_name); }

int PlatformListShared(std::vector<std::string>* names) { return win32::ListSharedRegions(names); }

int PlatformFlush(void* address, uint64_t size) {
  if (!FlushViewOfFile(address, static_cast<SIZE_T>(size))) return LastError();
  uint64_t offset = 0;
  RegionObject* object = win32::ObjectByAddress(address, &offset);
  if (object != nullptr && object->file != INVALID_HANDLE_VALUE && !FlushFileBuffers(object->file)) {
    return LastError();
  }
  return 0;
}

// Windows has no FIFOs; the doorbell that needs one is not part of this backend.
int PlatformMakeFifo(const std::string&, uint32_t) { return kUnsupportedPlatform; }
int PlatformOpenFifo(const std::string&, int*) { return kUnsupportedPlatform; }

int PlatformWait(uint32_t* word, uint32_t expected, int64_t timeout_ns, WaitResult* result) {
  return win32::WaitOnWord(word, expected, timeout_ns, result);
}

int PlatformWake(uint32_t* word, int count, int* woken) { return win32::WakeWord(word, count, woken); }

namespace {

// Process and thread ids share one namespace on Windows, and a NamedMutex owner is a thread id:
// an id is alive while the process or thread it names has not ended. A handle keeps an ended
// object around (signalled) until closed, and its id is not reused until then.
bool Running(HANDLE h) {
  bool running = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return running;
}

}  // namespace

bool PlatformProcessAlive(int id) {
  if (id <= 0) return false;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(id));
  if (h != nullptr) return Running(h);
  if (GetLastError() == ERROR_ACCESS_DENIED) return true;  // exists, belongs to someone else
  h = OpenThread(THREAD_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(id));
  if (h != nullptr) return Running(h);
  return GetLastError() == ERROR_ACCESS_DENIED;
}

// Microseconds since the Unix epoch (GetProcessTimes' creation time): exact in a double, and with
// the pid it names one process even after the pid is reused.
int PlatformProcessStartTime(int pid, uint64_t* start_time) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) return LastError();
  FILETIME created, exited, kernel, user;
  bool ok = GetProcessTimes(h, &created, &exited, &kernel, &user) != 0;
  int err = ok ? 0 : LastError();
  bool running = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  if (err != 0) return err;
  if (!running) return ENOENT;  // ended; only a handle somewhere keeps it visible
  uint64_t ticks = (static_cast<uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
  constexpr uint64_t kUnixEpochTicks = 116444736000000000ull;  // 1970-01-01 in 100 ns since 1601
  *start_time = (ticks - kUnixEpochTicks) / 10;
  return 0;
}

int PlatformCurrentPid() { return static_cast<int>(GetCurrentProcessId()); }

int PlatformCurrentThreadId() { return static_cast<int>(GetCurrentThreadId()); }

int64_t PlatformMonotonicNs() {
  static const int64_t frequency = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return static_cast<int64_t>(f.QuadPart);
  }();
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  return static_cast<int64_t>(now.QuadPart / frequency * 1000000000 +
                              now.QuadPart % frequency * 1000000000 / frequency);
}

std::string PlatformErrorName(int code) {
  if (code >= win32::kWin32ErrorBase) return win32::Win32ErrorName(static_cast<DWORD>(code - win32::kWin32ErrorBase));
  switch (code) {
    case ENOENT: return "ENOENT (not found)";
    case EEXIST: return "EEXIST (already exists)";
    case EACCES: return "EACCES (access denied)";
    case ENOSPC: return "ENOSPC (no space: commit limit, disk full, or every slot of a table taken)";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    default: return "errno " + std::to_string(code);
  }
}

}  // namespace shmlink
