// Persisted regions on Windows: the file is the region (exactly its bytes, nothing else in it); the
// section over it is unnamed, since every process opens the file itself. Waits need a shared page
// the file must not hold, so it lives in a named section keyed by the file's identity: every
// process that maps the same file, under whatever path, meets in the same wait table.
#include <errno.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "win32_regions.h"

namespace shmlink {
namespace win32 {

namespace {

int FileSize(HANDLE file, uint64_t* size) {
  LARGE_INTEGER n;
  if (!GetFileSizeEx(file, &n)) return LastError();
  *size = static_cast<uint64_t>(n.QuadPart);
  return 0;
}

// A creator sizes the file right after creating it; an opener that arrives in between sees size 0.
// Wait for the size instead of failing a legitimate createOrOpen race: up to 2 s, as on Linux
// (docs/protocol.md §1), since a creator can be descheduled in between.
int WaitForSize(HANDLE file, uint64_t* size) {
  const int64_t deadline = PlatformMonotonicNs() + 2000000000LL;
  for (;;) {
    int err = FileSize(file, size);
    if (err != 0 || *size != 0 || PlatformMonotonicNs() >= deadline) return err;
    std::this_thread::sleep_for(std::chrono::microseconds(250));
  }
}

int Create(const OpenRequest& request, const std::wstring& path, RegionObject* object) {
  Security data(request.permissions, Security::Kind::kData);
  if (data.error() != 0) return data.error();
  object->file = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, data.attributes(),
                             CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (object->file == INVALID_HANDLE_VALUE) return LastError();
  // Setting the end of file allocates it (not sparse): a full disk fails here, not at a write.
  LARGE_INTEGER end;
  end.QuadPart = static_cast<LONGLONG>(request.size);
  if (!SetFilePointerEx(object->file, end, nullptr, FILE_BEGIN) || !SetEndOfFile(object->file)) {
    int err = LastError();
    CloseHandle(object->file);
    object->file = INVALID_HANDLE_VALUE;
    DeleteFileW(path.c_str());
    return err;
  }
  return 0;
}

int OpenExisting(const OpenRequest& request, const std::wstring& path, RegionObject* object) {
  DWORD access = request.access == Access::kReadWrite ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ;
  object->file = CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                             nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (object->file == INVALID_HANDLE_VALUE) return LastError();
  return 0;
}

// The wait table of the file: created by the first process to map it, zeroed by the system.
int OpenWaitTable(const OpenRequest& request, RegionObject* object) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(object->file, &info)) return LastError();
  wchar_t id[64];
  swprintf(id, sizeof(id) / sizeof(id[0]), L"f.%08lx.%08lx%08lx", static_cast<unsigned long>(info.dwVolumeSerialNumber),
           static_cast<unsigned long>(info.nFileIndexHigh), static_cast<unsigned long>(info.nFileIndexLow));
  object->wait_id = id;
  Security aux(request.permissions, Security::Kind::kAuxiliary);
  if (aux.error() != 0) return aux.error();
  object->meta_section = CreateFileMappingW(INVALID_HANDLE_VALUE, aux.attributes(), PAGE_READWRITE, 0,
                                            sizeof(MetaPage), (L"Local\\shmlink.f." + object->wait_id).c_str());
  if (object->meta_section == nullptr) return LastError();
  return MapMeta(object->meta_section, &object->meta);
}

}  // namespace

int OpenFileRegion(const OpenRequest& request, RegionObject** out, OpenResult* result) {
  const std::wstring path = Widen(request.path);
  auto object = std::make_unique<RegionObject>();
  object->permissions = request.permissions;
  int err = 0;
  switch (request.disposition) {
    case Disposition::kCreate:
      err = Create(request, path, object.get());
      result->created = true;
      break;
    case Disposition::kOpen:
      err = OpenExisting(request, path, object.get());
      result->created = false;
      break;
    case Disposition::kCreateOrOpen:
      // Create and open race with other processes doing the same; a few rounds settle it.
      err = EEXIST;
      for (int attempt = 0; attempt < 8 && err == EEXIST; attempt++) {
        err = Create(request, path, object.get());
        result->created = err == 0;
        if (err != EEXIST) break;
        err = OpenExisting(request, path, object.get());
        if (err == ENOENT) err = EEXIST;
      }
      break;
  }
  if (err != 0) return err;
  uint64_t size = 0;
  err = WaitForSize(object->file, &size);
  if (err != 0) return err;
  result->size = size;
  if (size == 0) {  // nothing to map: the caller reports it; keep the file handle for its close
    *out = object.release();
    return 0;
  }
  DWORD protect = request.access == Access::kReadWrite ? PAGE_READWRITE
                  : request.access == Access::kRead    ? PAGE_READONLY
                                                       : PAGE_WRITECOPY;
  object->section = CreateFileMappingW(object->file, nullptr, protect, 0, 0, nullptr);
  if (object->section == nullptr) err = LastError();
  if (err == 0) err = OpenWaitTable(request, object.get());
  if (err != 0) {
    if (result->created) {
      object.reset();
      DeleteFileW(path.c_str());
    }
    return err;
  }
  *out = object.release();
  return 0;
}

}  // namespace win32
}  // namespace shmlink
