// Windows backend: what stands behind the seam's `fd` and mapped addresses. A RegionObject holds the
// kernel objects of one opened region — its section (and file, when persisted) and its metadata
// page — and the process-wide tables find it by key (the seam's fd) or by an address inside its
// mapping (the word a wait or a wake names).
#pragma once

#include <cstdint>
#include <string>

#include "win32_util.h"

namespace shmlink {
namespace win32 {

// One word's sleepers: the key is offset + 1 (0: free); a slot, once taken, keeps its offset.
struct WaitSlot {
  volatile LONG64 key;
  volatile LONG waiters;  // announced and not yet claimed by a wake
  LONG reserved;
};

constexpr int kWaitSlots = 252;
constexpr LONG kMetaMagic = 0x4d574c53;  // "SLWM"
constexpr LONG kMetaVersion = 1;

// The metadata page of a region (4096 bytes, its own section; docs/protocol.md, "Windows: the
// metadata page"). For a shared-memory region it also carries the size and the unlinked mark; for
// a persisted region (keyed by the file's identity) only the wait table is used.
struct MetaPage {
  volatile LONG magic;
  volatile LONG version;  // written last by the creator
  volatile LONG64 size;
  volatile LONG unlinked;
  LONG reserved[11];
  WaitSlot slots[kWaitSlots];
};
static_assert(sizeof(MetaPage) == 4096, "the metadata page is one page");

struct RegionObject {
  HANDLE file = INVALID_HANDLE_VALUE;  // persisted regions
  HANDLE section = nullptr;            // the region's memory
  HANDLE meta_section = nullptr;
  MetaPage* meta = nullptr;
  std::wstring wait_id;  // names this region's wait semaphores: "m.<generation>.<name>" or "f.<volume>.<file>"
  uint32_t permissions = 0600;
  uint8_t* base = nullptr;  // set while mapped
  uint64_t size = 0;
  HANDLE semaphores[kWaitSlots] = {};  // opened on first use, shared by every thread

  RegionObject() = default;
  RegionObject(const RegionObject&) = delete;
  RegionObject& operator=(const RegionObject&) = delete;
  ~RegionObject();
};

// Maps `section` (4096 bytes) read-write as a metadata page.
int MapMeta(HANDLE section, MetaPage** meta);

// The tables. Add() takes ownership and returns the key; Remove() deletes the object.
int AddObject(RegionObject* object);
RegionObject* ObjectByKey(int key);
void RemoveObject(int key);
void SetMapped(int key, uint8_t* base, uint64_t size);
// The object whose mapping was at `base` forgets it (the view was unmapped).
void ClearMapped(const void* base);
// The object whose mapping holds `address`, and the offset of `address` in it; null when none.
RegionObject* ObjectByAddress(const void* address, uint64_t* offset);

}  // namespace win32
}  // namespace shmlink
