import { EventEmitter } from 'node:events';
import { ShmError } from '@shmlink/native';
import type { Attachment } from './attachment';
import { bytesCodec, type Codec } from './codecs';
import type { CommunicatorEvents } from './communicator';
import { nextTurn } from './wait-strategy';

// The reader copies about this much of the ring per batch (more only for one larger frame),
// bounding a batch's memory and the time it holds the event loop.
export const DRAIN_WINDOW = 128 * 1024;
/** Under a steady stream a reader lets the event loop run other work this often (ms): a timer's
 *  delay under a full-rate stream is about this plus one batch (1 ms since docs/decisions.md §43, 2 before). */
export const YIELD_EVERY_MS = 1;

export interface EventReaderOptions {
  /** The longest sleep (ms): the peer's liveness is checked at least this often (PeerWatcher). */
  peerCheckInterval: number;
  /** receive: 'view' — listeners get views of the ring, valid until they return. */
  lendViews: boolean;
}

/**
 * Decodes an incoming message with `codec`; a failure is reported to `emitter` as ERR_CORRUPT and
 * the message skipped (undefined).
 */
export function decodeMessage<T>(codec: Codec<T>, message: Buffer, emitter: EventEmitter<CommunicatorEvents<T>>): { value: T } | undefined {
  const decoded = tryDecode(codec, message);
  if ('value' in decoded) return decoded;
  emitter.emit('error', decoded.error);
  return undefined;
}

/** Decodes an incoming message with `codec`, or says why not (ERR_CORRUPT): for a thread with no emitter. */
export function tryDecode<T>(codec: Codec<T>, message: Buffer): { value: T } | { error: ShmError } {
  try {
    return { value: codec.decode(message) };
  } catch (cause) {
    return { error: new ShmError('ERR_CORRUPT', `message of ${message.length} bytes failed to decode: ${(cause as Error).message}`, { cause }) };
  }
}

/**
 * The own-property symbol under which Node's EventEmitter keeps an emitter's captureRejections
 * flag, found once on a throwaway emitter; undefined on a runtime that keeps it otherwise, which
 * turns the direct call below off.
 */
const CAPTURE: symbol | undefined = Object.getOwnPropertySymbols(new EventEmitter()).find((s) => s.description === 'kCapture');

type ListenerTable = { _events?: { data?: unknown } } & Record<symbol, unknown>;

/**
 * Emits a 'data' event; a listener that throws is reported as Node reports it, and the stream goes
 * on. A single listener is called directly: EventEmitter keeps it as the function itself in its
 * `_events` table, and emit() would spend a rest-argument array and its generic dispatch on every
 * message (docs/decisions.md §42). Several listeners, none, or captureRejections (which wraps a
 * listener's Promise) go through emit().
 */
export function emitData<T>(emitter: EventEmitter<CommunicatorEvents<T>>, value: T): void {
  try {
    const table = emitter as unknown as ListenerTable;
    const listener = table._events?.data;
    if (typeof listener === 'function' && CAPTURE !== undefined && table[CAPTURE] === false) {
      (listener as (this: unknown, value: T) => unknown).call(emitter, value);
    } else {
      emitter.emit('data', value);
    }
  } catch (err) {
    // A throwing listener is the application's bug: surface it as Node does, keep the stream going.
    process.nextTick(() => {
      throw err;
    });
  }
}

/**
 * The event side of receiving: a loop on the event loop that drains the ring in batches, emits
 * 'peer' events for what changed about the other side, delivers messages as 'data' events, polls
 * while traffic is dense and otherwise sleeps on the doorbell (the attachment's data wait).
 */
export class EventReader<T> {
  readonly #attachment: Attachment;
  readonly #emitter: EventEmitter<CommunicatorEvents<T>>;
  readonly #codec: Codec<T>;
  readonly #options: EventReaderOptions;
  /** Whether the owner is disposed: the region is unmapped then and must not be touched. */
  readonly #disposed: () => boolean;
  #running = false;
  #loop: Promise<void> | undefined;
  #generation = 0;

  constructor(attachment: Attachment, emitter: EventEmitter<CommunicatorEvents<T>>, codec: Codec<T>, options: EventReaderOptions, disposed: () => boolean) {
    this.#attachment = attachment;
    this.#emitter = emitter;
    this.#codec = codec;
    this.#options = options;
    this.#disposed = disposed;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // A loop stopped from inside a listener may still be delivering: it ends at its next check
    // (the generation changed) and hands over what it has not delivered; the new loop waits for it.
    this.#loop = this.#run(++this.#generation, this.#loop);
  }

  /** Stops the loop; resolves once it has stopped (what it did not deliver stays in the ring). */
  async stop(): Promise<void> {
    this.#running = false;
    const loop = this.#loop;
    if (loop !== undefined) {
      this.#attachment.doorbell.interrupt();
      await loop;
    }
  }

  /** Marks the loop stopped without waiting (dispose() closes the doorbell, which ends its sleep). */
  halt(): void {
    this.#running = false;
  }

  async #run(generation: number, previous: Promise<void> | undefined): Promise<void> {
    await previous;
    const { reader, writer, dataWait } = this.#attachment;
    const live = () => this.#running && !this.#disposed() && this.#generation === generation;
    let force = true;
    let lastYield = performance.now();
    const window = dataWait.window;
    const borrow = this.#options.lendViews;
    let queued = writer.totalQueued;
    const ready = () => reader.hasData() || this.#checkPeer(false);
    while (live()) {
      // Before the data, so that 'connected' precedes the first message of a new peer.
      this.#checkPeer(force);
      force = false;
      // A 'peer' listener may have disposed or stopped us (a deferred wake goes out unless disposed).
      if (!live()) {
        if (!this.#disposed()) reader.flushWake();
        return;
      }
      const { messages, ends, error } = reader.drain(DRAIN_WINDOW, borrow);
      if (error !== undefined) this.#emitter.emit('error', error);
      // The head is stored past each message once its listeners returned (the last one's with the
      // batch's end): a kill repeats at most the message in a listener's hands.
      const last = messages.length - 1;
      let delivered = 0;
      while (delivered <= last && live()) {
        this.#deliver(messages[delivered]!);
        if (delivered < last && !this.#disposed()) reader.commit(ends[delivered]!);
        delivered++;
      }
      // A listener disposed the communicator: the region is gone, with what was not committed.
      if (this.#disposed()) return;
      if (delivered === messages.length) {
        // The producer's wake may wait for half the ring (commitBatch): this loop drains on at
        // once, and flushes the wake wherever it stops draining (below).
        reader.commitAll(true);
      } else {
        // A listener stopped the reader: what it did not deliver stays in the ring for the next
        // start or receiveSync.
        reader.rewind();
      }
      if (!live()) {
        reader.flushWake();
        return;
      }
      const now = performance.now();
      if (messages.length > 0) {
        window.arrived(now);
        // Under a steady stream, let the event loop breathe every millisecond; otherwise go
        // straight back to the ring (a yield per batch costs a loop turn per round trip).
        if (now - lastYield > YIELD_EVERY_MS) {
          reader.flushWake();
          await nextTurn();
          lastYield = performance.now();
        } else {
          // Let the microtasks the listeners queued run before the next batch: above all the
          // pump of a write() made in a listener, so that a reply leaves now and not at the next
          // yield — up to YIELD_EVERY_MS later under a stream (docs/decisions.md §43).
          await undefined;
        }
        continue;
      }
      reader.flushWake();
      // A reply is likeliest right after this side sent: the poll window restarts.
      if (writer.totalQueued !== queued) {
        queued = writer.totalQueued;
        window.sent(now);
      }
      // Shortly after traffic, poll the ring from the event loop (other events still run between
      // polls) before sleeping: a wake-up through the doorbell costs tens to hundreds of µs on a VM.
      // The re-check after announcing sleep covers data and also a peer that attached or left in
      // between (it woke nobody, since the flag was not yet set).
      const polling = window.shouldPoll(now);
      await dataWait.wait(ready, this.#options.peerCheckInterval, () => !this.#disposed(), now);
      if (!polling) lastYield = performance.now();
    }
  }

  #deliver(message: Buffer): void {
    let value: T;
    if (this.#codec === (bytesCodec as Codec<unknown>)) {
      value = message as T; // the default: no decoding, no wrapper object per message
    } else {
      const decoded = decodeMessage(this.#codec, message, this.#emitter);
      if (decoded === undefined) return;
      value = decoded.value;
    }
    emitData(this.#emitter, value);
  }

  /** Emits what changed about the peer; returns whether anything did. */
  #checkPeer(force: boolean): boolean {
    const events = this.#attachment.peer.check(force);
    for (const event of events) this.#emitter.emit('peer', event);
    return events.length > 0;
  }
}
