import type { HeaderSpec } from '@shmlink/native/internal';

// The layout of a segmented file (docs/protocol.md, "Segmented file"): a 64-byte header of
// little-endian u32 words, all accessed with sequentially consistent atomics, then the data area of
// `capacity` bytes holding the segments back to back, each an Int32 (little-endian) length and then
// that many bytes.
export const SEGMENTED_FILE_HEADER_SIZE = 64;
export const CAPACITY_OFFSET = 8;
export const COUNT_OFFSET = 12;
export const USED_OFFSET = 16;
export const LENGTH_PREFIX = 4;
/** Lengths are Int32 as in the seed, so the data area (and every offset in it) stays below 2^31. */
export const MAX_SEGMENTED_FILE_CAPACITY = 2 ** 31 - SEGMENTED_FILE_HEADER_SIZE;
export const MAX_SEGMENT_INDEX = 2 ** 31 - 1;
export const HEADER_SPEC: HeaderSpec = {
  what: 'segmented file',
  magic: 0x46534c53, // 'SLSF' in memory order
  version: 1,
  magicOffset: 0,
  versionOffset: 4,
};
