// Region.list() on Windows: the session's named-object directory (\Sessions\<id>\BaseNamedObjects,
// where "Local\" names live) read with ntdll's NtOpenDirectoryObject / NtQueryDirectoryObject —
// the one way to enumerate named sections. Only metadata pages of live regions count: an unlinked
// region that some process still maps is gone from the list, as on POSIX.
#include <errno.h>

#include <set>

#include "win32_regions.h"

namespace shmlink {
namespace win32 {

namespace {

struct CountedString {  // UNICODE_STRING
  USHORT Length;
  USHORT MaximumLength;
  PWSTR Buffer;
};

struct ObjectAttributes {  // OBJECT_ATTRIBUTES
  ULONG Length;
  HANDLE RootDirectory;
  CountedString* ObjectName;
  ULONG Attributes;
  PVOID SecurityDescriptor;
  PVOID SecurityQualityOfService;
};

struct DirectoryEntry {  // OBJECT_DIRECTORY_INFORMATION
  CountedString Name;
  CountedString TypeName;
};

using NtOpenDirectoryObjectFn = LONG(NTAPI*)(PHANDLE, ACCESS_MASK, ObjectAttributes*);
using NtQueryDirectoryObjectFn = LONG(NTAPI*)(HANDLE, PVOID, ULONG, BOOLEAN, BOOLEAN, PULONG, PULONG);
constexpr ACCESS_MASK kDirectoryQuery = 0x0001;
constexpr LONG kNoMoreEntries = static_cast<LONG>(0x8000001A);

bool IsLive(const std::wstring& object_name) {
  HANDLE section = OpenFileMappingW(FILE_MAP_READ, FALSE, (L"Local\\" + object_name).c_str());
  if (section == nullptr) return false;
  void* view = MapViewOfFile(section, FILE_MAP_READ, 0, 0, sizeof(MetaPage));
  bool live = false;
  if (view != nullptr) {
    const MetaPage* meta = static_cast<const MetaPage*>(view);
    live = meta->magic == kMetaMagic && meta->version == kMetaVersion && meta->unlinked == 0;
    UnmapViewOfFile(view);
  }
  CloseHandle(section);
  return live;
}

}  // namespace

int ListSharedRegions(std::vector<std::string>* names) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  auto open_directory = reinterpret_cast<NtOpenDirectoryObjectFn>(
      reinterpret_cast<void*>(GetProcAddress(ntdll, "NtOpenDirectoryObject")));
  auto query_directory = reinterpret_cast<NtQueryDirectoryObjectFn>(
      reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQueryDirectoryObject")));
  if (open_directory == nullptr || query_directory == nullptr) return ENOSYS;

  DWORD session = 0;
  if (!ProcessIdToSessionId(GetCurrentProcessId(), &session)) return LastError();
  std::wstring path = session == 0 ? L"\\BaseNamedObjects"
                                   : L"\\Sessions\\" + std::to_wstring(session) + L"\\BaseNamedObjects";
  CountedString name{static_cast<USHORT>(path.size() * sizeof(wchar_t)),
                     static_cast<USHORT>(path.size() * sizeof(wchar_t)), &path[0]};
  ObjectAttributes attributes{sizeof(ObjectAttributes), nullptr, &name, 0, nullptr, nullptr};
  HANDLE directory = nullptr;
  LONG status = open_directory(&directory, kDirectoryQuery, &attributes);
  if (status < 0) return FromWin32(ERROR_ACCESS_DENIED);

  const std::wstring prefix = Widen(kMetaPrefix);
  std::set<std::string> found;
  // One entry per call: Windows can return many, wine implements only this mode.
  std::vector<unsigned char> buffer(4096);
  ULONG context = 0;
  int err = 0;
  for (bool first = true;; first = false) {
    ULONG length = 0;
    status = query_directory(directory, buffer.data(), static_cast<ULONG>(buffer.size()), TRUE, first, &context, &length);
    if (status == kNoMoreEntries) break;
    if (status < 0) {
      err = kWin32ErrorBase + static_cast<int>(status & 0xffff);
      break;
    }
    auto* entry = reinterpret_cast<DirectoryEntry*>(buffer.data());
    std::wstring object(entry->Name.Buffer, entry->Name.Length / sizeof(wchar_t));
    std::wstring type(entry->TypeName.Buffer, entry->TypeName.Length / sizeof(wchar_t));
    // "shmlink.m.<generation>.<name>"
    if (type != L"Section" || object.compare(0, prefix.size(), prefix) != 0) continue;
    size_t dot = object.find(L'.', prefix.size());
    if (dot == std::wstring::npos || !IsLive(object)) continue;
    found.insert(Narrow(object.c_str() + dot + 1, object.size() - dot - 1));
  }
  CloseHandle(directory);
  names->insert(names->end(), found.begin(), found.end());
  return err;
}

}  // namespace win32
}  // namespace shmlink
