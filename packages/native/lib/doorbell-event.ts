import type { KernelEventHandle } from './binding';
import type { BellSource, Ringer } from './doorbell';
import { kernelEventClass } from './named-event-kernel';

// The Windows doorbell: a named auto-reset event ("Local\shmlink.bell.<channel>@<key>", owner-only),
// which the ringer sets and a native thread of the listener's handle waits on, settling on the
// event loop (src/kernel_sync_win32.cc). Windows has no FIFO; an event wakes the loop through that
// thread — one more hop than Linux's epoll. The set state is kept by the kernel until a wait takes
// it, so a ring that lands while no wait is armed wakes the next one at once (a spurious wake,
// which the sleeper's re-check absorbs), never a lost one.

// A kernel wait is armed only while a doorbell wait is pending, in slices of this length, so that an
// idle listener lets the process exit within a slice (close() ends an armed wait at once).
const ARM_SLICE_MS = 1000;

/** The object name of doorbell `key` of channel `channel` (the addon maps the leading slash to "Local\"). */
export function eventName(channel: string, key: number): string {
  return `/shmlink.bell.${channel}@${key}`;
}

export class EventSource implements BellSource {
  readonly path: string;
  readonly #event: KernelEventHandle;
  readonly #onRing: () => void;
  #armed = false;
  #wanted = false;
  #closed = false;

  constructor(name: string, onRing: () => void) {
    this.path = name;
    this.#event = new (kernelEventClass())(name, true, false, false);
    this.#onRing = onRing;
  }

  listen(): void {
    this.#wanted = true;
    this.#arm();
  }

  idle(): void {
    this.#wanted = false;
  }

  #arm(): void {
    if (this.#armed || this.#closed) return;
    this.#armed = true;
    this.#event.waitAsync(ARM_SLICE_MS).then(
      (outcome) => {
        this.#armed = false;
        if (this.#closed) return;
        if (outcome === 'signaled') this.#onRing();
        else if (this.#wanted) this.#arm();
      },
      () => {
        this.#armed = false;
        this.#onRing();
      },
    );
  }

  close(): void {
    this.#closed = true;
    this.#event.close();
  }
}

/** The ringing end: opens the event at the first ring; no event means nobody listens. */
export class EventRinger implements Ringer {
  readonly path: string;
  #event: KernelEventHandle | undefined;

  constructor(name: string) {
    this.path = name;
  }

  ring(): void {
    if (this.#event === undefined) {
      try {
        this.#event = new (kernelEventClass())(this.path, false, false, false);
      } catch {
        return; // no listener: the sleeper is gone, and will re-check when it returns
      }
    }
    this.#event.set();
  }

  close(): void {
    this.#event?.close();
    this.#event = undefined;
  }
}
