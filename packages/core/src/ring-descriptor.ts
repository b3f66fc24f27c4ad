// The ring descriptor: the memory layout of one half as constants and offset functions, apart from
// the algorithms (framer.ts, ring-reader.ts) and from the code that owns the mapping (docs/protocol.md
// draws it).
// A half is [position, next position or end of mapping): a 256-byte header, then the ring.
// Every field is a little-endian u32 on its own 4-byte boundary; the producer's and the consumer's
// fields sit on separate 64-byte cache lines.

export const MAGIC = 0x4b4e4c53; // "SLNK" read as bytes
/**
 * 2: frames carry their lap (FRAME_LAP_SHIFT), and the consumer line has ORPHAN_OFFSET.
 * 3: a futex sleeper waits on its flag word, not on the cursor (Sleep.Futex): peers of 2 and 3
 * would not wake each other.
 */
export const VERSION = 3;
/** Stored in the version word while a side initialises the header. */
export const INITIALIZING = 0xffffffff;

export const HEADER_SIZE = 256;
export const FRAME_ALIGN = 8;
export const FRAME_HEADER = 8;
export const MIN_RING = 64;
/** Smallest half: a header and a minimal ring. */
export const MIN_HALF = HEADER_SIZE + MIN_RING;

// Line 0 — descriptor, written once by whichever side initialises the half.
export const MAGIC_OFFSET = 0;
export const VERSION_OFFSET = 4;
export const HEADER_SIZE_OFFSET = 8;
export const RING_SIZE_OFFSET = 12;
export const HALF_SIZE_OFFSET = 16;

/**
 * A word of the region rather than of a half: region offset 20, within the reserved part of line 0
 * of the half at position 0, or before every half when no half starts at 0 (the lowest position
 * is then at least 24). A process that opens a region its creator made marks it joined; a creator
 * that goes without starting removes the region only if it can swap 0 for WITHDRAWN first.
 */
export const JOINED_OFFSET = 20;
export const JOINED = 1;
export const WITHDRAWN = 0xffffffff;
/** Lowest positions (besides 0) that leave the joined word outside every half. */
export const MIN_LOW_POSITION = JOINED_OFFSET + 4;

// Line 1 — written by the producer (the side that writes this half).
export const TAIL_OFFSET = 64;
export const PRODUCER_WAITING_OFFSET = 68;
export const PRODUCER_PID_OFFSET = 72;
export const PRODUCER_STATE_OFFSET = 76;
export const PRODUCER_EPOCH_OFFSET = 80;
export const PRODUCER_START_LO_OFFSET = 84;
export const PRODUCER_START_HI_OFFSET = 88;

// Line 2 — written by the consumer (the side that reads this half).
export const HEAD_OFFSET = 128;
export const CONSUMER_SLEEPING_OFFSET = 132;
export const CONSUMER_PID_OFFSET = 136;
export const CONSUMER_STATE_OFFSET = 140;
export const CONSUMER_EPOCH_OFFSET = 144;
export const CONSUMER_START_LO_OFFSET = 148;
export const CONSUMER_START_HI_OFFSET = 152;
/** 0, or 1 + the cursor of a CONTINUE/END frame a consumer found without its BEGIN: a request to
 *  the producer to send that message again whole (its first reader went away in the middle). */
export const ORPHAN_OFFSET = 156;

/** Offsets of one party's fields (producer or consumer) within a half header. */
export interface PartyFields {
  pid: number;
  state: number;
  epoch: number;
  startLo: number;
  startHi: number;
}

export const PRODUCER: PartyFields = {
  pid: PRODUCER_PID_OFFSET,
  state: PRODUCER_STATE_OFFSET,
  epoch: PRODUCER_EPOCH_OFFSET,
  startLo: PRODUCER_START_LO_OFFSET,
  startHi: PRODUCER_START_HI_OFFSET,
};

export const CONSUMER: PartyFields = {
  pid: CONSUMER_PID_OFFSET,
  state: CONSUMER_STATE_OFFSET,
  epoch: CONSUMER_EPOCH_OFFSET,
  startLo: CONSUMER_START_LO_OFFSET,
  startHi: CONSUMER_START_HI_OFFSET,
};

/**
 * A slot's state word while a process claims it: this bit, with the claimer's pid in the low 31 bits.
 * Holding it is holding the slot's lock (docs/protocol.md §5).
 */
export const CLAIMING = 0x80000000;

/** The pid of the process claiming a slot whose state word is `state`; 0 when nobody is claiming it. */
export function claimerOf(state: number): number {
  return state >= CLAIMING ? state - CLAIMING : 0;
}

export const enum PartyState {
  None = 0,
  Attached = 1,
  Left = 2,
}

/** Values of consumerSleeping / producerWaiting: how the sleeper wants to be woken. */
export const enum Sleep {
  Awake = 0,
  /** futex_wait on this flag word while it holds 1: wake by swapping it to 0, then futex_wake on it. */
  Futex = 1,
  /** An event loop listening on its doorbell FIFO: wake by writing one byte to it. */
  Doorbell = 2,
}

/**
 * A frame header's second word: the frame type in the low 16 bits, and in the high 16 bits the lap
 * of the frame's own position, `lapOf(cursor)`. A frame left from an earlier lap (stale bytes that
 * a wrong tail would expose) then cannot pass for a new one.
 */
export const FRAME_TYPE_MASK = 0xffff;
export const FRAME_LAP_SHIFT = 16;

/** The lap of `cursor`: how many times the ring was filled before it, modulo 2^16. */
export function lapOf(cursor: number, ringSize: number): number {
  return Math.floor(cursor / ringSize) & 0xffff;
}

export const enum FrameType {
  Message = 1,
  Begin = 2,
  Continue = 3,
  End = 4,
  Padding = 5,
}

/** A Begin frame's payload starts with the whole message's length (u32) and a reserved u32. */
export const BEGIN_PREFIX = 8;

export function align(n: number): number {
  return (n + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
}

/** Ring bytes for a half of `halfSize` bytes: what the header leaves, rounded down to 8. */
export function ringSizeFor(halfSize: number): number {
  return Math.floor((halfSize - HEADER_SIZE) / FRAME_ALIGN) * FRAME_ALIGN;
}

/**
 * Cursors count bytes modulo `wrapFor(ringSize)`, the largest multiple of the ring size that fits
 * in 32 bits, so that `cursor % ringSize` stays the ring index across the wrap for any ring size.
 */
export function wrapFor(ringSize: number): number {
  return Math.floor(0x100000000 / ringSize) * ringSize;
}

/** The largest payload one frame may carry: half the ring, so that a frame always fits eventually. */
export function maxFramePayload(ringSize: number): number {
  return Math.floor(ringSize / 2 / FRAME_ALIGN) * FRAME_ALIGN - FRAME_HEADER;
}
