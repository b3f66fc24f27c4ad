import { ShmError } from '@shmlink/native';
import type { Outbound, RingFramer } from './framer';
import type { WaitStrategy } from './wait-strategy';

interface PendingWrite extends Outbound {
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Resolved (or returned from writeSync) while kept for a possible resend: `data` is a copy then. */
  settled: boolean;
}

export interface SendQueueOptions {
  /** Rejects a write with ERR_TIMEOUT when it cannot be committed within this many ms. */
  timeoutMs: number;
  /** How long one sleep for space lasts before deadlines are checked again (ms). */
  sleepSliceMs: number;
  /** Where the pump waits for space: the producer's wait strategy of this half. */
  space: WaitStrategy;
  /** Told of each message queued by enqueueSend() that failed (it has no Promise to reject). */
  onSendFailure: (error: Error) => void;
  /** Called once the queue has emptied after wantDrain(). */
  onDrain: () => void;
}

function noop(): void {}

function openGroup(): WriteGroup {
  let resolve = noop;
  let reject: (err: Error) => void = noop;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The write() calls of one tick whose messages went straight into the ring (see SendQueue.enqueue):
 * framed, and published together by the next commit, so they share its outcome and one Promise.
 */
interface WriteGroup {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The messages waiting to be framed, kept apart from the framing itself as Node's WritableState
 * keeps its buffer apart from the transport: call order, deadlines, withdrawal, the drain signal,
 * and the pump that commits everything queued in the same tick together, waiting for space when
 * the ring is full.
 */
export class SendQueue {
  readonly #framer: RingFramer;
  readonly #options: SendQueueOptions;
  #queue: PendingWrite[] = [];
  #queueHead = 0;
  #totalQueued = 0;
  /** Bytes of the queued messages not yet committed. */
  #pendingBytes = 0;
  #drainWanted = false;
  #scheduled = false;
  #pumping = false;
  #closed = false;
  /** The consumer's head when the poll window for space last restarted. */
  #lastHead = -1;
  /** Inside #begin(): a write() from an 'error' listener the framer calls is queued. */
  #beginning = false;
  /** The open group of write() calls sharing a Promise; closed by the next commit. */
  #group: WriteGroup | undefined;

  constructor(framer: RingFramer, options: SendQueueOptions) {
    this.#framer = framer;
    this.#options = options;
  }

  /** How many messages were ever queued: lets the reader tell that this side just sent. */
  get totalQueued(): number {
    return this.#totalQueued;
  }

  /** Messages queued and not yet committed (or failed). */
  get pending(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Bytes queued and not yet committed (or failed). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The consumer's head as the last commit saw it: what a wait for space must compare with. */
  get seenHead(): number {
    return this.#framer.seenHead;
  }

  /** Whether the consumer moved its head since it was `head`: space may have come free. */
  headMoved(head: number): boolean {
    return this.#framer.headMoved(head);
  }

  /** Asks for onDrain() once everything queued so far has left the queue. */
  wantDrain(): void {
    this.#drainWanted = true;
  }

  /**
   * Queues a message for write(). While nothing waits in the queue, a message that fits one frame
   * and the free ring is framed at once, straight into the ring (RingFramer.putWhole), and the
   * commit at the end of the tick only publishes the tail: no record per message, and the framing
   * of a tick's writes runs back to back (docs/decisions.md). Such writes of one tick are published
   * together, so they share one Promise. A message that does not fit, and every one after it while
   * the queue holds anything, is queued with a Promise of its own: it keeps its own outcome
   * (timeout, dispose) whatever its neighbours do.
   */
  enqueue(data: Uint8Array): Promise<void> {
    if (this.#frameNow(data)) return (this.#group ??= openGroup()).promise;
    return new Promise<void>((resolve, reject) => {
      this.#push(data, resolve, reject);
      this.#schedule();
    });
  }

  /** Queues a message without a Promise (send()): a failure goes to onSendFailure. */
  enqueueSend(data: Uint8Array): void {
    if (this.#frameNow(data)) return;
    this.#push(data, noop, this.#options.onSendFailure);
    this.#schedule();
  }

  /**
   * Frames `data` into the ring now, when the queue is empty (order) and it fits. For write() and
   * send() (`windowed`: they keep the in-flight window) the commit that publishes it is scheduled
   * for the end of the tick; writeSync publishes at once (trySync). The head is read again once
   * before giving up: the consumer may have freed space since the commit began.
   */
  #frameNow(data: Uint8Array, windowed = true): boolean {
    if (this.#queueHead !== this.#queue.length || this.#closed || this.#beginning) return false;
    const framer = this.#framer;
    if (!framer.open) {
      this.#begin(windowed);
      if (windowed) this.#schedule();
    }
    if (!framer.putWhole(data)) {
      // Also measures a commit write() opened this tick again without the window, for writeSync.
      this.#begin(windowed);
      if (!framer.putWhole(data)) return false;
    }
    this.#totalQueued++;
    return true;
  }

  /**
   * framer.begin() from write(): a bad head it finds is reported at once ('error'), and a write
   * made by that listener is queued behind the one being made, as it was before write() framed.
   */
  #begin(windowed = true): void {
    this.#beginning = true;
    try {
      // write() and send() keep the in-flight window for large messages (framer.ts); writeSync
      // commits what the ring takes.
      this.#framer.begin(windowed);
    } finally {
      this.#beginning = false;
    }
  }

  /**
   * writeSync()'s fast path: frames a message that fits one frame and the free ring straight into
   * it when nothing is queued before it (order), and publishes it at once with whatever write() and
   * send() framed this tick (the commit settles their group as the pump would) — no queue record,
   * no search for it afterwards. Returns false otherwise, having framed nothing: the caller then
   * queues it (enqueueSync + flushSync), and that commit ends a commit begun here.
   */
  trySync(data: Uint8Array): boolean {
    if (!this.#frameNow(data, false)) return false;
    this.#commit(false);
    return true;
  }

  /**
   * Queues a message for a caller that commits it itself with flushSync() (writeSync): no Promise,
   * no scheduled pump — the synchronous path's cost is the copy and the cursor store.
   */
  enqueueSync(data: Uint8Array, onFailure: (err: Error) => void): void {
    this.#push(data, noop, onFailure);
  }

  #schedule(): void {
    if (!this.#scheduled && !this.#pumping) {
      this.#scheduled = true;
      queueMicrotask(() => this.#pump());
    }
  }

  #push(data: Uint8Array, resolve: () => void, reject: (err: Error) => void): PendingWrite {
    const timeout = this.#options.timeoutMs;
    this.#totalQueued++;
    this.#pendingBytes += data.length;
    const w: PendingWrite = { data, sent: 0, begin: -1, end: -1, deadline: timeout === Infinity ? Infinity : performance.now() + timeout, resolve, reject, settled: false };
    this.#queue.push(w);
    return w;
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

  /**
   * Commits what fits now, in order, without waiting; returns whether the message queued with
   * `data` (by enqueueSync) is in the ring whole. One kept for a possible resend (a fragmented
   * message not yet confirmed) is copied first, as the caller may reuse `data` once this returns.
   */
  flushSync(data: Uint8Array): boolean {
    this.#commit(false);
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (w.data !== data) continue;
      if (w.sent < data.length) return false;
      this.#keep(w);
      return true;
    }
    return true;
  }

  async #pump(): Promise<void> {
    this.#scheduled = false;
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      // Also with nothing queued while frames framed at once wait to be published.
      while (!this.#closed && (this.pending > 0 || this.#framer.open)) {
        this.#commit(true);
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

  /** Polls or sleeps until the consumer frees space, a deadline nears, or the queue closes. */
  #waitForSpace(): Promise<void> {
    const framer = this.#framer;
    // Compare with the head the commit found too small, not a fresh one: space freed since then
    // would otherwise go unnoticed, and the sleep would last the whole slice.
    const head = framer.seenHead;
    const space = this.#options.space;
    const now = performance.now();
    // While the consumer was freeing space a moment ago, poll from the event loop instead of
    // paying a doorbell wake-up (see the Communicator's `poll`).
    if (head !== this.#lastHead) {
      this.#lastHead = head;
      space.window.arrived(now);
    }
    const first = this.#queue[this.#queueHead];
    const untilDeadline = first === undefined ? Infinity : first.deadline - now;
    return space.wait(
      () => framer.headMoved(head),
      Math.max(0, Math.min(untilDeadline, this.#options.sleepSliceMs)),
      () => !this.#closed,
      now,
    );
  }

  /**
   * Rejects queued writes whose deadline passed. A message already begun is abandoned too, or a
   * message larger than the free ring would wait forever despite its timeout: its fragments stay
   * in the ring unfinished, and the consumer discards them at the next BEGIN or MESSAGE frame.
   * A message in the ring whole (only ever the first: it holds back the rest) is committed: it
   * resolves and stays kept for a possible resend.
   *
   * Every write gets the same timeout, so deadlines grow in queue order and the expired writes are
   * a run at the front: the cost is that run, not the queue — the pump calls this each time it
   * waits for space, which over a whole queue was quadratic in the writes queued before an await.
   */
  #expire(): void {
    const queue = this.#queue;
    const first = queue[this.#queueHead];
    if (first === undefined) return;
    const held = first.sent === first.data.length && first.begin >= 0;
    if (held) this.#keep(first);
    const start = held ? this.#queueHead + 1 : this.#queueHead;
    const now = performance.now();
    let end = start;
    for (; end < queue.length && now >= queue[end]!.deadline; end++) {
      const w = queue[end]!;
      this.#pendingBytes -= w.data.length;
      w.reject(new ShmError('ERR_TIMEOUT', `write of ${w.data.length} bytes not committed within ${this.#options.timeoutMs} ms: the reader is not consuming`));
    }
    if (end === start) return;
    // The held message moves up to stand just before the writes still waiting.
    this.#queueHead = held ? end - 1 : end;
    if (held) queue[end - 1] = first;
    if (this.#queueHead === queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    this.#drainIfEmpty();
  }

  #failAll(err: Error): void {
    this.#takeGroup()?.reject(err);
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#queue[i]!.reject(err);
    this.#queue = [];
    this.#queueHead = 0;
    this.#pendingBytes = 0;
  }

  /**
   * Rejects every queued write with ERR_CLOSED after committing what fits; stops the pump. A
   * message in the ring whole resolves: it is committed, and only a resend is given up.
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.#commit(false);
    } catch {
      // the region may already be unusable; whatever is left is rejected below
    }
    this.#closed = true;
    const first = this.#queue[this.#queueHead];
    if (first !== undefined && first.sent === first.data.length) {
      this.#settle(first);
      this.#queueHead++;
    }
    this.#failAll(new ShmError('ERR_CLOSED', 'the communicator was disposed before this write was committed'));
  }

  /** Resolves a message the ring holds whole, once. */
  #settle(w: PendingWrite): void {
    if (w.settled) return;
    w.settled = true;
    w.resolve();
  }

  /** Resolves a fragmented message before it is confirmed, keeping a copy in case it must be sent again. */
  #keep(w: PendingWrite): void {
    if (w.settled) return;
    w.data = Buffer.from(w.data);
    this.#settle(w);
  }

  /** The open group, which leaves this queue's hands. */
  #takeGroup(): WriteGroup | undefined {
    const group = this.#group;
    this.#group = undefined;
    return group;
  }

  /**
   * Publishes what write() and send() framed at once, then frames as many queued messages as the
   * free space allows, in order, and publishes them (see #frameQueued); the writes framed at once
   * share one outcome, settled after publishing. `windowed` (the pump's commits): a large message
   * also waits for the in-flight window (framer.ts, IN_FLIGHT_BYTES); writeSync and close() commit
   * whatever the ring takes.
   */
  #commit(windowed: boolean): void {
    // The writes framed straight into the ring are published by this commit: their group ends here.
    const group = this.#takeGroup();
    try {
      this.#frameQueued(windowed);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      group?.reject(error);
      this.#takeGroup()?.reject(error);
      throw err;
    }
    group?.resolve();
    // A write() made during this commit (by an 'error' listener the framer's head check called)
    // went into the ring while it was open, and this commit published it: its group is settled too.
    if (!this.#framer.open) this.#takeGroup()?.resolve();
    this.#drainIfEmpty();
  }

  /**
   * Frames as many queued messages as the free space allows, in order, and publishes them with
   * whatever was framed at once before (the framer's commit already begun goes on).
   *
   * A fragmented message that its reader had begun before it was framed whole (it was larger than
   * the free ring, so the reader gave back the space of its first fragments) stays at the queue's
   * head, holding back the messages behind it, until the consumer's head passes its end: if that
   * reader goes away in the middle, the next one finds the rest without a BEGIN and asks for it
   * again (docs/protocol.md §6), and it goes out again whole. Its write() resolves once it is
   * confirmed so. One framed whole before any reader began it needs none of this: a reader keeps
   * its head at the BEGIN of a message it holds in part while the rest is in the ring.
   */
  #frameQueued(windowed: boolean): void {
    const framer = this.#framer;
    const queue = this.#queue;
    let done = this.#queueHead;
    for (let again = true; again; ) {
      again = false;
      let whole: PendingWrite | undefined;
      framer.begin(windowed);
      while (this.#queueHead < queue.length) {
        const w = queue[this.#queueHead]!;
        if (w.begin >= 0 && w.sent === w.data.length) {
          const verdict = framer.confirm(w);
          if (verdict === 'pending') break;
          if (verdict === 'confirmed') {
            this.#queueHead++;
            continue;
          }
          this.#pendingBytes += w.data.length; // to be sent again
        }
        if (!framer.put(w)) break;
        this.#pendingBytes -= w.data.length;
        if (w.begin >= 0) {
          whole = w;
          break;
        }
        this.#queueHead++;
      }
      framer.end();
      if (whole !== undefined) {
        // Kept only if its reader had begun it; otherwise the next messages follow at once.
        framer.refreshHead();
        if (!framer.started(whole)) {
          this.#queueHead++;
          again = this.#queueHead < queue.length;
        } else {
          // Begun, so kept until confirmed: ask at once. The head just read may already be past
          // its end, and the consumer then stores no other: a wait for the head to move from
          // there slept until its slice ran out (250 ms a message, with poll 0).
          again = true;
        }
      }
    }
    const committed = this.#queueHead;
    if (committed === queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    // Settled after publishing, so that a caller awaiting write() finds its message in the ring.
    for (; done < committed; done++) this.#settle(queue[done]!);
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
}
