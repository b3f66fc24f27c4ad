import { initializeHeader } from './header';
import { Region, assertMayBlock, openPrefixed, unlinkPrefixed } from './region';
import { checkOptions, checkTimeout } from './validate';
import { driveAsync, driveBlocking, type WaitStep } from './wait-steps';

// The object's layout and the set / reset / wait protocol: docs/protocol.md, section "Named event".
const MAGIC = 0x56454c53;
const VERSION = 1;
const STATE = 8;
const FLAGS = 12;
const SIZE = 64;
export const EVENT_PREFIX = 'shmlink.ev.';

export interface NamedEventOptions {
  /** Manual-reset events stay set until reset() and release every waiter; auto-reset (default) release one. */
  manualReset?: boolean;
  /** Start in the set state (only when this call creates the event). */
  initialState?: boolean;
}

/**
 * A cross-process event like Windows' named events. An idle waiter sleeps in the kernel (futex on
 * Linux) and costs no CPU. Stored as a small shared-memory object named "shmlink.ev.<name>".
 */
export class NamedEvent {
  readonly name: string;
  readonly manualReset: boolean;
  #region: Region;

  private constructor(name: string, region: Region) {
    this.name = name;
    this.#region = region;
    this.manualReset = (region.load(FLAGS) & 1) === 1;
  }

  static createOrOpen(name: string, options?: NamedEventOptions): NamedEvent {
    const opts = checkOptions<NamedEventOptions>(options, 'options', ['manualReset', 'initialState']);
    const region = openPrefixed(EVENT_PREFIX, name, 'createOrOpen', SIZE);
    try {
      initializeHeader(region, { what: 'named event', magic: MAGIC, version: VERSION, magicOffset: 0, versionOffset: 4 }, () => {
        region.store(FLAGS, opts.manualReset === true ? 1 : 0);
        region.store(STATE, opts.initialState === true ? 1 : 0);
      });
    } catch (err) {
      region.close();
      throw err;
    }
    return new NamedEvent(name, region);
  }

  static open(name: string): NamedEvent {
    const region = openPrefixed(EVENT_PREFIX, name, 'open', SIZE);
    try {
      initializeHeader(region, { what: 'named event', magic: MAGIC, version: VERSION, magicOffset: 0, versionOffset: 4 }, () => {});
    } catch (err) {
      region.close();
      throw err;
    }
    return new NamedEvent(name, region);
  }

  /** Removes the event's name; handles already open keep working. */
  static unlink(name: string): boolean {
    return unlinkPrefixed(EVENT_PREFIX, name);
  }

  /** Signals the event: wakes every waiter (manual reset) or one (auto reset). */
  set(): void {
    this.#region.store(STATE, 1);
    this.#region.notify(STATE, this.manualReset ? Infinity : 1);
  }

  reset(): void {
    this.#region.store(STATE, 0);
  }

  get isSet(): boolean {
    return this.#region.load(STATE) === 1;
  }

  /** Consumes the signal if there is one (auto reset) or observes it (manual reset). */
  #take(): boolean {
    if (this.manualReset) return this.#region.load(STATE) === 1;
    return this.#region.compareExchange(STATE, 1, 0) === 1;
  }

  /** Waits until set; true when signalled, false on timeout. Blocks: worker threads only. */
  wait(timeoutMs?: number): boolean {
    assertMayBlock('NamedEvent.wait()');
    return driveBlocking(this.#region, this.#waitSteps(checkTimeout(timeoutMs)));
  }

  /** Waits without blocking the event loop; resolves true when signalled, false on timeout. */
  async waitAsync(timeoutMs?: number): Promise<boolean> {
    return driveAsync(this.#region, this.#waitSteps(checkTimeout(timeoutMs)));
  }

  *#waitSteps(timeout: number): Generator<WaitStep, boolean> {
    const deadline = performance.now() + timeout;
    for (;;) {
      if (this.#take()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      yield { offset: STATE, expected: 0, timeoutMs: left };
    }
  }

  get closed(): boolean {
    return this.#region.closed;
  }

  /** Closes this handle; pending waitAsync calls reject ERR_CLOSED. The name stays until unlink(). */
  close(): void {
    this.#region.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
