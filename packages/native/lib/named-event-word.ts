import { initializeHeader } from './header';
import { Region, openPrefixed, unlinkPrefixed } from './region';
import { EVENT_PREFIX, type EventBackend, type EventImpl, type NamedEventOptions } from './sync-backend';
import { driveAsync, driveBlocking, type WaitStep } from './wait-steps';

// NamedEvent as words in a small shared-memory object (every platform but Windows); an idle
// waiter sleeps on the state word (futex on Linux). The object's layout and the set / reset / wait
// protocol: docs/protocol.md, section "Named event".
const MAGIC = 0x56454c53;
const VERSION = 1;
const STATE = 8;
const FLAGS = 12;
const SIZE = 64;
const HEADER = { what: 'named event', magic: MAGIC, version: VERSION, magicOffset: 0, versionOffset: 4 };

class WordEvent implements EventImpl {
  readonly manualReset: boolean;
  #region: Region;

  constructor(region: Region) {
    this.#region = region;
    this.manualReset = (region.load(FLAGS) & 1) === 1;
  }

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

  wait(timeoutMs: number): boolean {
    return driveBlocking(this.#region, this.#waitSteps(timeoutMs));
  }

  async waitAsync(timeoutMs: number): Promise<boolean> {
    return driveAsync(this.#region, this.#waitSteps(timeoutMs));
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

  close(): void {
    this.#region.close();
  }
}

function wrap(region: Region, init: () => void): WordEvent {
  try {
    initializeHeader(region, HEADER, init);
  } catch (err) {
    region.close();
    throw err;
  }
  return new WordEvent(region);
}

export const wordEvents: EventBackend = {
  createOrOpen(name, options: NamedEventOptions) {
    const region = openPrefixed(EVENT_PREFIX, name, 'createOrOpen', SIZE);
    return wrap(region, () => {
      region.store(FLAGS, options.manualReset === true ? 1 : 0);
      region.store(STATE, options.initialState === true ? 1 : 0);
    });
  },
  open(name) {
    return wrap(openPrefixed(EVENT_PREFIX, name, 'open', SIZE), () => {});
  },
  unlink(name) {
    return unlinkPrefixed(EVENT_PREFIX, name);
  },
};
