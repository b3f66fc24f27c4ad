#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "mapping.h"

namespace shmlink {

// The native half of a Region: owns a mapping and offers bounds-checked copies in and out,
// 32-bit atomics and cross-process wait/wake on a word. It knows nothing of any protocol.
class RegionHandle : public Napi::ObjectWrap<RegionHandle> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RegionHandle(const Napi::CallbackInfo& info);
  ~RegionHandle() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetCreated(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Fill(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Store(const Napi::CallbackInfo& info);
  Napi::Value CompareExchange(const Napi::CallbackInfo& info);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value Notify(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);

  bool CheckOpen(Napi::Env env);
  bool CheckWritable(Napi::Env env);
  uint32_t* WordAt(const Napi::CallbackInfo& info, size_t index);
  bool Range(Napi::Env env, Napi::Value offset, uint64_t length, uint64_t* start);

  std::shared_ptr<Mapping> mapping_;
  bool created_ = false;
  bool persisted_ = false;
  std::string label_;  // for messages: the name or the path
};

}  // namespace shmlink
