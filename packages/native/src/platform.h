// The operating-system seam. Everything that touches the OS lives behind these functions; one
// source file per OS implements them (platform_linux.cc, platform_unsupported.cc), chosen in
// binding.gyp. Functions return 0 or a positive errno-style code; the caller maps codes to errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shmlink {

enum class Access { kReadWrite = 0, kRead = 1, kCopyOnWrite = 2 };
// What opening does about an existing object (not the permission bits, which are `permissions`).
enum class Disposition { kCreate = 0, kOpen = 1, kCreateOrOpen = 2 };
enum class WaitResult { kOk = 0, kNotEqual = 1, kTimedOut = 2 };

// Returned by every function of a platform that has no backend yet.
constexpr int kUnsupportedPlatform = -1;

// Whether a region's descriptor stays open while it is mapped. POSIX: no — the mapping keeps the
// object, so region.cc closes the descriptor right after PlatformMap (a descriptor per region ran
// out at ulimit -n). A backend that needs its handle later (to flush a file, to find a mapping's
// object) says yes; the Mapping then closes it when it unmaps.
#ifdef _WIN32
constexpr bool kKeepHandleWhileMapped = true;
#else
constexpr bool kKeepHandleWhileMapped = false;
#endif

struct OpenRequest {
  std::string os_name;  // "/name" for shared memory; empty when path is set
  std::string path;     // file to map (persisted region); empty for shared memory
  Disposition disposition;
  Access access;
  uint64_t size;        // required for create; 0 = any when opening
  uint32_t permissions; // e.g. 0600
};

struct OpenResult {
  int fd = -1;
  uint64_t size = 0;
  bool created = false;
};

// Opens or creates the object, sizes it and reserves its pages when created. On failure nothing
// is left behind (a half-created object is unlinked).
int PlatformOpen(const OpenRequest& request, OpenResult* result);
int PlatformMap(int fd, uint64_t size, Access access, void** address);
void PlatformUnmap(void* address, uint64_t size);
void PlatformClose(int fd);
int PlatformUnlinkShared(const std::string& os_name);
int PlatformListShared(std::vector<std::string>* names);
int PlatformFlush(void* address, uint64_t size);
// Creates a FIFO (named pipe) with these permissions; an existing FIFO at `path` is accepted.
int PlatformMakeFifo(const std::string& path, uint32_t permissions);
// Opens the FIFO at `path` read-write and non-blocking (close-on-exec) into *fd; a path that is
// not a FIFO fails EEXIST. Opened here rather than with fs.openSync: Node counts the fds a
// Worker opens through fs and closes the ones left at the Worker's exit, and a FIFO handed to a
// net.Socket is closed by libuv, not by fs — a second close at exit would hit a reused number.
int PlatformOpenFifo(const std::string& path, int* fd);

// Cross-process wait on a 32-bit word in shared memory. timeout_ns < 0 waits forever.
int PlatformWait(uint32_t* word, uint32_t expected, int64_t timeout_ns, WaitResult* result);
int PlatformWake(uint32_t* word, int count, int* woken);

// Liveness of a process, and its start time (to tell a restarted pid from the original).
bool PlatformProcessAlive(int pid);
int PlatformProcessStartTime(int pid, uint64_t* start_time);
int PlatformCurrentPid();
// The calling thread's id. On Linux thread ids share the pid space and PlatformProcessAlive(tid)
// is true while that thread lives, so a mutex owned by a thread is seen abandoned when that thread
// ends (a worker thread terminated while holding it), not only when its process does.
int PlatformCurrentThreadId();

int64_t PlatformMonotonicNs();

// Short name of an errno-style code, e.g. "ENOENT".
std::string PlatformErrorName(int code);

}  // namespace shmlink
