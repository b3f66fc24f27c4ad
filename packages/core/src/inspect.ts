// Reading a channel's headers from the outside, for operators' tools (the `shmlink` command of
// @shmlink/cli): every field of docs/protocol.md §2 decoded, checked, and judged. It only loads
// words and copies bytes; it never stores, so it is safe on a live channel and on a region opened
// with access 'read'.
import type { Region } from '@shmlink/native';
import { isAlive } from './half';
import {
  CONSUMER,
  CONSUMER_SLEEPING_OFFSET,
  FRAME_HEADER,
  FRAME_LAP_SHIFT,
  FRAME_TYPE_MASK,
  FrameType,
  HALF_SIZE_OFFSET,
  HEADER_SIZE,
  HEADER_SIZE_OFFSET,
  HEAD_OFFSET,
  MAGIC,
  MAGIC_OFFSET,
  MIN_HALF,
  ORPHAN_OFFSET,
  PRODUCER,
  PRODUCER_WAITING_OFFSET,
  RING_SIZE_OFFSET,
  TAIL_OFFSET,
  VERSION,
  VERSION_OFFSET,
  align,
  claimerOf,
  lapOf,
  ringSizeFor,
  wrapFor,
  type PartyFields,
} from './ring-descriptor';

/** `claiming`: a process holds the slot's lock while it claims it (docs/protocol.md §5). */
export type SlotState = 'none' | 'attached' | 'left' | 'claiming' | 'invalid';

/** One party slot of a half (docs/protocol.md §2.2, §2.3). */
export interface PartySlot {
  pid: number;
  state: SlotState;
  /** The raw state word (0, 1, 2, or CLAIMING | the claimer's pid; anything else is invalid). */
  stateValue: number;
  epoch: number;
  /** Process start time as stored (clock ticks since boot on Linux; 0 when unknown). */
  startTime: number;
  /** Attached, and that process (pid and start time) still lives. */
  alive: boolean;
}

/** One half's header, decoded. */
export interface HalfHeader {
  /** Where the half begins in the region. */
  base: number;
  /** The side that writes (produces into) this half: 'a' writes the lower one. */
  writtenBy: 'a' | 'b';
  magic: number;
  version: number;
  headerSize: number;
  ringSize: number;
  halfSize: number;
  tail: number;
  head: number;
  /** Bytes published and not yet consumed (`(tail - head) mod wrap`); null when the cursors are invalid. */
  used: number | null;
  producerWaiting: number;
  consumerSleeping: number;
  orphan: number;
  producer: PartySlot;
  consumer: PartySlot;
}

export type Health = 'healthy' | 'stale' | 'corrupt';

/** A channel's headers with a verdict. */
export interface ChannelHeader {
  name: string;
  capacity: number;
  /** The halves, lowest base first (the first is written by side 'a'). */
  halves: HalfHeader[];
  /**
   * 'corrupt': a header field breaks the protocol (`problems` says which); 'healthy': a live
   * process holds a slot; 'stale': no live process holds any slot (every one attached died, or left).
   */
  health: Health;
  problems: string[];
  /** The live processes holding a slot, without repeats. */
  livePids: number[];
}

/** How far into a region inspectChannel() looks for a first half that does not start at 0. */
export const SCAN_LIMIT = 64 * 1024;

const STATES: readonly SlotState[] = ['none', 'attached', 'left'];

/**
 * Decodes the channel headers of `region`, or returns null when the region holds no channel
 * header (no "SLNK" magic at any 8-byte boundary where a half could start: another kind of object,
 * or a channel nobody has started yet).
 */
export function inspectChannel(region: Region): ChannelHeader | null {
  const capacity = region.size;
  const first = findHalf(region, 0);
  if (first === null) return null;
  const problems: string[] = [];
  const halves = [readHalf(region, first, 'a', problems)];
  const firstEnd = first + halves[0]!.halfSize;
  if (halves[0]!.halfSize < MIN_HALF || firstEnd > capacity - MIN_HALF) {
    problems.push(`half at ${first}: halfSize=${halves[0]!.halfSize} leaves no room for a second half (capacity=${capacity})`);
  } else if (region.load(firstEnd + MAGIC_OFFSET) !== MAGIC) {
    problems.push(`no second half at ${firstEnd}: magic=0x${hex(region.load(firstEnd + MAGIC_OFFSET))} expected=0x${hex(MAGIC)}`);
  } else {
    const second = readHalf(region, firstEnd, 'b', problems);
    halves.push(second);
    if (firstEnd + second.halfSize !== capacity) {
      problems.push(`half at ${firstEnd}: halfSize=${second.halfSize} expected=${capacity - firstEnd} (to the end of the region)`);
    }
  }
  const livePids = [...new Set(halves.flatMap((h) => [h.producer, h.consumer]).filter((s) => s.alive).map((s) => s.pid))];
  const health: Health = problems.length > 0 ? 'corrupt' : livePids.length > 0 ? 'healthy' : 'stale';
  return { name: region.name, capacity, halves, health, problems, livePids };
}

/** The first 8-aligned offset from `from` where a half's magic is stored, or null. */
function findHalf(region: Region, from: number): number | null {
  const last = region.size - MIN_HALF;
  if (from > last) return null;
  if (region.load(from + MAGIC_OFFSET) === MAGIC) return from;
  // Explicit positions may leave bytes before the first half (positions 8 and 4000, say). Look
  // through the first SCAN_LIMIT bytes only: a listing must not read every large region whole.
  const bytes = region.read(from, Math.min(SCAN_LIMIT, last + 4 - from));
  for (let i = 8; i + 4 <= bytes.length; i += 8) {
    if (bytes.readUInt32LE(i) === MAGIC) return from + i;
  }
  return null;
}

function readHalf(region: Region, base: number, writtenBy: 'a' | 'b', problems: string[]): HalfHeader {
  const load = (offset: number): number => region.load(base + offset);
  const where = `half at ${base}`;
  const version = load(VERSION_OFFSET);
  const headerSize = load(HEADER_SIZE_OFFSET);
  const ringSize = load(RING_SIZE_OFFSET);
  const halfSize = load(HALF_SIZE_OFFSET);
  const tail = load(TAIL_OFFSET);
  const head = load(HEAD_OFFSET);
  if (version !== VERSION) problems.push(`${where}: version=${version} expected=${VERSION}`);
  if (headerSize !== HEADER_SIZE) problems.push(`${where}: headerSize=${headerSize} expected=${HEADER_SIZE}`);
  if (ringSize !== ringSizeFor(halfSize) || ringSize < 64) problems.push(`${where}: ringSize=${ringSize} expected=${ringSizeFor(halfSize)} for halfSize=${halfSize}`);
  let used: number | null = null;
  if (ringSize >= 64 && ringSize % 8 === 0) {
    const wrap = wrapFor(ringSize);
    const cursorsValid = tail < wrap && head < wrap && tail % 8 === 0 && head % 8 === 0;
    if (!cursorsValid) {
      problems.push(`${where}: cursors tail=${tail} head=${head} expected multiples of 8 below wrap=${wrap}`);
    } else {
      used = (tail - head + wrap) % wrap;
      if (used > ringSize) {
        problems.push(`${where}: tail=${tail} is ${used} bytes past head=${head}, more than ringSize=${ringSize}`);
        used = null;
      }
    }
  }
  const producer = readSlot(region, base, PRODUCER, `${where}: producerState`, problems);
  const consumer = readSlot(region, base, CONSUMER, `${where}: consumerState`, problems);
  return {
    base,
    writtenBy,
    magic: load(MAGIC_OFFSET),
    version,
    headerSize,
    ringSize,
    halfSize,
    tail,
    head,
    used,
    producerWaiting: load(PRODUCER_WAITING_OFFSET),
    consumerSleeping: load(CONSUMER_SLEEPING_OFFSET),
    orphan: load(ORPHAN_OFFSET),
    producer,
    consumer,
  };
}

function readSlot(region: Region, base: number, fields: PartyFields, what: string, problems: string[]): PartySlot {
  const load = (offset: number): number => region.load(base + offset);
  const pid = load(fields.pid);
  const stateValue = load(fields.state);
  const claimer = claimerOf(stateValue);
  const state: SlotState = claimer !== 0 ? 'claiming' : STATES[stateValue] ?? 'invalid';
  if (state === 'invalid') problems.push(`${what}=${stateValue} expected 0, 1, 2 or CLAIMING | pid`);
  const startTime = load(fields.startLo) + load(fields.startHi) * 0x100000000;
  // A claim in progress holds the slot for as long as its claimer lives (no start time yet).
  const alive = state === 'attached' ? isAlive(pid, startTime) : state === 'claiming' && isAlive(claimer, 0);
  return { pid, state, stateValue, epoch: load(fields.epoch), startTime, alive };
}

/** What countMessages() found between two tails. */
export interface MessageCount {
  /** Whole messages (MESSAGE and END frames) published in the range that could be walked. */
  messages: number;
  /** Ring bytes walked (frames, padding included). */
  walked: number;
  /** Whether the whole range was walked; otherwise the producer had overwritten its start. */
  complete: boolean;
}

/**
 * Counts the messages a producer published between two of its tails (`from` an earlier tail,
 * `to` a later one), walking the frames still in the ring. Frames older than one lap may already
 * be overwritten: the walk stops at the first frame that is not of its cursor's lap, and
 * `complete` says whether it reached `to`. For rates, not for delivery: a racing producer can make
 * the count low, never make it read out of bounds.
 */
export function countMessages(region: Region, half: HalfHeader, from: number, to: number): MessageCount {
  const ringSize = half.ringSize;
  const wrap = wrapFor(ringSize);
  const distance = (to - from + wrap) % wrap;
  let messages = 0;
  let walked = 0;
  if (distance > ringSize || from % 8 !== 0) return { messages, walked, complete: distance === 0 };
  // One copy of the range (two where it wraps) instead of two native loads per frame.
  const ring = half.base + HEADER_SIZE;
  const start = from % ringSize;
  const first = Math.min(distance, ringSize - start);
  const bytes = first === distance ? region.read(ring + start, first) : Buffer.concat([region.read(ring + start, first), region.read(ring, distance - first)]);
  let cursor = from;
  while (walked + FRAME_HEADER <= distance) {
    const index = cursor % ringSize;
    const length = bytes.readUInt32LE(walked);
    const word = bytes.readUInt32LE(walked + 4);
    const type = word & FRAME_TYPE_MASK;
    const size = align(FRAME_HEADER + length);
    if (word >>> FRAME_LAP_SHIFT !== lapOf(cursor, ringSize) || size > distance - walked || index + size > ringSize) break;
    if (type === FrameType.Message || type === FrameType.End) messages++;
    walked += size;
    cursor = (cursor + size) % wrap;
  }
  return { messages, walked, complete: walked === distance };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
