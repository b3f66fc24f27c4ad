// The 8 bytes attach() keeps before the packed struct. They live outside the struct so that the C
// struct stays byte-for-byte the declared one; they are 32-bit aligned words (attach offsets are
// multiples of 4) because atomics and futexes need aligned words, which a packed struct cannot promise.
//
//   +0  u32 change counter: +1 (atomic add, modulo 2^32) after every write, then a futex wake of all
//       waiters on this word in every process. Watchers sleep on it.
//   +4  u32 layout fingerprint: 0 until the first attach stores Layout.fingerprint; a later attach
//       with another fingerprint fails ERR_LAYOUT_MISMATCH.
//   +8  the packed struct (Layout.size bytes).

export const CHANGE_COUNTER = 0;
export const FINGERPRINT = 4;
export const HEADER_SIZE = 8;
