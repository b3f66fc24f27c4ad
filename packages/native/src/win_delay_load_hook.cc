// Windows, mingw-w64 build only (MSVC builds get node-gyp's own win_delay_load_hook.cc). The addon
// imports N-API from "node.exe" through a delay-load import library; in Electron, or any host whose
// executable has another name, no node.exe is loaded. This hook answers the loader's request for
// "node.exe" with the module of the running executable, which exports N-API in node.exe and in
// Electron alike, so one .node file serves both.
#ifdef _WIN32

#include <windows.h>
#include <delayimp.h>

#include <cstring>

namespace {

FARPROC WINAPI LoadHostHook(unsigned event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary) return nullptr;
  if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

}  // namespace

extern "C" {
PfnDliHook __pfnDliNotifyHook2 = LoadHostHook;
}

#endif  // _WIN32
