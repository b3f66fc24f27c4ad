// A mapped object. Shared by the Region that owns it and by every asynchronous wait still reading
// its words, so that close() never unmaps memory a waiting thread is looking at.
#pragma once

#include <cstdint>
#include <memory>

#include "platform.h"

namespace shmlink {

struct Mapping {
  uint8_t* base = nullptr;
  uint64_t size = 0;
  int fd = -1;
  Access access = Access::kReadWrite;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    PlatformUnmap(base, size);
    PlatformClose(fd);
  }
};

}  // namespace shmlink
