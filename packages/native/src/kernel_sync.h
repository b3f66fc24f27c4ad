// Named events and named mutexes as Windows kernel objects (CreateEventW, CreateMutexW). On Windows
// the NamedEvent / NamedMutex facade (lib/named-event-kernel.ts, lib/named-mutex-kernel.ts) uses
// these; elsewhere it keeps the shared-word objects of docs/protocol.md and this is not compiled.
// Why, and how a mutex that belongs to a thread is locked from JavaScript: docs/decisions.md §32.
#pragma once

#include <napi.h>

namespace shmlink {

// Adds the classes KernelEvent and KernelMutex to the addon's exports.
void RegisterKernelSync(Napi::Env env, Napi::Object exports);

}  // namespace shmlink
