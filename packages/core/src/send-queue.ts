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

const EMPTY = new Uint8Array(0);

/**
 * Writes made in the same tick that share one Promise (see SendQueue.enqueue): only writes sure to
 * be committed together, by one commit, so that they all have the same outcome. The last member
 * settles the Promise; the others' resolve and reject are no-ops.
 */
interface WriteGroup {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  last: PendingWrite | undefined;
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
  /** The open group of write() calls sharing a Promise; closed by the next commit. */
  #group: WriteGroup | undefined;
  /** What trySync() frames: one record reused, as nothing of it outlives the call. */
  readonly #direct: Outbound = { data: EMPTY, sent: 0, begin: -1, end: -1 };

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
   * Queues a message for write(). Writes made in the same tick share one Promise while the whole
   * queue is sure to go into the ring at the next commit (the queue was empty when the first of
   * them came, and the framer's plan says every frame fits the room there is now): they are then
   * committed together, so they succeed or fail together, and a Promise and two resolving
   * functions per message — live until the commit, which the garbage collector paid for when many
   * writes were queued before an await (docs/decisions.md) — become one per tick. A write that
   * may not fit gets a Promise of its own, as does every write after it in the tick.
   */
  enqueue(data: Uint8Array): Promise<void> {
    let group = this.#group;
    if (group === undefined && this.pending === 0) {
      this.#framer.plan();
      group = this.#openGroup();
    }
    if (group !== undefined && this.#framer.fits(data.length)) {
      const w = this.#push(data, group.resolve, group.reject);
      const previous = group.last;
      if (previous !== undefined) {
        previous.resolve = noop;
        previous.reject = noop;
      }
      group.last = w;
      this.#schedule();
      return group.promise;
    }
    this.#group = undefined;
    return new Promise<void>((resolve, reject) => {
      this.#push(data, resolve, reject);
      this.#schedule();
    });
  }

  #openGroup(): WriteGroup {
    let resolve = noop;
    let reject: (err: Error) => void = noop;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const group: WriteGroup = { promise, resolve, reject, last: undefined };
    this.#group = group;
    return group;
  }

  /** A message queued while a group is open must fit the plan too, or the group closes. */
  #planOther(data: Uint8Array): void {
    if (this.#group !== undefined && !this.#framer.fits(data.length)) this.#group = undefined;
  }

  /** Queues a message without a Promise (send()): a failure goes to onSendFailure. */
  enqueueSend(data: Uint8Array): void {
    this.#planOther(data);
    this.#push(data, noop, this.#options.onSendFailure);
    this.#schedule();
  }

  /**
   * Queues a message for a caller that commits it itself with flushSync() (writeSync): no Promise,
   * no scheduled pump — the synchronous path's cost is the copy and the cursor store.
   */
  enqueueSync(data: Uint8Array, onFailure: (err: Error) => void): void {
    this.#planOther(data);
    this.#push(data, noop, onFailure);
  }

  /**
   * writeSync()'s fast path: commits a message that fits one frame straight into the ring when
   * nothing is queued before it (order) and the ring has room for it now — no queue record, no
   * deadline, no search for it afterwards. Returns false, having framed nothing, otherwise: the
   * caller then queues it as usual (enqueueSync + flushSync).
   */
  trySync(data: Uint8Array): boolean {
    if (this.#queueHead !== this.#queue.length || this.#closed) return false;
    const framer = this.#framer;
    if (!framer.fitsFrame(data.length)) return false;
    // A commit: whatever comes next cannot count on the one before it (as #commit).
    this.#group = undefined;
    const w = this.#direct;
    w.data = data;
    w.sent = 0;
    framer.begin();
    const done = framer.put(w);
    framer.end();
    w.data = EMPTY; // not kept: the caller may reuse it
    if (done) this.#totalQueued++;
    return done;
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
    this.#commit();
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
    this.#group = undefined;
    try {
      this.#commit();
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

  /**
   * Frames as many queued messages as the free space allows, in order, and publishes them.
   *
   * A fragmented message that its reader had begun before it was framed whole (it was larger than
   * the free ring, so the reader gave back the space of its first fragments) stays at the queue's
   * head, holding back the messages behind it, until the consumer's head passes its end: if that
   * reader goes away in the middle, the next one finds the rest without a BEGIN and asks for it
   * again (docs/protocol.md §6), and it goes out again whole. Its write() resolves once it is
   * confirmed so. One framed whole before any reader began it needs none of this: a reader keeps
   * its head at the BEGIN of a message it holds in part while the rest is in the ring.
   */
  #commit(): void {
    // Whatever comes next cannot count on this commit: the tick's group ends here.
    this.#group = undefined;
    const framer = this.#framer;
    const queue = this.#queue;
    let done = this.#queueHead;
    for (let again = true; again; ) {
      again = false;
      let whole: PendingWrite | undefined;
      framer.begin();
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
}
