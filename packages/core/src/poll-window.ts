/**
 * How long the event reader keeps polling the ring after a batch before it sleeps on the doorbell.
 *
 * A short window (`base`) after every batch catches replies that follow closely at little CPU
 * cost. While the stream is dense — nearly every batch arrives within `base` of the one before, as
 * in a ping-pong or a busy feed — the window widens to `busy`: there a gap longer than `base` is
 * almost always the peer being preempted or collecting garbage for a millisecond or two, and
 * sleeping through it costs a doorbell wake-up, which on a VM whose idle vCPU halted is several
 * hundred microseconds (docs/decisions.md §13). A sparse stream (periodic messages further apart
 * than `base`) never counts as dense, so it never pays for the wide window. Sending restarts the
 * window too: a reply is likeliest right after a request, even when the request left late.
 */
export class PollWindow {
  readonly #baseMs: number;
  readonly #busyMs: number;
  /** Moving average of "this batch came within `base` of the last one" (1) or not (0). */
  #density = 0;
  #last = -Infinity;

  /** `baseUs` and `busyUs` in microseconds; `busyUs` below `baseUs` acts as `baseUs`. */
  constructor(baseUs: number, busyUs: number) {
    this.#baseMs = baseUs / 1000;
    this.#busyMs = Math.max(baseUs, busyUs) / 1000;
  }

  /** Records that a batch arrived at `now` (ms, performance.now()). */
  arrived(now: number): void {
    const hit = now - this.#last < this.#baseMs ? 1 : 0;
    this.#density += (hit - this.#density) * SMOOTHING;
    this.#last = now;
  }

  /** Records that this side sent at `now`: a reply may follow, so the window restarts. */
  sent(now: number): void {
    if (now > this.#last) this.#last = now;
  }

  /** Whether the reader should poll again rather than sleep at `now`. */
  shouldPoll(now: number): boolean {
    const window = this.#density >= DENSE ? this.#busyMs : this.#baseMs;
    return now - this.#last < window;
  }

  /** Whether the stream currently counts as dense (for tests and diagnostics). */
  get dense(): boolean {
    return this.#density >= DENSE;
  }
}

// About the last 20 batches decide, and half of them within `base` make the stream dense: misses
// come in clusters (a halted vCPU's slow wake delays the next few replies too), and a stricter
// threshold dropped back to the narrow window in exactly those clusters (p99 250 µs against 50 µs
// at 0.5 in 20,000 round trips). A periodic stream slower than `base` scores 0.
const SMOOTHING = 0.05;
const DENSE = 0.5;
