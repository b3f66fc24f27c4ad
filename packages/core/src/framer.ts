import { ShmError } from '@shmlink/native';
import type { Half } from './half';
import { BEGIN_PREFIX, FRAME_HEADER, FRAME_LAP_SHIFT, FrameType, HEAD_OFFSET, ORPHAN_OFFSET, TAIL_OFFSET, align, lapOf } from './ring-descriptor';

/** A message being framed: `sent` counts the bytes of `data` already in the ring. */
export interface Outbound {
  data: Uint8Array;
  sent: number;
  /** A fragmented message's BEGIN cursor, and the cursor after its END once framed whole; -1 before. */
  begin: number;
  end: number;
}

/** Where a fragmented message framed whole stands (see RingFramer.confirm). */
export type Confirmation = 'pending' | 'confirmed' | 'resend';

export interface FramerOptions {
  /** A view of this half's ring (Region.view) where the runtime allows one: frames are then
   *  assembled in place instead of in a staging buffer copied in with one call. */
  ringView: Buffer | null;
  /** Told when the consumer's cursor was garbage and the ring was reset. */
  onCorrupt: (error: ShmError) => void;
  /** Publishing calls this after each store of the tail: wakes the consumer if it sleeps. */
  onPublish: () => void;
}

// Frames up to this size are gathered into one staging buffer and copied in one call (or, with a
// ring view, written in place and published every STAGING_SIZE bytes); larger payloads go
// straight from the caller's buffer into the mapping.
const STAGING_SIZE = 64 * 1024;
const DIRECT_THRESHOLD = 16 * 1024;

/**
 * The in-flight window for large messages (docs/decisions.md §43): a whole message of at least
 * WINDOW_MIN_MESSAGE bytes goes into the ring only while the ring's unread bytes, itself included,
 * stay within IN_FLIGHT_BYTES (or twice its frame, for a message larger than half of that). A
 * bulk stream then keeps a few MiB unread instead of the whole ring, and what is written
 * after it waits behind that much, not behind the whole ring; smaller messages are not held back.
 * Only commits that may wait (write() and send()) keep the window: writeSync and dispose commit
 * whatever the ring takes.
 */
export const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
export const WINDOW_MIN_MESSAGE = 16 * 1024;

/**
 * Whether a whole message of `length` bytes, taking `needed` ring bytes (its frame of `size`, and
 * the padding before it) after `unread` bytes not yet consumed, would go beyond the in-flight window.
 */
function beyondWindow(length: number, unread: number, needed: number, size: number): boolean {
  return length >= WINDOW_MIN_MESSAGE && unread + needed > Math.max(IN_FLIGHT_BYTES, 2 * size);
}

/**
 * The producer's framing of one half's ring, synchronous and without a queue: between begin() and
 * end() it lays messages out as frames — whole, or in fragments when larger than a frame or than
 * the contiguous space — with a padding frame at the ring's end, and end() publishes them with one
 * store of the tail. What to frame, and when, is the send queue's business (send-queue.ts).
 */
export class RingFramer {
  readonly #half: Half;
  readonly #options: FramerOptions;
  readonly #inPlace: boolean;
  /** Where frames are assembled: the ring itself (in place) or the staging buffer. */
  readonly #staging: Buffer;
  // Frame headers go through a DataView: explicit little-endian like Buffer.writeUInt32LE, but
  // compiled to a plain store (≈ 0.5 ns against ≈ 7 ns; a 64 B message's whole budget is ~150 ns).
  readonly #header: DataView;
  #stageStart = 0; // ring index where the staged bytes go
  #stageLength = 0;
  #tail: number;
  /** `#tail % ringSize`, kept alongside so that the per-message path divides nothing. */
  #index: number;
  /** The frame type word's high half for frames at the tail: lapOf(#tail) << 16. */
  #lapBits = 0;
  /** The consumer's head as begin() last accepted it: the last valid value. */
  #head = 0;
  /** A head value found impossible and reported: ignored until the consumer stores another. */
  #badHead = -1;
  /** Ring bytes free since begin(), less what was framed since. */
  #free = 0;
  /** The tail at begin(). */
  #start = 0;
  /** Between begin() and end(). */
  #open = false;
  /** Whether the last begin() asked for the in-flight window for large messages. */
  #windowed = false;

  constructor(half: Half, options: FramerOptions) {
    this.#half = half;
    this.#options = options;
    const view = options.ringView;
    if (view !== null) half.checkRingView(view);
    this.#inPlace = view !== null;
    this.#staging = view ?? Buffer.allocUnsafeSlow(STAGING_SIZE);
    this.#header = new DataView(this.#staging.buffer, this.#staging.byteOffset, this.#staging.length);
    this.#tail = this.#recoverTail();
    this.#index = this.#tail % half.ringSize;
    this.#lapBits = lapOf(this.#tail, half.ringSize) << FRAME_LAP_SHIFT;
    const head = half.load(HEAD_OFFSET);
    this.#head = head < half.wrap && head % 8 === 0 && (this.#tail - head + half.wrap) % half.wrap <= half.ringSize ? head : this.#tail;
    // Requests to send again name messages of this side's previous producer: nobody holds them now.
    if (half.load(ORPHAN_OFFSET) !== 0) half.store(ORPHAN_OFFSET, 0);
  }

  /** The tail a (re)starting producer continues from; a garbage tail restarts at the consumer's head. */
  #recoverTail(): number {
    const half = this.#half;
    const tail = half.load(TAIL_OFFSET);
    const head = half.load(HEAD_OFFSET);
    const used = (tail - head + half.wrap) % half.wrap;
    if (tail >= half.wrap || tail % 8 !== 0 || head >= half.wrap || used > half.ringSize) {
      half.store(TAIL_OFFSET, head < half.wrap && head % 8 === 0 ? head : 0);
      return half.load(TAIL_OFFSET);
    }
    return tail;
  }

  /**
   * The head word's value as the last begin() left it: what a wait for space must compare with
   * (the last valid head, or an ignored garbage value still in the word).
   */
  get seenHead(): number {
    return this.#badHead >= 0 ? this.#badHead : this.#head;
  }

  /** Whether the consumer moved its head since it was `head`: space may have come free. */
  headMoved(head: number): boolean {
    return this.#half.load(HEAD_OFFSET) !== head;
  }

  /** Bytes written but not yet consumed by the reader. */
  unread(): number {
    const head = this.#half.load(HEAD_OFFSET);
    return (this.#tail - head + this.#half.wrap) % this.#half.wrap;
  }

  /**
   * Starts a commit: reads the consumer's head and checks it. A head can only move forward, up to
   * the tail. One that moved backwards (a plausible garbage store; it would make the ring look full
   * to a writer whose reader idles) is reported and ignored until the consumer stores another; one
   * that is malformed or ahead of the tail resets the ring there (what was unread is lost to garbage).
   * `windowed`: large messages wait for the in-flight window (IN_FLIGHT_BYTES) as well as for room.
   */
  begin(windowed = false): void {
    this.#windowed = windowed;
    this.#readHead();
    const half = this.#half;
    this.#free = half.ringSize - (this.#tail - this.#head + half.wrap) % half.wrap;
    // A commit already begun (write() frames straight into the ring, send-queue.ts) goes on: what
    // it framed stays staged and unpublished, and only the room is measured again.
    if (this.#open) return;
    this.#open = true;
    this.#start = this.#tail;
    this.#stageStart = this.#index;
    this.#stageLength = 0;
  }

  /** Whether begin() was called and end() not yet: frames may be put. */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Reads the consumer's head again after end() published: together with the consumer's re-check
   * of the tail after it stores its head, one of the two sides sees the other (docs/protocol.md §6).
   */
  refreshHead(): void {
    this.#readHead();
  }

  #readHead(): void {
    const half = this.#half;
    const ringSize = half.ringSize;
    const wrap = half.wrap;
    const head = half.load(HEAD_OFFSET);
    if (head !== this.#head && head !== this.#badHead) {
      const last = this.#head;
      const used = (this.#tail - last + wrap) % wrap;
      const wellFormed = head < wrap && head % 8 === 0;
      if (wellFormed && (head - last + wrap) % wrap <= used) {
        this.#head = head;
        this.#badHead = -1;
      } else if (wellFormed && (last - head + wrap) % wrap <= ringSize) {
        this.#badHead = head;
        this.#options.onCorrupt(new ShmError('ERR_CORRUPT', `consumer cursor head=${head} moved backwards from ${last} (tail=${this.#tail} ringSize=${ringSize}); ignored until the consumer stores another`));
      } else {
        this.#options.onCorrupt(new ShmError('ERR_CORRUPT', `consumer cursor head=${head} is invalid for tail=${this.#tail} ringSize=${ringSize}; ring reset`));
        this.#tail = wellFormed ? head : 0;
        this.#index = this.#tail % ringSize;
        this.#lapBits = lapOf(this.#tail, ringSize) << FRAME_LAP_SHIFT;
        half.store(TAIL_OFFSET, this.#tail);
        this.#head = this.#tail;
        // A malformed value stays in the word until the consumer stores another: ignored till then,
        // or every begin() (several a tick, now that write() frames at once) would reset again
        // and drop what was framed since the last.
        this.#badHead = wellFormed ? -1 : head;
        // Frames staged since begin() (a commit goes on across begin() calls) are dropped with
        // the rest: staging restarts at the new tail.
        this.#start = this.#tail;
        this.#stageStart = this.#index;
        this.#stageLength = 0;
      }
    }
  }

  /** Whether the consumer's head (as begin() saw it) is past the BEGIN of `message`. */
  started(message: Outbound): boolean {
    const wrap = this.#half.wrap;
    const into = (this.#head - message.begin + wrap) % wrap;
    return into > 0 && into <= (this.#tail - message.begin + wrap) % wrap;
  }

  /**
   * For a fragmented message framed whole: 'pending' until the consumer's head (as begin() saw it)
   * passes its end; then 'resend' when a consumer reported a fragment of it found without its
   * BEGIN (its first reader went away in the middle: docs/protocol.md §6), which also resets the
   * message to be framed again; else 'confirmed'.
   */
  confirm(message: Outbound): Confirmation {
    const half = this.#half;
    const wrap = half.wrap;
    if ((this.#head - message.end + wrap) % wrap > (this.#tail - message.end + wrap) % wrap) return 'pending';
    const orphan = half.load(ORPHAN_OFFSET);
    if (orphan === 0) return 'confirmed';
    // Taken, whatever it names: a request that names no retained message is stale.
    half.compareExchange(ORPHAN_OFFSET, orphan, 0);
    if ((orphan - 1 - message.begin + wrap) % wrap >= (message.end - message.begin + wrap) % wrap) return 'confirmed';
    message.sent = 0;
    message.begin = -1;
    message.end = -1;
    return 'resend';
  }

  /**
   * Frames a message that fits one frame whole at the tail (after a padding frame to the ring's
   * end where the contiguous space is too short), between begin() and end(); returns false, having
   * framed nothing, when it is larger than a frame or the free space does not take it.
   */
  putWhole(data: Uint8Array): boolean {
    const half = this.#half;
    const length = data.length;
    if (length > half.maxFramePayload) return false;
    const size = align(FRAME_HEADER + length);
    const contiguous = half.ringSize - this.#index;
    // Checked before any padding: a message the window holds back leaves the ring as it was.
    if (this.#windowed && beyondWindow(length, half.ringSize - this.#free, size > contiguous ? contiguous + size : size, size)) return false;
    if (size > contiguous) {
      if (this.#free < contiguous + size) return false;
      this.#padding(contiguous);
    } else if (this.#free < size) {
      return false;
    }
    this.#frame(FrameType.Message, data, 0, length, -1);
    this.#free -= size;
    return true;
  }

  /**
   * Frames as much of `message` as the free space takes, advancing `message.sent`; returns whether
   * the whole message is in the ring. A message that fits one frame goes whole or not at all.
   */
  put(message: Outbound): boolean {
    const half = this.#half;
    const ringSize = half.ringSize;
    const data = message.data;
    for (;;) {
      const index = this.#index;
      const contiguous = ringSize - index;
      const remaining = data.length - message.sent;

      if (message.sent === 0 && remaining <= half.maxFramePayload) {
        if (!this.putWhole(data)) return false;
        message.sent = remaining;
        return true;
      }
      // A fragment of a message larger than one frame: as much as the contiguous free space takes.
      const prefix = message.sent === 0 ? BEGIN_PREFIX : 0;
      const room = Math.min(this.#free, contiguous);
      const overhead = FRAME_HEADER + prefix;
      const wanted = Math.min(remaining, half.maxFramePayload - prefix);
      if (room - overhead < Math.min(wanted, 64)) {
        // Too little room for a useful fragment: pad to the ring's end if the space is there.
        if (contiguous < this.#free && contiguous < ringSize) {
          this.#padding(contiguous);
          continue;
        }
        return false;
      }
      const chunk = Math.min(wanted, room - overhead);
      const type = message.sent === 0 ? FrameType.Begin : chunk === remaining ? FrameType.End : FrameType.Continue;
      if (type === FrameType.Begin) message.begin = this.#tail;
      this.#frame(type, data, message.sent, chunk, message.sent === 0 ? data.length : -1);
      this.#free -= align(overhead + chunk);
      message.sent += chunk;
      if (message.sent === data.length) {
        message.end = this.#tail;
        return true;
      }
    }
  }

  /** Ends a commit: copies what is staged and publishes the tail if it moved. */
  end(): void {
    this.#open = false;
    this.#flushStage();
    // Also when nothing was written but the tail word is not ours (garbage over it): a consumer
    // that ignores an invalid tail would never free the space this writer waits for.
    if (this.#tail !== this.#start || this.#half.load(TAIL_OFFSET) !== this.#tail) this.#publish();
  }

  /** Makes everything written so far visible to the consumer. */
  #publish(): void {
    this.#half.store(TAIL_OFFSET, this.#tail);
    this.#options.onPublish();
  }

  #flushStage(): void {
    if (this.#stageLength > 0 && !this.#inPlace) {
      this.#half.region.write(this.#half.ring + this.#stageStart, this.#staging, 0, this.#stageLength);
    }
    this.#stageStart = this.#index;
    this.#stageLength = 0;
  }

  /** Reserves `size` bytes at the tail; returns where to write them in #staging. */
  #stage(size: number): number {
    if (this.#stageLength + size > STAGING_SIZE) {
      // A large commit publishes as it goes, so that the consumer works while this side copies.
      this.#flushStage();
      this.#publish();
    }
    const at = this.#stageLength;
    this.#stageLength += size;
    return this.#inPlace ? this.#stageStart + at : at;
  }

  /**
   * Moves the tail by `size` ring bytes. A frame never crosses the ring's end and the wrap is a
   * multiple of the ring size, so neither cursor can overshoot: no division needed.
   */
  #moveTail(size: number): void {
    const wrap = this.#half.wrap;
    const tail = this.#tail + size;
    this.#tail = tail >= wrap ? tail - wrap : tail;
    const index = this.#index + size;
    if (index === this.#half.ringSize) {
      this.#index = 0;
      this.#lapBits = lapOf(this.#tail, this.#half.ringSize) << FRAME_LAP_SHIFT;
    } else {
      this.#index = index;
    }
  }

  #advance(size: number): void {
    this.#moveTail(size);
    if (this.#index === 0) this.#flushStage();
  }

  #padding(size: number): void {
    const at = this.#stage(FRAME_HEADER);
    this.#header.setUint32(at, size - FRAME_HEADER, true);
    this.#header.setUint32(at + 4, FrameType.Padding | this.#lapBits, true);
    // The padding's body is never read; only its header is written.
    this.#flushStage();
    this.#moveTail(size);
    this.#stageStart = this.#index;
    this.#free -= size;
  }

  /** One frame: header (and a Begin frame's total length), then `length` bytes of `data` from `from`. */
  #frame(type: FrameType, data: Uint8Array, from: number, length: number, total: number): void {
    const prefix = total >= 0 ? BEGIN_PREFIX : 0;
    const bodyLength = prefix + length;
    const size = align(FRAME_HEADER + bodyLength);
    if (length >= DIRECT_THRESHOLD) {
      const at = this.#stage(FRAME_HEADER + prefix);
      this.#writeHeader(at, bodyLength, type, total);
      this.#flushStage();
      this.#half.region.write(this.#half.ring + this.#index + FRAME_HEADER + prefix, data, from, length);
      this.#moveTail(size);
      this.#stageStart = this.#index;
      return;
    }
    const at = this.#stage(size);
    this.#writeHeader(at, bodyLength, type, total);
    // A whole message is copied as it is: a subarray per message is measurable garbage.
    this.#staging.set(from === 0 && length === data.length ? data : data.subarray(from, from + length), at + FRAME_HEADER + prefix);
    this.#advance(size);
  }

  #writeHeader(at: number, bodyLength: number, type: FrameType, total: number): void {
    const h = this.#header;
    h.setUint32(at, bodyLength, true);
    h.setUint32(at + 4, type | this.#lapBits, true);
    if (total >= 0) {
      h.setUint32(at + FRAME_HEADER, total, true);
      h.setUint32(at + FRAME_HEADER + 4, 0, true);
    }
  }
}
