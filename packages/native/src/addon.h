#pragma once

#include <napi.h>

namespace shmlink {

class EnvWaits;

// Per-environment state (the main thread and each worker thread have their own).
struct AddonData {
  Napi::FunctionReference error_class;
  Napi::FunctionReference region_class;
  EnvWaits* waits = nullptr;
};

AddonData* GetAddonData(Napi::Env env);

}  // namespace shmlink
