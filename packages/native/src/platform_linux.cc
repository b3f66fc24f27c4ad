// Linux backend: POSIX shared memory (shm_open on /dev/shm), mmap, and futex without
// FUTEX_PRIVATE_FLAG so that a wake reaches waiters in every process mapping the word.
#include "platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <thread>

namespace shmlink {

namespace {

int OpenFd(const OpenRequest& r, int flags, mode_t perm) {
  if (!r.path.empty()) return open(r.path.c_str(), flags | O_CLOEXEC, perm);
  return shm_open(r.os_name.c_str(), flags, perm);
}

void RemoveObject(const OpenRequest& r) {
  if (!r.path.empty()) {
    unlink(r.path.c_str());
  } else {
    shm_unlink(r.os_name.c_str());
  }
}

int ReadSize(int fd, uint64_t* size) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  *size = static_cast<uint64_t>(st.st_size);
  return 0;
}

// A creator sizes the object right after creating it; an opener that arrives in between sees size
// 0. Wait for the size instead of failing a legitimate createOrOpen race: up to 2 s, as for a
// header's version word (docs/protocol.md §1), since a creator can be descheduled in between.
int WaitForSize(int fd, uint64_t* size) {
  const int64_t deadline = PlatformMonotonicNs() + 2000000000LL;
  for (;;) {
    int err = ReadSize(fd, size);
    if (err != 0 || *size != 0 || PlatformMonotonicNs() >= deadline) return err;
    std::this_thread::sleep_for(std::chrono::microseconds(250));
  }
}

int Create(const OpenRequest& r, OpenResult* out) {
  int access_flags = O_RDWR;
  int fd = OpenFd(r, O_CREAT | O_EXCL | access_flags, static_cast<mode_t>(r.permissions));
  if (fd < 0) return errno;
  // The umask may have narrowed the mode; the caller asked for exactly this one.
  if (fchmod(fd, static_cast<mode_t>(r.permissions)) != 0 ||
      ftruncate(fd, static_cast<off_t>(r.size)) != 0) {
    int err = errno;
    close(fd);
    RemoveObject(r);
    return err;
  }
  // Reserve the pages now so that a full /dev/shm (or disk) is an error here, not SIGBUS later.
  int err = posix_fallocate(fd, 0, static_cast<off_t>(r.size));
  if (err != 0 && err != EOPNOTSUPP && err != EINVAL) {
    close(fd);
    RemoveObject(r);
    return err;
  }
  out->fd = fd;
  out->size = r.size;
  out->created = true;
  return 0;
}

int OpenExisting(const OpenRequest& r, OpenResult* out) {
  int flags = r.access == Access::kRead ? O_RDONLY : O_RDWR;
  int fd = OpenFd(r, flags, 0);
  if (fd < 0) return errno;
  uint64_t size = 0;
  int err = WaitForSize(fd, &size);
  if (err != 0) {
    close(fd);
    return err;
  }
  out->fd = fd;
  out->size = size;
  out->created = false;
  return 0;
}

}  // namespace

int PlatformOpen(const OpenRequest& r, OpenResult* out) {
  switch (r.disposition) {
    case Disposition::kCreate:
      return Create(r, out);
    case Disposition::kOpen:
      return OpenExisting(r, out);
    case Disposition::kCreateOrOpen: {
      // Create and open race with other processes doing the same; a few rounds settle it.
      for (int attempt = 0; attempt < 8; attempt++) {
        int err = Create(r, out);
        if (err != EEXIST) return err;
        err = OpenExisting(r, out);
        if (err != ENOENT) return err;
      }
      return EEXIST;
    }
  }
  return EINVAL;
}

int PlatformMap(int fd, uint64_t size, Access access, void** address) {
  int prot = access == Access::kRead ? PROT_READ : PROT_READ | PROT_WRITE;
  int flags = access == Access::kCopyOnWrite ? MAP_PRIVATE : MAP_SHARED;
  void* p = mmap(nullptr, static_cast<size_t>(size), prot, flags, fd, 0);
  if (p == MAP_FAILED) return errno;
  *address = p;
  return 0;
}

void PlatformUnmap(void* address, uint64_t size) {
  if (address != nullptr && size != 0) munmap(address, static_cast<size_t>(size));
}

void PlatformClose(int fd) {
  if (fd >= 0) close(fd);
}

int PlatformUnlinkShared(const std::string& os_name) {
  return shm_unlink(os_name.c_str()) == 0 ? 0 : errno;
}

int PlatformListShared(std::vector<std::string>* names) {
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return errno;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    // glibc keeps its semaphores here as sem.*; they are not regions.
    if (strncmp(entry->d_name, "sem.", 4) == 0) continue;
    names->emplace_back(entry->d_name);
  }
  closedir(dir);
  return 0;
}

int PlatformFlush(void* address, uint64_t size) {
  return msync(address, static_cast<size_t>(size), MS_SYNC) == 0 ? 0 : errno;
}

int PlatformMakeFifo(const std::string& path, uint32_t permissions) {
  if (mkfifo(path.c_str(), static_cast<mode_t>(permissions)) == 0) {
    // The umask may have narrowed the mode; the caller asked for exactly this one.
    return chmod(path.c_str(), static_cast<mode_t>(permissions)) == 0 ? 0 : errno;
  }
  if (errno != EEXIST) return errno;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno;
  return S_ISFIFO(st.st_mode) ? 0 : EEXIST;
}

int PlatformOpenFifo(const std::string& path, int* fd) {
  int opened = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (opened < 0) return errno;
  struct stat st;
  int err = fstat(opened, &st) != 0 ? errno : S_ISFIFO(st.st_mode) ? 0 : EEXIST;
  if (err != 0) {
    close(opened);
    return err;
  }
  *fd = opened;
  return 0;
}

int PlatformWait(uint32_t* word, uint32_t expected, int64_t timeout_ns, WaitResult* result) {
  int64_t deadline = timeout_ns < 0 ? -1 : PlatformMonotonicNs() + timeout_ns;
  for (;;) {
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (deadline >= 0) {
      int64_t left = deadline - PlatformMonotonicNs();
      if (left <= 0) {
        *result = WaitResult::kTimedOut;
        return 0;
      }
      ts.tv_sec = static_cast<time_t>(left / 1000000000);
      ts.tv_nsec = static_cast<long>(left % 1000000000);
      tsp = &ts;
    }
    long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, nullptr, 0);
    if (rc == 0) {
      *result = WaitResult::kOk;
      return 0;
    }
    switch (errno) {
      case EAGAIN:
        *result = WaitResult::kNotEqual;
        return 0;
      case ETIMEDOUT:
        *result = WaitResult::kTimedOut;
        return 0;
      case EINTR:
        continue;
      default:
        return errno;
    }
  }
}

int PlatformWake(uint32_t* word, int count, int* woken) {
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  if (rc < 0) return errno;
  *woken = static_cast<int>(rc);
  return 0;
}

bool PlatformProcessAlive(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) == 0) return true;
  if (errno == EPERM) return true;
  return false;
}

int PlatformProcessStartTime(int pid, uint64_t* start_time) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE* f = fopen(path, "re");
  if (f == nullptr) return errno;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  char* p = strrchr(buf, ')');
  if (p == nullptr) return EINVAL;
  int field = 2;
  while (*p != '\0' && field < 22) {
    if (*p == ' ') field++;
    p++;
  }
  if (field != 22) return EINVAL;
  *start_time = strtoull(p, nullptr, 10);
  return 0;
}

int PlatformCurrentPid() { return static_cast<int>(getpid()); }

int PlatformCurrentThreadId() { return static_cast<int>(syscall(SYS_gettid)); }

int64_t PlatformMonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string PlatformErrorName(int code) {
  switch (code) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EFBIG: return "EFBIG";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EROFS: return "EROFS";
    default: {
      const char* text = strerrordesc_np(code);
      return text != nullptr ? text : "errno " + std::to_string(code);
    }
  }
}

}  // namespace shmlink
