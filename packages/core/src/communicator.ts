import { EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
import { Region, ShmError, type RegionOptions, type ShmErrorCode } from '@shmlink/native';
import { assertInteger, assertMayBlock, checkOptions, checkTimeout, pauseMs, removeDoorbells } from '@shmlink/native/internal';
import { Attachment, defaultPositions, type Side } from './attachment';
import { bytesCodec, resolveCodec, type Codec } from './codecs';
import { join, withdraw } from './join';
import { DRAIN_WINDOW, EventReader, decodeMessage } from './event-reader';
import { WorkerReader } from './worker-reader';
import { messageIterator, type MessagesOptions } from './message-iterator';
import { resolveOptions, type CommunicatorOptions, type ReceiveOptions, type ResolvedOptions } from './options';
import type { PeerEvent } from './peer';
import { MIN_HALF } from './ring-descriptor';
import type { RingReader } from './ring-reader';
import { SpinPolicy } from './spin-policy';

export type { Side } from './attachment';

/** What write() takes: strings and bytes for the default bytes codec, the codec's values otherwise. */
export type Outgoing<T> = T extends Buffer ? string | Uint8Array : T;

export interface CommunicatorEvents<T = Buffer> {
  data: [data: T];
  error: [error: ShmError];
  peer: [event: PeerEvent];
  /** After send() returned false: everything queued has left the queue. */
  drain: [];
  close: [];
}

/** The region Communicator.open() opened, handed to the constructor it calls (synchronously). */
let opened: Region | undefined;

/**
 * A duplex channel between two processes over one named shared-memory region (the successor of
 * .NET's MemoryMappedFileCommunicator: "the seed" in these comments, the sample the project started
 * from, whose API — ReadPosition, WritePosition, StartReader, DataReceived — this keeps). Each side writes into its half and reads the other's.
 * Writes queue and never block the event loop; received messages come as 'data' events from a
 * reader that polls the ring on the event loop after traffic and otherwise sleeps on a doorbell
 * its peer rings, or from receiveSync() in worker threads.
 *
 * The parts: the attachment (attachment.ts) is what joining the channel yields — halves, framer
 * and send queue, ring reader, peer watcher, doorbells; the event reader (event-reader.ts) runs
 * the 'data' and 'peer' events. This class is the API over them.
 */
export class Communicator<T = Buffer> extends EventEmitter<CommunicatorEvents<T>> {
  readonly name: string;
  /** The file behind a persisted channel; undefined for POSIX shared memory. */
  readonly path: string | undefined;
  readonly #region: Region;
  /** The whole region as a Buffer (null where the runtime forbids external memory): the writer
   *  assembles frames in place through it, and receive: 'view' lends messages from it. */
  readonly #regionView: Buffer | null;
  readonly #codec: Codec<T>;
  readonly #options: ResolvedOptions<T>;
  #readPosition: number | undefined;
  #writePosition: number | undefined;
  /** Made on first use (write, send, startReader, receiveSync), whole or not at all. */
  #attachment: Attachment | undefined;
  /** The 'data'/'peer' loop: on this thread's event loop, or in a worker thread (`reader` option). */
  #eventReader: EventReader<T> | WorkerReader<T> | undefined;
  /** receiveSync()'s current batch: `next` is the index of the next message to return. */
  #syncBatch: { messages: Buffer[]; ends: number[]; next: number } | undefined;
  /** The end of the message receiveSync() returned last, stored as the head at its next call (-1: none). */
  #syncHeld = -1;
  /** Failures of send() messages not yet reported, by code (reported together, once per tick). */
  #sendFailures = new Map<ShmErrorCode, { count: number; error: Error }>();
  /** How long receiveSync() spins before it sleeps: longer while the stream is dense. */
  #spinPolicy: SpinPolicy | undefined;
  #disposed = false;

  /** Opens the region `name` of `capacity` bytes, creating it if it does not exist. */
  constructor(name: string, capacity: number, options?: CommunicatorOptions<T>) {
    super();
    const region = opened;
    opened = undefined;
    try {
      const opts = resolveOptions(options);
      this.#options = opts;
      assertInteger(capacity, 'capacity', 2 * MIN_HALF, 2 ** 32);
      this.#codec = resolveCodec<T>(opts.codec);
      if (opts.receive === 'view' && this.#codec !== (bytesCodec as Codec<unknown>)) {
        throw new ShmError('ERR_INVALID_ARGUMENT', "receive: 'view' lends Buffers: it needs the bytes codec");
      }
    } catch (err) {
      region?.close();
      throw err;
    }
    const opts = this.#options;
    this.name = name;
    this.path = opts.path;
    this.#region =
      region === undefined
        ? openRegion(name, capacity, { ...(opts.mode === undefined ? {} : { mode: opts.mode }), ...(opts.path === undefined ? {} : { path: opts.path }) })
        : joinOpened(region);
    try {
      this.#regionView = viewOf(this.#region, opts.receive === 'view');
    } catch (err) {
      const remove = this.#region.created && (opts.path !== undefined || withdraw(this.#region));
      this.#region.close();
      if (remove) Region.unlinkIfExists(name, opts.path === undefined ? undefined : { path: opts.path });
      throw err;
    }
  }

  /**
   * Opens an existing communicator region (its capacity is read from the region or file):
   * ERR_SHM_NOT_FOUND when there is none — it never creates one.
   */
  static open<T = Buffer>(name: string, options?: CommunicatorOptions<T>): Communicator<T> {
    const path = options?.path;
    const region = Region.open(name, path === undefined ? undefined : { path });
    opened = region;
    try {
      return new Communicator<T>(name, region.size, options);
    } finally {
      // The constructor took it, or threw before it could (it closed it then).
      opened = undefined;
    }
  }

  /**
   * Removes a channel's region and its doorbells — what a crashed process leaves behind (find
   * candidates with `Region.list()`). Returns whether anything was removed. Sides still attached
   * keep working on their mappings, but nobody new can join.
   */
  static unlink(name: string, options?: { path?: string }): boolean {
    const opts = checkOptions<{ path: string }>(options, 'options', ['path']);
    const removed = Region.unlinkIfExists(name, opts.path === undefined ? undefined : { path: opts.path });
    return removeDoorbells(name) || removed;
  }

  /**
   * Writes a persisted channel's pages to its file (msync) before returning: what write() had
   * committed is then on disk. A no-op for POSIX shared memory.
   */
  flush(): void {
    this.#checkOpen();
    this.#region.flush();
  }

  /** Size of the shared region in bytes. */
  get capacity(): number {
    return this.#region.size;
  }

  /** Where the half this side reads begins (the seed's ReadPosition). Settable until the channel starts. */
  get readPosition(): number {
    return this.#attachment?.readHalf.base ?? this.#readPosition ?? defaultPositions(this.capacity, this.#options.side ?? 'a').read;
  }

  set readPosition(value: number) {
    this.#setPosition('readPosition', value);
    this.#readPosition = value;
  }

  /** Where the half this side writes begins (the seed's WritePosition). */
  get writePosition(): number {
    return this.#attachment?.writeHalf.base ?? this.#writePosition ?? defaultPositions(this.capacity, this.#options.side ?? 'a').write;
  }

  set writePosition(value: number) {
    this.#setPosition('writePosition', value);
    this.#writePosition = value;
  }

  /** The side this communicator took ('a' writes the lower half), known once the channel started. */
  get side(): Side | undefined {
    return this.#attachment?.side ?? this.#options.side;
  }

  /** The peer's pid while it is known to be attached and alive. */
  get peerPid(): number | null {
    const reader = this.#eventReader;
    if (reader instanceof WorkerReader) return reader.peerPid;
    return this.#attachment?.peer.pid ?? null;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  get readerRunning(): boolean {
    return this.#eventReader?.running ?? false;
  }

  /** Bytes the peer has published that this side has not yet handed over (0 before the channel starts). */
  get incomingBytes(): number {
    return this.#disposed ? 0 : (this.#attachment?.reader.unconsumed() ?? 0);
  }

  /** Whether 'data' listeners get views of the ring (receive: 'view'), valid only until they return. */
  get lendsViews(): boolean {
    return this.#options.receive === 'view';
  }

  #setPosition(what: string, value: number): void {
    this.#checkOpen();
    if (this.#attachment !== undefined) {
      throw new ShmError('ERR_INVALID_STATE', `${what} cannot change once the channel has started`);
    }
    assertInteger(value, what, 0, this.capacity - MIN_HALF);
    if (value % 8 !== 0) throw new ShmError('ERR_INVALID_ARGUMENT', `${what}=${value} must be a multiple of 8`);
  }

  #checkOpen(): void {
    if (this.#disposed) throw new ShmError('ERR_CLOSED', `communicator '${this.name}' is disposed`);
  }

  /** Joins the channel on first use. */
  #attach(): Attachment {
    if (this.#attachment !== undefined) return this.#attachment;
    const opts = this.#options;
    this.#attachment = Attachment.claim(
      this.#region,
      this.name,
      {
        ...(this.#readPosition === undefined ? {} : { readPosition: this.#readPosition }),
        ...(this.#writePosition === undefined ? {} : { writePosition: this.#writePosition }),
        ...(opts.side === undefined ? {} : { side: opts.side }),
      },
      {
        maxMessageSize: opts.maxMessageSize,
        timeout: opts.timeout,
        peerCheckInterval: opts.peerCheckInterval,
        poll: opts.poll,
        pollBusy: opts.pollBusy,
        regionView: this.#regionView,
        onError: (error) => this.emit('error', error),
        onSendFailure: (error) => this.#sendFailed(error),
        onDrain: () => this.emit('drain'),
      },
    );
    return this.#attachment;
  }

  /** Starts delivering incoming messages as 'data' events (the seed's StartReader). */
  startReader(): void {
    this.#checkOpen();
    if (this.readerRunning) return;
    // What receiveSync() parsed and did not return is parsed again by the event reader.
    if (this.#endSyncBatch()) this.#attachment!.reader.rewind();
    if (this.#eventReader === undefined) {
      const opts = this.#options;
      const disposed = (): boolean => this.#disposed;
      this.#eventReader =
        opts.reader === 'worker'
          ? new WorkerReader(this.#attach(), this, this.#codec, { name: this.name, path: this.path, capacity: this.capacity, maxMessageSize: opts.maxMessageSize, poll: opts.poll, pollBusy: opts.pollBusy, peerCheckInterval: opts.peerCheckInterval }, disposed)
          : new EventReader(this.#attach(), this, this.#codec, { peerCheckInterval: opts.peerCheckInterval, lendViews: opts.receive === 'view' }, disposed);
    }
    this.#eventReader.start();
  }

  /** Stops delivering 'data' events; messages stay in the ring until the reader starts again. */
  async stopReader(): Promise<void> {
    await this.#eventReader?.stop();
  }

  /**
   * Sends a message (a string is sent as UTF-8). Returns at once; the Promise resolves when the
   * message is committed to shared memory. Messages are delivered in call order. The bytes of a
   * Uint8Array are read when the message goes into the ring — at once while nothing waits before
   * it, else at a later commit: do not change them until the Promise settles. Writes of one tick
   * that went into the ring at once share one Promise (send-queue.ts).
   */
  write(data: Outgoing<T>): Promise<void> {
    try {
      const bytes = this.#encode(data);
      return this.#writerFor(bytes).writer.enqueue(bytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Queues a message like write(), in the same order and committed the same way, without a
   * Promise — for streams where a Promise per message costs more than the message. Returns false
   * once `highWaterMark` bytes wait to be committed: wait for 'drain' before sending more. Bad
   * input, a message over maxMessageSize and a disposed communicator throw at once; a message
   * that then fails (ERR_TIMEOUT) is reported by an 'error' event, one per tick and code, counting
   * the messages. What send() queued and dispose() could not commit is dropped; disposeAsync()
   * waits for it.
   */
  send(data: Outgoing<T>): boolean {
    const bytes = this.#encode(data);
    const { writer, writeHalf } = this.#writerFor(bytes);
    writer.enqueueSend(bytes);
    if (writer.pendingBytes < (this.#options.highWaterMark ?? writeHalf.ringSize)) return true;
    writer.wantDrain();
    return false;
  }

  #sendFailed(error: Error): void {
    const code: ShmErrorCode = error instanceof ShmError ? error.code : 'ERR_SYSTEM';
    // dispose() drops what it cannot commit; the caller chose not to hear about each message.
    if (code === 'ERR_CLOSED') return;
    const seen = this.#sendFailures.get(code);
    if (seen !== undefined) {
      seen.count++;
      return;
    }
    this.#sendFailures.set(code, { count: 1, error });
    if (this.#sendFailures.size === 1) queueMicrotask(() => this.#reportSendFailures());
  }

  #reportSendFailures(): void {
    const failures = this.#sendFailures;
    this.#sendFailures = new Map();
    for (const [code, { count, error }] of failures) {
      const what = count === 1 ? '1 message' : `${count} messages`;
      this.emit('error', new ShmError(code, `${what} queued by send() failed: ${error.message}`, { cause: error }));
    }
  }

  #encode(data: Outgoing<T>): Uint8Array {
    return this.#codec.encode(data as unknown as T);
  }

  #writerFor(bytes: Uint8Array): Attachment {
    this.#checkOpen();
    if (bytes.length > this.#options.maxMessageSize) {
      throw new ShmError('ERR_MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds maxMessageSize=${this.#options.maxMessageSize}`);
    }
    return this.#attach();
  }

  /**
   * Commits a message before returning. Where the ring is full it waits for space, which blocks the
   * thread: allowed in worker threads; on the main thread it throws ERR_TIMEOUT instead of waiting.
   */
  writeSync(data: Outgoing<T>, options?: { timeout?: number }): void {
    const opts = checkOptions<{ timeout: number }>(options, 'options', ['timeout']);
    const bytes = this.#encode(data);
    const { writer, spaceWait } = this.#writerFor(bytes);
    const timeout = isMainThread ? 0 : checkTimeout(opts.timeout ?? this.#options.timeout);
    // Nothing queued before it and room in the ring: framed in place at once.
    if (writer.trySync(bytes)) return;
    let failure: Error | undefined;
    writer.enqueueSync(bytes, (err) => {
      failure = err;
    });
    const deadline = performance.now() + timeout;
    while (!writer.flushSync(bytes)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        // Withdrawn, even if begun: the reader discards the unfinished fragments.
        writer.withdraw(bytes);
        throw new ShmError('ERR_TIMEOUT', `writeSync of ${bytes.length} bytes found no room within ${timeout} ms`);
      }
      // The head the commit found too small, not a fresh one: space freed in between would
      // otherwise go unnoticed until the sleep times out.
      const head = writer.seenHead;
      spaceWait.waitSync(() => writer.headMoved(head), Math.min(left, this.#options.peerCheckInterval));
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Returns the next message, blocking the calling thread: spins briefly on the cursor, then sleeps
   * until data arrives. For worker threads (ERR_NOT_MAIN_THREAD_SAFE on the main thread); not
   * together with startReader(). Returns null after `timeout` ms.
   */
  receiveSync(options?: ReceiveOptions): T | null {
    assertMayBlock('Communicator.receiveSync()');
    this.#checkOpen();
    const opts = checkOptions<ReceiveOptions>(options, 'options', ['timeout', 'spin']);
    if (this.readerRunning) {
      throw new ShmError('ERR_INVALID_STATE', 'receiveSync() cannot be used while the event reader runs');
    }
    const attachment = this.#attach();
    const timeout = checkTimeout(opts.timeout);
    if (opts.spin !== undefined) assertInteger(opts.spin, 'spin', 0, 1_000_000);
    const { reader } = attachment;
    // The message returned last time has left the caller's hands: the head may pass it now, so a
    // kill repeats at most the message a caller holds.
    this.#releaseSync(reader);
    // The clock is read only once nothing is there: a message waiting costs no timing at all.
    /** When this call first found nothing: its timeout runs from there. */
    let first = -1;
    /** When the current wait began (-1: not waiting), and how long it may spin: told to the policy. */
    let waitStart = -1;
    let spinMs = 0;
    for (;;) {
      const message = this.#nextSync(reader);
      if (message !== undefined) {
        if (waitStart >= 0) {
          this.#spinPolicy!.waited(performance.now() - waitStart, spinMs);
          waitStart = -1;
        }
        // The bytes codec returns its input: no decode, no result record.
        if (this.#codec === (bytesCodec as Codec<unknown>)) return message as T;
        const decoded = decodeMessage(this.#codec, message, this);
        if (decoded !== undefined) return decoded.value;
        // Skipped (reported as ERR_CORRUPT): its space goes back at once.
        this.#releaseSync(reader);
        continue;
      }
      const now = performance.now();
      if (first < 0) first = now;
      const elapsed = now - first;
      if (elapsed >= timeout) {
        if (waitStart >= 0) this.#spinPolicy!.waited(now - waitStart, spinMs);
        return null;
      }
      if (waitStart < 0) {
        waitStart = now;
        const policy = (this.#spinPolicy ??= new SpinPolicy(this.#options.spin, this.#options.spinBusy));
        spinMs = opts.spin === undefined ? policy.spinMs() : opts.spin / 1000;
      }
      // The spin re-checks one word; a message is parsed only once there is one.
      attachment.dataWait.waitSync(() => reader.hasData(), Math.min(timeout - elapsed, this.#options.peerCheckInterval), Math.max(0, spinMs - (now - waitStart)));
    }
  }

  /**
   * receiveSync()'s next message, its end held in #syncHeld until the next call releases it; or
   * undefined when nothing is published. A lone whole message — a request-reply exchange — is
   * copied straight out of the ring (RingReader.takeOne); anything else is parsed a batch at a time.
   */
  #nextSync(reader: RingReader): Buffer | undefined {
    for (;;) {
      const batch = this.#syncBatch;
      if (batch !== undefined) {
        if (batch.next < batch.messages.length) {
          this.#syncHeld = batch.ends[batch.next]!;
          return batch.messages[batch.next++]!;
        }
        this.#syncBatch = undefined;
        reader.commitAll();
      }
      const one = reader.takeOne();
      if (one === undefined) return undefined;
      if (one !== null) {
        this.#syncHeld = reader.takenEnd;
        return one;
      }
      const { messages, ends, error } = reader.drain(DRAIN_WINDOW);
      if (error !== undefined) this.emit('error', error);
      this.#syncBatch = { messages, ends, next: 0 };
    }
  }

  /**
   * Stores the head past the message receiveSync() returned last (#syncHeld). One from a batch
   * just moves the head (the producer is woken once a batch, at its end); one taken alone was
   * the batch, so a producer waiting for its space is woken too.
   */
  #releaseSync(reader: RingReader): void {
    const held = this.#syncHeld;
    if (held < 0) return;
    this.#syncHeld = -1;
    if (this.#syncBatch === undefined) reader.commitBatch(held);
    else reader.commit(held);
  }

  /**
   * Commits receiveSync()'s batch up to the message it returned last and drops the rest (parsed
   * again after a rewind); whether there was one.
   */
  #endSyncBatch(): boolean {
    const reader = this.#attachment?.reader;
    if (reader === undefined) return false;
    this.#releaseSync(reader);
    if (this.#syncBatch === undefined) return false;
    this.#syncBatch = undefined;
    return true;
  }

  /**
   * Stops the reader, commits the queued writes that fit and rejects the rest with ERR_CLOSED,
   * marks this side as gone and unmaps, before it returns. The region's name is removed by the last
   * side to leave, once everything it wrote has been read — or, for a communicator that never
   * started, if it created the region and no other process opened it. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#eventReader?.halt();
    const attachment = this.#attachment;
    try {
      if (attachment !== undefined) {
        this.#endSyncBatch();
        attachment.leave();
        // A peer that died could not remove its doorbell; with the channel goes every bell.
        // A persisted channel's file is its durable store: only Communicator.unlink removes it.
        if (!attachment.peerAttached() && attachment.unread() === 0) {
          if (this.path === undefined) {
            // Whoever opens the name from now on opens it again instead of joining what goes.
            withdraw(this.#region);
            Communicator.unlink(this.name);
          } else {
            removeDoorbells(this.name);
          }
        }
      } else if (this.#region.created && this.path === undefined && withdraw(this.#region)) {
        // Never started, and nobody else opened it: the region is nobody's (decisions.md §25).
        Region.unlinkIfExists(this.name);
      }
    } finally {
      this.#disposed = true;
      attachment?.close();
      // Empties the ring views (ours and any lent ones) so that the mapping goes with close()
      // instead of lingering until the garbage collector finds the views.
      if (this.#regionView !== null) this.#region.detach(this.#regionView);
      this.#region.close();
      this.emit('close');
    }
  }

  /** Waits for queued writes to be committed (or to fail), then disposes (and, with reader: 'worker', waits for the reader thread to exit). */
  async disposeAsync(): Promise<void> {
    const writer = this.#attachment?.writer;
    if (writer !== undefined && !this.#disposed) {
      while (writer.pending > 0 && !this.#disposed) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
    this.dispose();
    const reader = this.#eventReader;
    if (reader instanceof WorkerReader) await reader.exited;
  }

  /**
   * The incoming messages as an async iterator (message-iterator.ts): `for await (const m of
   * comm.messages())` ends at dispose() and throws the communicator's 'error'; a slow loop pauses
   * the reader, leaving messages in the ring.
   */
  messages(options?: MessagesOptions): AsyncIterableIterator<T> {
    return messageIterator(this, options);
  }

  /** `for await (const message of comm)`: the same as messages(). */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return messageIterator(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync();
  }
}

/** How long an opener waits for a creator that withdrew its region to remove the name. */
const WITHDRAWN_WAIT_MS = 2000;

/**
 * Create-or-opens the channel's region and, when it opened one, joins it (join.ts). A region its
 * creator is removing is opened again once the name is gone (created anew, or someone else's).
 */
function openRegion(name: string, capacity: number, options: RegionOptions): Region {
  const deadline = Date.now() + WITHDRAWN_WAIT_MS;
  for (;;) {
    const region = Region.createOrOpen(name, capacity, options);
    if (region.created || options.path !== undefined || join(region)) return region;
    region.close();
    if (Date.now() > deadline) {
      throw new ShmError('ERR_SHM_EXISTS', `'${name}' was withdrawn by its creator, which did not remove it within ${WITHDRAWN_WAIT_MS} ms (remove it with Communicator.unlink)`);
    }
    pauseMs(1);
  }
}

/** Joins a region Communicator.open() opened; one its creator is removing counts as not there. */
function joinOpened(region: Region): Region {
  if (region.persisted || join(region)) return region;
  region.close();
  throw new ShmError('ERR_SHM_NOT_FOUND', `'${region.name}' is being removed by its creator`);
}

/**
 * The region as one Buffer, or null where the runtime forbids Buffers over external memory
 * (Electron's V8 sandbox) — unless `required`, which lets ERR_UNSUPPORTED_PLATFORM through.
 */
function viewOf(region: Region, required: boolean): Buffer | null {
  try {
    return region.view();
  } catch (err) {
    if (required || !(err instanceof ShmError) || err.code !== 'ERR_UNSUPPORTED_PLATFORM') throw err;
    return null;
  }
}
