import { kernelEvents } from './named-event-kernel';
import { wordEvents } from './named-event-word';
import { assertMayBlock } from './region';
import type { EventImpl, NamedEventOptions } from './sync-backend';
import { checkOptions, checkTimeout } from './validate';

export type { NamedEventOptions } from './sync-backend';

// Windows has named events in the kernel (the seeds' EventWaitHandle); elsewhere the event is words
// in shared memory that a C program can share (docs/protocol.md). Decisions §32.
const backend = process.platform === 'win32' ? kernelEvents : wordEvents;

/**
 * A cross-process event like Windows' named events. An idle waiter sleeps in the kernel and costs
 * no CPU. On Linux a small shared-memory object named "shmlink.ev.<name>"; on Windows the named
 * event object "Local\shmlink.ev.<name>".
 */
export class NamedEvent {
  readonly name: string;
  #impl: EventImpl;

  private constructor(name: string, impl: EventImpl) {
    this.name = name;
    this.#impl = impl;
  }

  static createOrOpen(name: string, options?: NamedEventOptions): NamedEvent {
    const opts = checkOptions<NamedEventOptions>(options, 'options', ['manualReset', 'initialState']);
    return new NamedEvent(name, backend.createOrOpen(name, opts));
  }

  static open(name: string): NamedEvent {
    return new NamedEvent(name, backend.open(name));
  }

  /**
   * Removes the event's name; handles already open keep working. False when there was none
   * (always on Windows, where the event vanishes with its last handle: decisions §32).
   */
  static unlink(name: string): boolean {
    return backend.unlink(name);
  }

  /** Manual-reset events release every waiter and stay set until reset(); auto-reset ones release one. */
  get manualReset(): boolean {
    return this.#impl.manualReset;
  }

  /** Signals the event: wakes every waiter (manual reset) or one (auto reset). */
  set(): void {
    this.#impl.set();
  }

  reset(): void {
    this.#impl.reset();
  }

  get isSet(): boolean {
    return this.#impl.isSet;
  }

  /** Waits until set; true when signalled, false on timeout. Blocks: worker threads only. */
  wait(timeoutMs?: number): boolean {
    assertMayBlock('NamedEvent.wait()');
    return this.#impl.wait(checkTimeout(timeoutMs));
  }

  /** Waits without blocking the event loop; resolves true when signalled, false on timeout. */
  async waitAsync(timeoutMs?: number): Promise<boolean> {
    return this.#impl.waitAsync(checkTimeout(timeoutMs));
  }

  get closed(): boolean {
    return this.#impl.closed;
  }

  /**
   * Closes this handle; pending waitAsync calls reject ERR_CLOSED. The name stays until unlink()
   * (on Windows: until the last handle anywhere is closed).
   */
  close(): void {
    this.#impl.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
