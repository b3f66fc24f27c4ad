import type { Doorbell } from '@shmlink/native/internal';
import type { Half } from './half';
import { CONSUMER_SLEEPING_OFFSET, HEAD_OFFSET, PRODUCER_WAITING_OFFSET, Sleep, TAIL_OFFSET } from './ring-descriptor';
import type { PollWindow } from './poll-window';

/** Who waits: the consumer for data (on the tail), or the producer for space (on the head). */
export type WaitRole = 'consumer' | 'producer';

const WORDS: Record<WaitRole, { flag: number; word: number }> = {
  consumer: { flag: CONSUMER_SLEEPING_OFFSET, word: TAIL_OFFSET },
  producer: { flag: PRODUCER_WAITING_OFFSET, word: HEAD_OFFSET },
};

export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * How one side waits for the other, written once for every caller (as the LMAX Disruptor's
 * WaitStrategy): spin, or poll from the event loop while a poll window is open, then sleep — on the
 * futex of the cursor word when a thread may block, on the doorbell when an event loop waits.
 * Sleeping follows the handshake of docs/protocol.md §4: announce how to be woken in the flag,
 * re-check the condition (a peer that published just before the announcement woke nobody), sleep,
 * and clear the flag on waking. The waker side is Half.wakeIfSleeping.
 */
export class WaitStrategy {
  readonly #half: Half;
  readonly #flag: number;
  readonly #word: number;
  readonly #doorbell: Doorbell;
  readonly #window: PollWindow;

  /** `window` decides how long the event-loop side polls before it sleeps on `doorbell`. */
  constructor(half: Half, role: WaitRole, doorbell: Doorbell, window: PollWindow) {
    this.#half = half;
    this.#flag = WORDS[role].flag;
    this.#word = WORDS[role].word;
    this.#doorbell = doorbell;
    this.#window = window;
  }

  get window(): PollWindow {
    return this.#window;
  }

  /**
   * Blocks the thread until `ready()`: spins for `spinMs`, then sleeps on the futex while the
   * cursor word still holds `expected`, up to `timeoutMs` in all. Returns whether `ready()` held;
   * the caller re-checks its own state either way (a futex wakes spuriously).
   */
  waitSync(ready: () => boolean, expected: number, timeoutMs: number, spinMs = 0): boolean {
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
    if (!wasReady && timeoutMs > 0) half.region.wait(half.base + this.#word, expected, timeoutMs);
    half.store(this.#flag, Sleep.Awake);
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
    const half = this.#half;
    half.store(this.#flag, Sleep.Doorbell);
    if (ready()) {
      half.store(this.#flag, Sleep.Awake);
      return;
    }
    await this.#doorbell.wait(timeoutMs);
    if (live()) half.store(this.#flag, Sleep.Awake);
  }
}
