import { ShmError } from '@shmlink/native';
import type { Doorbell } from '@shmlink/native/internal';
import type { Half } from './half';
import { CONSUMER_SLEEPING_OFFSET, PRODUCER_WAITING_OFFSET, Sleep } from './ring-descriptor';
import type { PollWindow } from './poll-window';

/** Who waits: the consumer for data (flag consumerSleeping), or the producer for space (producerWaiting). */
export type WaitRole = 'consumer' | 'producer';

const FLAGS: Record<WaitRole, number> = {
  consumer: CONSUMER_SLEEPING_OFFSET,
  producer: PRODUCER_WAITING_OFFSET,
};

const always = (): boolean => true;

export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * How one side waits for the other, written once for every caller (as the LMAX Disruptor's
 * WaitStrategy): spin, or poll from the event loop while a poll window is open, then sleep — on the
 * futex of the flag word when a thread may block, on the doorbell when an event loop waits.
 * Sleeping follows the handshake of docs/protocol.md §4: announce how to be woken in the flag,
 * re-check the condition (a peer that published just before the announcement woke nobody), sleep
 * only while the flag still holds the announcement, and clear the flag on waking. The waker side is
 * Half.wakeIfSleeping.
 */
export class WaitStrategy {
  readonly #half: Half;
  readonly #flag: number;
  readonly #doorbell: Doorbell | null;
  readonly #window: PollWindow;

  /**
   * `window` decides how long the event-loop side polls before it sleeps on `doorbell`; a thread
   * that only blocks (the reader thread of reader: 'worker') has no doorbell and never calls wait().
   */
  constructor(half: Half, role: WaitRole, doorbell: Doorbell | null, window: PollWindow) {
    this.#half = half;
    this.#flag = FLAGS[role];
    this.#doorbell = doorbell;
    this.#window = window;
  }

  get window(): PollWindow {
    return this.#window;
  }

  /**
   * Blocks the thread until `ready()`: spins for `spinMs`, then sleeps on the futex of the flag word
   * while it holds the announcement, up to `timeoutMs` in all. Returns whether `ready()` held; the
   * caller re-checks its own state either way (a wake may be spurious). `live()` says whether the
   * flag may still be cleared on waking (as for wait()).
   */
  waitSync(ready: () => boolean, timeoutMs: number, spinMs = 0, live: () => boolean = always): boolean {
    if (spinMs > 0) {
      const until = performance.now() + Math.min(spinMs, timeoutMs);
      do {
        if (ready()) return true;
      } while (performance.now() < until);
      timeoutMs -= spinMs;
    }
    const half = this.#half;
    half.store(this.#flag, Sleep.Futex);
    const wasReady = ready();
    // On the flag, not on the cursor: a waker swaps the flag to 0 before it wakes, so a wake that
    // lands between the re-check and the wait makes the wait return at once instead of being lost
    // (it was, on the cursor word, when the waker's check ran late: docs/decisions.md §23).
    if (!wasReady && timeoutMs > 0) half.region.wait(half.base + this.#flag, Sleep.Futex, timeoutMs);
    // `live()` false: the owner left the channel meanwhile, and the flag may be a new owner's.
    if (live()) half.store(this.#flag, Sleep.Awake);
    return wasReady;
  }

  /**
   * Waits without blocking the event loop: one event-loop turn while the poll window is open at
   * `now`, otherwise a sleep on the doorbell up to `timeoutMs` unless `ready()` after the
   * announcement. `live()` says whether the half may still be touched on waking (it is unmapped
   * once the communicator is disposed).
   */
  async wait(ready: () => boolean, timeoutMs: number, live: () => boolean, now = performance.now()): Promise<void> {
    if (this.#window.shouldPoll(now)) return nextTurn();
    const doorbell = this.#doorbell;
    if (doorbell === null) throw new ShmError('ERR_INVALID_STATE', 'this wait strategy has no doorbell to sleep on');
    const half = this.#half;
    half.store(this.#flag, Sleep.Doorbell);
    if (ready()) {
      half.store(this.#flag, Sleep.Awake);
      return;
    }
    await doorbell.wait(timeoutMs);
    if (live()) half.store(this.#flag, Sleep.Awake);
  }
}
