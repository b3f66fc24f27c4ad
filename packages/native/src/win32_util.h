// Windows backend, shared helpers: UTF-8 ↔ UTF-16, Win32 errors as the seam's errno-style codes,
// the security attributes that stand for POSIX permission bits, and the kernel-object names.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstdint>
#include <string>

namespace shmlink {
namespace win32 {

std::wstring Widen(const std::string& utf8);
std::string Narrow(const wchar_t* utf16, size_t length);

// A Win32 error the seam has an errno for (not found, exists, access denied, no space, ...) becomes
// that errno, which errors.cc maps to a stable code; any other becomes kWin32ErrorBase + error
// (ERR_SYSTEM, its message naming the Win32 error).
constexpr int kWin32ErrorBase = 0x20000000;
int FromWin32(DWORD error);
int LastError();
std::string Win32ErrorName(DWORD error);

// POSIX permission bits as a security descriptor: the current user always has full access (mode
// 0600 is "owner only"); any group or other bit extends it to Authenticated Users — reading for a
// read bit, writing for a write bit on the region's memory, and full access on the auxiliary
// objects (metadata, wait semaphores, name lock), since waiting and waking write to them.
class Security {
 public:
  enum class Kind { kData, kAuxiliary };
  Security(uint32_t permissions, Kind kind);
  ~Security();
  Security(const Security&) = delete;
  Security& operator=(const Security&) = delete;
  // Null when the descriptor could not be built (error() says why).
  SECURITY_ATTRIBUTES* attributes() { return error_ == 0 ? &attributes_ : nullptr; }
  int error() const { return error_; }

 private:
  SECURITY_ATTRIBUTES attributes_{};
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  int error_ = 0;
};

// Kernel-object names, all in the session-local namespace. `name` is the seam's os_name without
// its leading slash; `generation` tells apart an unlinked object that is still mapped somewhere
// from its successor under the same name (docs/decisions.md, "Windows regions").
constexpr int kGenerations = 16;
std::wstring LockName(const std::string& name);
std::wstring MetaName(const std::string& name, int generation);
std::wstring DataName(const std::string& name, int generation);
constexpr const char* kMetaPrefix = "shmlink.m.";

}  // namespace win32
}  // namespace shmlink
