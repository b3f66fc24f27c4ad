import { isAlive, type Half, type PartyInfo } from './half';
import { PRODUCER, PartyState } from './ring-descriptor';

export type PeerEventType = 'connected' | 'disconnected' | 'died' | 'restarted';

export interface PeerEvent {
  type: PeerEventType;
  /** The peer's process id (for 'died' and 'disconnected', the one that went away). */
  pid: number;
}

type Seen = { kind: 'absent' } | { kind: 'present'; info: PartyInfo } | { kind: 'gone'; died: boolean };

/**
 * Watches the other side through the half it writes: its producer slot holds its pid, start time,
 * state and an epoch that grows at every attach. Comparing snapshots yields the peer events.
 */
export class PeerWatcher {
  readonly #half: Half;
  readonly #livenessIntervalMs: number;
  #seen: Seen = { kind: 'absent' };
  /** When the OS was last asked whether the peer's pid lives (performance.now()). */
  #lastLivenessCheck = -Infinity;

  /** `livenessIntervalMs`: how often check() asks the OS whether the peer lives (peerCheckInterval). */
  constructor(half: Half, livenessIntervalMs: number) {
    this.#half = half;
    this.#livenessIntervalMs = livenessIntervalMs;
  }

  /** The peer's pid while it is attached and alive. */
  get pid(): number | null {
    return this.#seen.kind === 'present' ? this.#seen.info.pid : null;
  }

  /**
   * Compares the slot with what was seen last; also asks the OS whether the pid lives when `force`
   * or once the liveness interval has passed since it last did (a slot read is cheap, a liveness
   * check a system call).
   */
  check(force: boolean): PeerEvent[] {
    const now = performance.now();
    const checkLiveness = force || now - this.#lastLivenessCheck >= this.#livenessIntervalMs;
    if (checkLiveness) this.#lastLivenessCheck = now;
    const info = this.#half.readParty(PRODUCER);
    const seen = this.#seen;
    const events: PeerEvent[] = [];
    const attached = info.state === PartyState.Attached && info.pid !== 0 && info.pid !== process.pid;

    if (seen.kind === 'present') {
      const same = info.pid === seen.info.pid && info.epoch === seen.info.epoch;
      if (!same) {
        // A new attach since we looked: the previous incarnation is gone.
        if (attached && isAlive(info.pid, info.startTime)) {
          if (!isAlive(seen.info.pid, seen.info.startTime)) events.push({ type: 'died', pid: seen.info.pid });
          events.push({ type: 'restarted', pid: info.pid });
          this.#seen = { kind: 'present', info };
        } else {
          events.push({ type: 'disconnected', pid: seen.info.pid });
          this.#seen = { kind: 'gone', died: false };
        }
      } else if (info.state === PartyState.Left) {
        events.push({ type: 'disconnected', pid: seen.info.pid });
        this.#seen = { kind: 'gone', died: false };
      } else if (checkLiveness && !isAlive(info.pid, info.startTime)) {
        events.push({ type: 'died', pid: seen.info.pid });
        this.#seen = { kind: 'gone', died: true };
      }
      return events;
    }

    if (attached && isAlive(info.pid, info.startTime)) {
      const restarted = seen.kind === 'gone' && seen.died;
      events.push({ type: restarted ? 'restarted' : 'connected', pid: info.pid });
      this.#seen = { kind: 'present', info };
    }
    return events;
  }
}
