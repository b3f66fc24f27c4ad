import { binding, type KernelEventHandle } from './binding';
import { ShmError } from './errors';
import { toOsName } from './names';
import { EVENT_PREFIX, type EventBackend, type EventImpl } from './sync-backend';

// NamedEvent on Windows: a named event kernel object ("Local\shmlink.ev.<name>", owner-only), the
// seeds' EventWaitHandle itself. waitAsync runs on a native thread of the handle: decisions §32.

class KernelEvent implements EventImpl {
  readonly name: string;
  #handle: KernelEventHandle;

  constructor(name: string, handle: KernelEventHandle) {
    this.name = name;
    this.#handle = handle;
  }

  get manualReset(): boolean {
    return this.#handle.manualReset;
  }

  get isSet(): boolean {
    return this.#handle.isSet();
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  set(): void {
    this.#handle.set();
  }

  reset(): void {
    this.#handle.reset();
  }

  wait(timeoutMs: number): boolean {
    return this.#handle.wait(timeoutMs);
  }

  async waitAsync(timeoutMs: number): Promise<boolean> {
    const outcome = await this.#handle.waitAsync(timeoutMs);
    if (outcome === 'closed') throw new ShmError('ERR_CLOSED', `named event '${this.name}' was closed while waitAsync waited`);
    return outcome === 'signaled';
  }

  close(): void {
    this.#handle.close();
  }
}

/** The addon's kernel event class; ERR_UNSUPPORTED_PLATFORM where the addon has none (not Windows). */
export function kernelEventClass(): NonNullable<typeof binding.KernelEvent> {
  if (binding.KernelEvent === undefined) {
    throw new ShmError('ERR_UNSUPPORTED_PLATFORM', `named events on kernel objects exist on Windows only, not on ${process.platform}`);
  }
  return binding.KernelEvent;
}

export const kernelEvents: EventBackend = {
  createOrOpen(name, options) {
    const Event = kernelEventClass();
    const osName = toOsName(name, EVENT_PREFIX);
    return new KernelEvent(name, new Event(osName, true, options.manualReset === true, options.initialState === true));
  },
  open(name) {
    const Event = kernelEventClass();
    return new KernelEvent(name, new Event(toOsName(name, EVENT_PREFIX), false, false, false));
  },
  // A kernel object has no name apart from its handles: it vanishes with the last one. There is
  // nothing to remove, ever (decisions §32).
  unlink(name) {
    toOsName(name, EVENT_PREFIX);
    return false;
  },
};
