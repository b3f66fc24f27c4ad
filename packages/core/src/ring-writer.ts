import { ShmError } from '@shmlink/native';
import type { Doorbell, DoorbellRinger } from './doorbell';
import type { Half } from './half';
import {
  BEGIN_PREFIX,
  CONSUMER_SLEEPING_OFFSET,
  FRAME_HEADER,
  FrameType,
  HEAD_OFFSET,
  PRODUCER_WAITING_OFFSET,
  Sleep,
  TAIL_OFFSET,
  align,
} from './layout';

interface PendingWrite {
  data: Uint8Array;
  /** Bytes of `data` already committed (a fragmented message in progress). */
  sent: number;
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface RingWriterOptions {
  /** Rejects a write with ERR_TIMEOUT when it cannot be committed within this many ms. */
  timeoutMs: number;
  /** How long one sleep for space lasts before deadlines are checked again (ms). */
  sleepSliceMs: number;
  /** How long to poll for space from the event loop, after the head last moved, before sleeping (ms). */
  pollMs: number;
  /** Told when the consumer's cursor was garbage and the ring was reset. */
  onError: (error: ShmError) => void;
  /** This side's doorbell, where the writer sleeps while the ring is full. */
  doorbell: Doorbell;
  /** The consumer's doorbell, rung when it sleeps there. */
  consumerBell: DoorbellRinger;
  /** A view of this half's ring (Region.view) where the runtime allows one: frames are then
   *  written into the ring in place instead of through the staging buffer. */
  ringView: Buffer | null;
  /** Told of each message queued by enqueueSend() that failed (it has no Promise to reject). */
  onSendFailure: (error: Error) => void;
  /** Called once the queue has emptied after wantDrain(). */
  onDrain: () => void;
}

function noop(): void {}

// Frames up to this size are gathered into one staging buffer and copied in one call (or, with a
// ring view, written in place and published every STAGING_SIZE bytes); larger payloads go
// straight from the caller's buffer into the mapping.
const STAGING_SIZE = 64 * 1024;
const DIRECT_THRESHOLD = 16 * 1024;

/**
 * The producer side of one half's ring. Writes made in the same tick are committed together: the
 * frames are assembled in place in the ring (through a view of it) or in a staging buffer copied
 * into the ring with one call, and published by a sequentially-consistent store of the tail. The
 * consumer is woken only if it announced sleep.
 */
export class RingWriter {
  readonly #half: Half;
  readonly #options: RingWriterOptions;
  /** Where frames are assembled: the ring itself (in place) or the staging buffer. */
  readonly #inPlace: boolean;
  readonly #staging: Buffer;
  // Frame headers go through a DataView: explicit little-endian like Buffer.writeUInt32LE, but
  // compiled to a plain store (≈ 0.5 ns against ≈ 7 ns; a 64 B message's whole budget is ~150 ns).
  readonly #header: DataView;
  #stageStart = 0; // ring index where the staged bytes go
  #stageLength = 0;
  #tail: number;
  /** `#tail % ringSize`, kept alongside so that the per-message path divides nothing. */
  #index: number;
  #pollHead = -1;
  #pollSince = 0;
  /** The consumer's head as the last commit saw it: the value a wait for space must compare with. */
  #head = 0;
  #queue: PendingWrite[] = [];
  #queueHead = 0;
  #queued = 0;
  /** Bytes of the queued messages not yet committed. */
  #pendingBytes = 0;
  #drainWanted = false;
  #scheduled = false;
  #pumping = false;
  #closed = false;

  constructor(half: Half, options: RingWriterOptions) {
    this.#half = half;
    this.#options = options;
    const view = options.ringView;
    if (view !== null) half.checkRingView(view);
    this.#inPlace = view !== null;
    this.#staging = view ?? Buffer.allocUnsafeSlow(STAGING_SIZE);
    this.#header = new DataView(this.#staging.buffer, this.#staging.byteOffset, this.#staging.length);
    this.#tail = this.#recoverTail();
    this.#index = this.#tail % half.ringSize;
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

  /** The consumer's head as the last commit saw it: what a wait for space must compare with. */
  get seenHead(): number {
    return this.#head;
  }

  /** How many messages were ever queued: lets the reader tell that this side just sent. */
  get queued(): number {
    return this.#queued;
  }

  get pending(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Bytes queued and not yet committed (or failed). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Asks for onDrain() once everything queued so far has left the queue. */
  wantDrain(): void {
    this.#drainWanted = true;
  }

  /** Bytes written but not yet consumed by the reader. */
  unread(): number {
    const head = this.#half.load(HEAD_OFFSET);
    return (this.#tail - head + this.#half.wrap) % this.#half.wrap;
  }

  enqueue(data: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#push(data, resolve, reject);
      this.#schedule();
    });
  }

  /** Queues a message without a Promise (send()): a failure goes to onSendFailure. */
  enqueueSend(data: Uint8Array): void {
    this.#push(data, noop, this.#options.onSendFailure);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#scheduled && !this.#pumping) {
      this.#scheduled = true;
      queueMicrotask(() => this.#pump());
    }
  }

  /**
   * Queues a message for a caller that commits it itself with flushSync() (writeSync): no Promise,
   * no scheduled pump — the synchronous path's cost is the copy and the cursor store.
   */
  enqueueSync(data: Uint8Array, onFailure: (err: Error) => void): void {
    this.#push(data, noop, onFailure);
  }

  #push(data: Uint8Array, resolve: () => void, reject: (err: Error) => void): void {
    const timeout = this.#options.timeoutMs;
    this.#queued++;
    this.#pendingBytes += data.length;
    this.#queue.push({ data, sent: 0, deadline: timeout === Infinity ? Infinity : performance.now() + timeout, resolve, reject });
  }

  /**
   * Removes a queued write, rejecting it with ERR_TIMEOUT. One already begun is abandoned, as in
   * #expire: otherwise writeSync would throw ERR_TIMEOUT for a message that is delivered later.
   */
  withdraw(data: Uint8Array): boolean {
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (w.data !== data) continue;
      this.#queue.splice(i, 1);
      this.#pendingBytes -= data.length;
      w.reject(new ShmError('ERR_TIMEOUT', `write of ${data.length} bytes withdrawn: no room in time`));
      return true;
    }
    return false;
  }

  /** Commits what fits now, in order, without waiting; returns whether the queue is empty. */
  flushSync(): boolean {
    this.#commit();
    return this.pending === 0;
  }

  async #pump(): Promise<void> {
    this.#scheduled = false;
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.pending > 0) {
        this.#commit();
        if (this.pending === 0 || this.#closed) break;
        this.#expire();
        if (this.pending === 0) break;
        await this.#waitForSpace();
      }
    } catch (err) {
      this.#failAll(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#pumping = false;
    }
  }

  /** Sleeps until the consumer frees space, a deadline nears, or the region closes. */
  async #waitForSpace(): Promise<void> {
    const half = this.#half;
    // Compare with the head the commit found too small, not a fresh one: space freed since then
    // would otherwise go unnoticed, and the sleep would last the whole slice.
    const head = this.#head;
    // While the consumer was freeing space a moment ago, poll from the event loop instead of
    // paying a doorbell wake-up (see the Communicator's `poll`).
    if (head !== this.#pollHead) {
      this.#pollHead = head;
      this.#pollSince = performance.now();
    }
    if (performance.now() - this.#pollSince < this.#options.pollMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    half.store(PRODUCER_WAITING_OFFSET, Sleep.Doorbell);
    if (half.load(HEAD_OFFSET) !== head) {
      half.store(PRODUCER_WAITING_OFFSET, Sleep.Awake);
      return;
    }
    const first = this.#queue[this.#queueHead];
    const untilDeadline = first === undefined ? Infinity : first.deadline - performance.now();
    await this.#options.doorbell.wait(Math.max(0, Math.min(untilDeadline, this.#options.sleepSliceMs)));
    if (!this.#closed) half.store(PRODUCER_WAITING_OFFSET, Sleep.Awake);
  }

  /**
   * Rejects queued writes whose deadline passed. A message already begun is abandoned too, or a
   * message larger than the free ring would wait forever despite its timeout: its fragments stay
   * in the ring unfinished, and the consumer discards them at the next BEGIN or MESSAGE frame.
   */
  #expire(): void {
    const now = performance.now();
    const kept: PendingWrite[] = [];
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (now >= w.deadline) {
        this.#pendingBytes -= w.data.length;
        w.reject(new ShmError('ERR_TIMEOUT', `write of ${w.data.length} bytes not committed within ${this.#options.timeoutMs} ms: the reader is not consuming`));
      } else {
        kept.push(w);
      }
    }
    this.#queue = kept;
    this.#queueHead = 0;
    this.#drainIfEmpty();
  }

  #failAll(err: Error): void {
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#queue[i]!.reject(err);
    this.#queue = [];
    this.#queueHead = 0;
    this.#pendingBytes = 0;
  }

  /** Rejects every queued write with ERR_CLOSED after committing what fits; stops the pump. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#commit();
    } catch {
      // the region may already be unusable; whatever is left is rejected below
    }
    this.#closed = true;
    this.#failAll(new ShmError('ERR_CLOSED', 'the communicator was disposed before this write was committed'));
  }

  /** Writes as many queued frames as the free space allows and publishes them with one store. */
  #commit(): void {
    const half = this.#half;
    const ringSize = half.ringSize;
    const head = half.load(HEAD_OFFSET);
    this.#head = head;
    const used = (this.#tail - head + half.wrap) % half.wrap;
    let free = ringSize - used;
    if (head >= half.wrap || head % 8 !== 0 || used > ringSize) {
      // Defined recovery: what was unread is lost to garbage anyway; restart the ring empty at a
      // well-formed head so that the queued messages still go out.
      this.#options.onError(new ShmError('ERR_CORRUPT', `consumer cursor head=${head} is invalid for tail=${this.#tail} ringSize=${ringSize}; ring reset`));
      this.#tail = head < half.wrap && head % 8 === 0 ? head : 0;
      this.#index = this.#tail % ringSize;
      half.store(TAIL_OFFSET, this.#tail);
      free = ringSize;
    }
    const start = this.#tail;
    const done: PendingWrite[] = [];
    this.#stageStart = this.#index;
    this.#stageLength = 0;

    while (this.#queueHead < this.#queue.length) {
      const w = this.#queue[this.#queueHead]!;
      const index = this.#index;
      const contiguous = ringSize - index;
      const remaining = w.data.length - w.sent;

      if (w.sent === 0 && remaining <= half.maxFramePayload) {
        const size = align(FRAME_HEADER + remaining);
        if (size > contiguous) {
          if (free < contiguous + size) break;
          this.#padding(contiguous);
          free -= contiguous;
          continue;
        }
        if (free < size) break;
        this.#frame(FrameType.Message, w.data, 0, remaining, -1);
        free -= size;
        w.sent = remaining;
      } else {
        // A fragment of a message larger than one frame: as much as the contiguous free space takes.
        const prefix = w.sent === 0 ? BEGIN_PREFIX : 0;
        const room = Math.min(free, contiguous);
        const overhead = FRAME_HEADER + prefix;
        const wanted = Math.min(remaining, half.maxFramePayload - prefix);
        if (room - overhead < Math.min(wanted, 64)) {
          if (contiguous < free && contiguous < ringSize) {
            this.#padding(contiguous);
            free -= contiguous;
            continue;
          }
          break;
        }
        const chunk = Math.min(wanted, room - overhead);
        const type = w.sent === 0 ? FrameType.Begin : chunk === remaining ? FrameType.End : FrameType.Continue;
        this.#frame(type, w.data, w.sent, chunk, w.sent === 0 ? w.data.length : -1);
        free -= align(overhead + chunk);
        w.sent += chunk;
        if (w.sent < w.data.length) continue;
      }
      done.push(w);
      this.#pendingBytes -= w.data.length;
      this.#queueHead++;
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    this.#flushStage();
    // Also when nothing was written but the tail word is not ours (garbage over it): a consumer
    // that ignores an invalid tail would never free the space this writer waits for.
    if (this.#tail !== start || half.load(TAIL_OFFSET) !== this.#tail) this.#publish();
    for (const w of done) w.resolve();
    this.#drainIfEmpty();
  }

  /**
   * Tells a sender waiting for 'drain' that the queue is empty (committed or failed) — from a
   * microtask, once this pump has returned: what the listener sends then starts a pump of its own
   * instead of joining this one on its way to wait for space.
   */
  #drainIfEmpty(): void {
    if (!this.#drainWanted || this.pending > 0 || this.#closed) return;
    this.#drainWanted = false;
    queueMicrotask(() => {
      if (!this.#closed) this.#options.onDrain();
    });
  }

  /** Makes everything written so far visible to the consumer, and wakes it if it sleeps. */
  #publish(): void {
    const half = this.#half;
    half.store(TAIL_OFFSET, this.#tail);
    half.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, TAIL_OFFSET, this.#options.consumerBell);
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
    this.#index = index === this.#half.ringSize ? 0 : index;
  }

  #advance(size: number): void {
    this.#moveTail(size);
    if (this.#index === 0) this.#flushStage();
  }

  #padding(size: number): void {
    const at = this.#stage(FRAME_HEADER);
    this.#header.setUint32(at, size - FRAME_HEADER, true);
    this.#header.setUint32(at + 4, FrameType.Padding, true);
    // The padding's body is never read; only its header is written.
    this.#flushStage();
    this.#moveTail(size);
    this.#stageStart = this.#index;
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
      const index = this.#index;
      this.#half.region.write(this.#half.ring + index + FRAME_HEADER + prefix, data, from, length);
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
    h.setUint32(at + 4, type, true);
    if (total >= 0) {
      h.setUint32(at + FRAME_HEADER, total, true);
      h.setUint32(at + FRAME_HEADER + 4, 0, true);
    }
  }
}
