#include "win32_objects.h"

#include <vector>

namespace shmlink {
namespace win32 {

namespace {

// Few regions are open at once: a vector scanned under a reader-writer lock is all it takes.
SRWLOCK table_lock = SRWLOCK_INIT;
std::vector<RegionObject*>& Table() {
  static std::vector<RegionObject*>* table = new std::vector<RegionObject*>();  // never destroyed
  return *table;
}

}  // namespace

RegionObject::~RegionObject() {
  for (HANDLE semaphore : semaphores) {
    if (semaphore != nullptr) CloseHandle(semaphore);
  }
  if (meta != nullptr) UnmapViewOfFile(const_cast<MetaPage*>(meta));
  if (meta_section != nullptr) CloseHandle(meta_section);
  if (section != nullptr) CloseHandle(section);
  if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
}

int MapMeta(HANDLE section, MetaPage** meta) {
  void* view = MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(MetaPage));
  if (view == nullptr) return LastError();
  *meta = static_cast<MetaPage*>(view);
  return 0;
}

int AddObject(RegionObject* object) {
  AcquireSRWLockExclusive(&table_lock);
  std::vector<RegionObject*>& table = Table();
  size_t key = 0;
  while (key < table.size() && table[key] != nullptr) key++;
  if (key == table.size()) table.push_back(nullptr);
  table[key] = object;
  ReleaseSRWLockExclusive(&table_lock);
  return static_cast<int>(key);
}

RegionObject* ObjectByKey(int key) {
  AcquireSRWLockShared(&table_lock);
  std::vector<RegionObject*>& table = Table();
  RegionObject* object = key >= 0 && static_cast<size_t>(key) < table.size() ? table[key] : nullptr;
  ReleaseSRWLockShared(&table_lock);
  return object;
}

void RemoveObject(int key) {
  AcquireSRWLockExclusive(&table_lock);
  std::vector<RegionObject*>& table = Table();
  RegionObject* object = nullptr;
  if (key >= 0 && static_cast<size_t>(key) < table.size()) {
    object = table[key];
    table[key] = nullptr;
  }
  ReleaseSRWLockExclusive(&table_lock);
  delete object;
}

void SetMapped(int key, uint8_t* base, uint64_t size) {
  AcquireSRWLockExclusive(&table_lock);
  std::vector<RegionObject*>& table = Table();
  if (key >= 0 && static_cast<size_t>(key) < table.size() && table[key] != nullptr) {
    table[key]->base = base;
    table[key]->size = size;
  }
  ReleaseSRWLockExclusive(&table_lock);
}

void ClearMapped(const void* base) {
  AcquireSRWLockExclusive(&table_lock);
  for (RegionObject* object : Table()) {
    if (object != nullptr && object->base == base) object->base = nullptr;
  }
  ReleaseSRWLockExclusive(&table_lock);
}

RegionObject* ObjectByAddress(const void* address, uint64_t* offset) {
  auto* p = static_cast<const uint8_t*>(address);
  RegionObject* found = nullptr;
  AcquireSRWLockShared(&table_lock);
  for (RegionObject* object : Table()) {
    if (object != nullptr && object->base != nullptr && p >= object->base && p < object->base + object->size) {
      found = object;
      *offset = static_cast<uint64_t>(p - object->base);
      break;
    }
  }
  ReleaseSRWLockShared(&table_lock);
  return found;
}

}  // namespace win32
}  // namespace shmlink
