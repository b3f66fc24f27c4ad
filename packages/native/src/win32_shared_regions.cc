// Named sections vanish with their last handle and cannot be unlinked, so POSIX's "unlink removes
// the name, the memory lives on while mapped" is built on top: unlink marks the metadata page, and
// the next create under that name uses the next free generation. Create, open and unlink of one
// name run under a named kernel mutex, so that each sees the others' work whole.
#include <errno.h>

#include <memory>

#include "win32_regions.h"

namespace shmlink {
namespace win32 {

namespace {

std::string StripSlash(const std::string& os_name) {
  return !os_name.empty() && os_name[0] == '/' ? os_name.substr(1) : os_name;
}

// Holds the name's mutex for one create, open or unlink. A holder that died leaves it abandoned,
// which is as good as released here: each step it guards leaves the objects consistent.
class NameLock {
 public:
  NameLock(const std::string& name, uint32_t permissions) {
    Security security(permissions, Security::Kind::kAuxiliary);
    if (security.error() != 0) {
      error_ = security.error();
      return;
    }
    mutex_ = CreateMutexW(security.attributes(), FALSE, LockName(name).c_str());
    if (mutex_ == nullptr) {
      error_ = LastError();
      return;
    }
    DWORD r = WaitForSingleObject(mutex_, INFINITE);
    if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED) error_ = LastError();
  }
  ~NameLock() {
    if (mutex_ == nullptr) return;
    if (error_ == 0) ReleaseMutex(mutex_);
    CloseHandle(mutex_);
  }
  int error() const { return error_; }

 private:
  HANDLE mutex_ = nullptr;
  int error_ = 0;
};

// The name's live generation (initialised, not unlinked): its metadata section and page, or -1
// with `*free_generation` the lowest generation no object uses — neither its metadata section nor
// its data section: a data section outlives its metadata page while a view of it is still mapped
// (a closed region's views keep the memory), or for the instant between the two CloseHandle calls
// of a closing process, and a create in that generation would fail ERROR_ALREADY_EXISTS.
struct Live {
  int generation = -1;
  int free_generation = -1;
  HANDLE meta_section = nullptr;
  MetaPage* meta = nullptr;
};

// Whether generation `g`'s data section exists (any answer but "not found" counts as yes).
bool DataSectionExists(const std::string& name, int g) {
  HANDLE section = OpenFileMappingW(FILE_MAP_READ, FALSE, DataName(name, g).c_str());
  if (section == nullptr) return GetLastError() != ERROR_FILE_NOT_FOUND;
  CloseHandle(section);
  return true;
}

int FindLive(const std::string& name, Live* live) {
  for (int g = 0; g < kGenerations; g++) {
    HANDLE section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, MetaName(name, g).c_str());
    if (section == nullptr) {
      DWORD error = GetLastError();
      if (error != ERROR_FILE_NOT_FOUND) return FromWin32(error);
      if (live->free_generation < 0 && !DataSectionExists(name, g)) live->free_generation = g;
      continue;
    }
    MetaPage* meta = nullptr;
    int err = MapMeta(section, &meta);
    if (err != 0) {
      CloseHandle(section);
      return err;
    }
    // A creator that died before writing its version left an object that is not live either.
    if (meta->magic == kMetaMagic && meta->version == kMetaVersion && meta->unlinked == 0) {
      live->generation = g;
      live->meta_section = section;
      live->meta = meta;
      return 0;
    }
    UnmapViewOfFile(meta);
    CloseHandle(section);
  }
  return 0;
}

int Create(const std::string& name, const OpenRequest& request, int generation, RegionObject* object) {
  // Every generation holds an unlinked object some process still maps.
  if (generation < 0) return ENOSPC;
  Security aux(request.permissions, Security::Kind::kAuxiliary);
  Security data(request.permissions, Security::Kind::kData);
  if (aux.error() != 0) return aux.error();
  if (data.error() != 0) return data.error();
  object->meta_section = CreateFileMappingW(INVALID_HANDLE_VALUE, aux.attributes(), PAGE_READWRITE, 0,
                                            sizeof(MetaPage), MetaName(name, generation).c_str());
  if (object->meta_section == nullptr) return LastError();
  if (GetLastError() == ERROR_ALREADY_EXISTS) return EEXIST;
  int err = MapMeta(object->meta_section, &object->meta);
  if (err != 0) return err;
  // SEC_COMMIT charges the whole size now: past the commit limit this fails here (ERR_NO_SPACE),
  // not with an access violation later.
  object->section = CreateFileMappingW(INVALID_HANDLE_VALUE, data.attributes(), PAGE_READWRITE | SEC_COMMIT,
                                       static_cast<DWORD>(request.size >> 32),
                                       static_cast<DWORD>(request.size & 0xffffffffu),
                                       DataName(name, generation).c_str());
  if (object->section == nullptr) return LastError();
  if (GetLastError() == ERROR_ALREADY_EXISTS) return EEXIST;
  object->meta->size = static_cast<LONG64>(request.size);
  InterlockedExchange(&object->meta->magic, kMetaMagic);
  InterlockedExchange(&object->meta->version, kMetaVersion);
  object->wait_id = L"m." + std::to_wstring(generation) + L"." + Widen(name);
  return 0;
}

int OpenLive(const std::string& name, const OpenRequest& request, Live* live, RegionObject* object,
             uint64_t* size) {
  object->meta_section = live->meta_section;
  object->meta = live->meta;
  live->meta_section = nullptr;
  live->meta = nullptr;
  DWORD access = request.access == Access::kReadWrite ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
  object->section = OpenFileMappingW(access, FALSE, DataName(name, live->generation).c_str());
  if (object->section == nullptr) return LastError();
  object->wait_id = L"m." + std::to_wstring(live->generation) + L"." + Widen(name);
  *size = static_cast<uint64_t>(object->meta->size);
  return 0;
}

}  // namespace

int OpenSharedRegion(const OpenRequest& request, RegionObject** out, OpenResult* result) {
  const std::string name = StripSlash(request.os_name);
  NameLock lock(name, request.permissions);
  if (lock.error() != 0) return lock.error();
  Live live;
  int err = FindLive(name, &live);
  if (err != 0) return err;
  auto object = std::make_unique<RegionObject>();
  object->permissions = request.permissions;
  if (live.generation >= 0) {
    if (request.disposition == Disposition::kCreate) {
      UnmapViewOfFile(live.meta);
      CloseHandle(live.meta_section);
      return EEXIST;
    }
    err = OpenLive(name, request, &live, object.get(), &result->size);
    result->created = false;
  } else {
    if (request.disposition == Disposition::kOpen) return ENOENT;
    err = Create(name, request, live.free_generation, object.get());
    result->size = request.size;
    result->created = true;
  }
  if (err != 0) return err;  // the object's destructor closes what was made: nothing is left behind
  *out = object.release();
  return 0;
}

int UnlinkSharedRegion(const std::string& os_name) {
  const std::string name = StripSlash(os_name);
  NameLock lock(name, 0600);
  if (lock.error() != 0) return lock.error();
  Live live;
  int err = FindLive(name, &live);
  if (err != 0) return err;
  if (live.generation < 0) return ENOENT;
  InterlockedExchange(&live.meta->unlinked, 1);
  UnmapViewOfFile(live.meta);
  CloseHandle(live.meta_section);
  return 0;
}

}  // namespace win32
}  // namespace shmlink
