/**
 * How long receiveSync() spins on the ring before it sleeps: adaptive, so that the fast path is the
 * default (docs/decisions.md §39).
 *
 * - Only while the stream is dense — most recent waits ended within `busy` µs, as in a
 *   request-reply exchange or a busy feed — does a wait spin beyond `base` µs (default 0): a futex
 *   sleep and wake-up costs tens of µs on a VM, several times a whole round trip. Once waits grow
 *   longer (the stream went quiet, or messages come further apart than `busy`) it sleeps at once:
 *   an idle or sparse receiver burns no CPU.
 * - How long a dense wait spins adapts as a TCP window does: it doubles (up to `busy`) after a spin
 *   that saw the data arrive and halves after one that ran out and slept. Spinning pays only when
 *   the peer runs on another core; where it needs this core (a loaded machine), a spinning receiver
 *   delays the very reply it waits for, its spins keep running out, and it soon sleeps at once
 *   again — spinning a short probe one wait in 16, to notice when a core comes free.
 * A wait that found data at once says nothing about the stream and is not reported.
 *
 * Pure: the caller measures and reports each wait; tested as a unit (spin-policy.test.ts).
 */
export class SpinPolicy {
  readonly #baseMs: number;
  readonly #busyMs: number;
  /** Moving average of "this wait ended within `busy`" (1) or not (0). */
  #density = 0;
  /** How long a dense wait spins now, between 0 and `busy`. */
  #budgetMs: number;
  /** Dense waits since the last probe, while the budget is below a probe. */
  #waitsSinceProbe = 0;

  /** `baseUs` and `busyUs` in microseconds; `busyUs` at or below `baseUs` turns adaptation off. */
  constructor(baseUs: number, busyUs: number) {
    this.#baseMs = baseUs / 1000;
    this.#busyMs = Math.max(baseUs, busyUs) / 1000;
    this.#budgetMs = this.#busyMs;
  }

  /** How long the next wait may spin before it sleeps, in ms. */
  spinMs(): number {
    if (this.#density < DENSE) return this.#baseMs;
    if (this.#budgetMs >= PROBE_MS) return Math.max(this.#baseMs, this.#budgetMs);
    // A budget that shrank to nothing probes with a short spin one wait in PROBE_EVERY: where
    // spinning takes the peer's core, a probe on every wait added its length to each round trip.
    this.#waitsSinceProbe++;
    if (this.#waitsSinceProbe < PROBE_EVERY) return this.#baseMs;
    this.#waitsSinceProbe = 0;
    return Math.max(this.#baseMs, PROBE_MS);
  }

  /**
   * Records a wait that spun up to `spunMs` (what spinMs() said) and lasted `waitedMs` until data
   * arrived (or gave up: a timeout counts as long).
   */
  waited(waitedMs: number, spunMs: number): void {
    const hit = waitedMs <= this.#busyMs ? 1 : 0;
    this.#density += (hit - this.#density) * SMOOTHING;
    if (spunMs <= this.#baseMs) return;
    if (waitedMs <= spunMs) this.#budgetMs = Math.min(this.#busyMs, Math.max(this.#budgetMs, PROBE_MS / 2) * 2);
    else this.#budgetMs /= 2;
  }

  /** Whether the stream currently counts as dense (for tests and diagnostics). */
  get dense(): boolean {
    return this.#density >= DENSE;
  }
}

// As the poll window's (poll-window.ts): about the last 20 waits decide, half of them short make the
// stream dense. From a cold start a ping-pong is dense after 14 short waits; a stream that stops
// spins at most once more, then each further wait — every peerCheckInterval while idle — counts
// as long, and after 14 of them the receiver no longer spins at all.
const SMOOTHING = 0.05;
const DENSE = 0.5;
/** The shortest spin of a dense wait (ms): what a budget that shrank below it tries. */
const PROBE_MS = 0.02;
/** A budget below a probe spins one wait in this many. */
const PROBE_EVERY = 16;
