#include "win32_util.h"

#include <errno.h>
#include <sddl.h>

#include <cstdio>

namespace shmlink {
namespace win32 {

std::wstring Widen(const std::string& utf8) {
  if (utf8.empty()) return std::wstring();
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), &out[0], n);
  return out;
}

std::string Narrow(const wchar_t* utf16, size_t length) {
  if (length == 0) return std::string();
  int n = WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), &out[0], n, nullptr, nullptr);
  return out;
}

int FromWin32(DWORD error) {
  switch (error) {
    case ERROR_SUCCESS: return 0;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return ENOENT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_WRITE_PROTECT:
    case ERROR_PRIVILEGE_NOT_HELD: return EACCES;
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_COMMITMENT_MINIMUM:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_FILE_TOO_LARGE: return ENOSPC;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME: return EINVAL;
    default: return kWin32ErrorBase + static_cast<int>(error);
  }
}

int LastError() { return FromWin32(GetLastError()); }

std::string Win32ErrorName(DWORD error) {
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                           nullptr, error, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string out = "Win32 error " + std::to_string(error);
  if (n > 0 && text != nullptr) {
    while (n > 0 && (text[n - 1] == L'\r' || text[n - 1] == L'\n' || text[n - 1] == L'.')) n--;
    out += " (" + Narrow(text, n) + ")";
  }
  if (text != nullptr) LocalFree(text);
  return out;
}

namespace {

// The current user's SID as a string ("S-1-5-21-..."), for the descriptor's one entry.
int CurrentUserSid(std::wstring* sid) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return LastError();
  DWORD length = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &length);
  std::string buffer(length, '\0');
  int err = 0;
  if (GetTokenInformation(token, TokenUser, &buffer[0], length, &length)) {
    wchar_t* text = nullptr;
    if (ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(&buffer[0])->User.Sid, &text)) {
      *sid = text;
      LocalFree(text);
    } else {
      err = LastError();
    }
  } else {
    err = LastError();
  }
  CloseHandle(token);
  return err;
}

}  // namespace

Security::Security(uint32_t permissions, Kind kind) {
  std::wstring sid;
  error_ = CurrentUserSid(&sid);
  if (error_ != 0) return;
  // "P": protected, nothing inherited; one allow entry per principal.
  std::wstring sddl = L"D:P(A;;GA;;;" + sid + L")";
  bool others_read = (permissions & 0044) != 0;
  bool others_write = (permissions & 0022) != 0;
  if (kind == Kind::kAuxiliary && (others_read || others_write)) {
    sddl += L"(A;;GA;;;AU)";
  } else if (others_read || others_write) {
    sddl += std::wstring(L"(A;;") + (others_read ? L"GR" : L"") + (others_write ? L"GW" : L"") + L";;;AU)";
  }
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &descriptor_, nullptr)) {
    error_ = LastError();
    return;
  }
  attributes_.nLength = sizeof(attributes_);
  attributes_.lpSecurityDescriptor = descriptor_;
  attributes_.bInheritHandle = FALSE;
}

Security::~Security() {
  if (descriptor_ != nullptr) LocalFree(descriptor_);
}

std::wstring LockName(const std::string& name) { return L"Local\\shmlink.l." + Widen(name); }

std::wstring MetaName(const std::string& name, int generation) {
  return L"Local\\" + Widen(kMetaPrefix) + std::to_wstring(generation) + L"." + Widen(name);
}

std::wstring DataName(const std::string& name, int generation) {
  return L"Local\\shmlink.d." + std::to_wstring(generation) + L"." + Widen(name);
}

}  // namespace win32
}  // namespace shmlink
