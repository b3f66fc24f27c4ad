// Sequentially consistent operations on a 32-bit word in shared memory, written once for GCC/Clang
// (the Linux build and the mingw-w64 cross-build) and MSVC (a node-gyp build on Windows), which has
// no __atomic builtins.
#pragma once

#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace shmlink {

#if defined(_MSC_VER) && !defined(__clang__)

// Not an interlocked read-modify-write: that writes, and a region opened with access 'read' is
// mapped read-only.
inline uint32_t AtomicLoad(const uint32_t* word) {
#if defined(_M_X64) || defined(_M_IX86)
  // On x86 a plain aligned load is sequentially consistent against the locked stores below.
  uint32_t value = *reinterpret_cast<const volatile uint32_t*>(word);
  _ReadWriteBarrier();
  return value;
#else
  return static_cast<uint32_t>(__ldar32(reinterpret_cast<const volatile unsigned __int32*>(word)));
#endif
}
inline void AtomicStore(uint32_t* word, uint32_t value) {
  _InterlockedExchange(reinterpret_cast<volatile long*>(word), static_cast<long>(value));
}
// Returns the value found; the swap happened when it equals `expected`.
inline uint32_t AtomicCompareExchange(uint32_t* word, uint32_t expected, uint32_t replacement) {
  return static_cast<uint32_t>(_InterlockedCompareExchange(reinterpret_cast<volatile long*>(word),
                                                           static_cast<long>(replacement),
                                                           static_cast<long>(expected)));
}
inline uint32_t AtomicFetchAdd(uint32_t* word, uint32_t delta) {
  return static_cast<uint32_t>(_InterlockedExchangeAdd(reinterpret_cast<volatile long*>(word), static_cast<long>(delta)));
}

#else

inline uint32_t AtomicLoad(const uint32_t* word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }
inline void AtomicStore(uint32_t* word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }
inline uint32_t AtomicCompareExchange(uint32_t* word, uint32_t expected, uint32_t replacement) {
  __atomic_compare_exchange_n(word, &expected, replacement, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}
inline uint32_t AtomicFetchAdd(uint32_t* word, uint32_t delta) {
  return __atomic_fetch_add(word, delta, __ATOMIC_SEQ_CST);
}

#endif

}  // namespace shmlink
