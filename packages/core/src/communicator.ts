import { EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
import { Region, ShmError, type ShmErrorCode } from '@shmlink/native';
import { assertInteger, assertMayBlock, checkOneOf, checkOptions, checkTimeout } from '@shmlink/native/internal';
import { bytesCodec, resolveCodec, type Codec, type CodecName } from './codecs';
import { Half, isAlive } from './half';
import { Doorbell, DoorbellRinger, doorbellPath, removeDoorbell } from './doorbell';
import { CONSUMER, CONSUMER_SLEEPING_OFFSET, HEAD_OFFSET, MIN_HALF, PRODUCER, PRODUCER_WAITING_OFFSET, PartyState, Sleep, TAIL_OFFSET } from './layout';
import { PeerWatcher, type PeerEvent } from './peer';
import { PollWindow } from './poll-window';
import { RingReader } from './ring-reader';
import { RingWriter } from './ring-writer';

export type Side = 'a' | 'b';

export interface CommunicatorOptions<T = Buffer> {
  /** Which half this side writes: 'a' writes the first half and reads the second, 'b' the reverse.
   *  Default: the side whose writer slot is free ('a' first). Ignored when positions are set. */
  side?: Side;
  /** How long receiveSync() spins on the shared cursor before it sleeps, in microseconds. The
   *  event reader never spins (it would block the event loop). Default 0: on a 2-core machine a
   *  spinning thread takes the core the peer needs (docs/decisions.md). */
  spin?: number;
  /** How long the event reader keeps polling the ring from the event loop after the last message
   *  before it sleeps, in microseconds (other events run between polls). Saves the doorbell's
   *  wake-up when messages follow each other closely; costs CPU only right after traffic.
   *  Default 200 (docs/decisions.md §11); 0 sleeps at once. */
  poll?: number;
  /** The poll window while the stream is dense (half of the last ~20 batches came within `poll`
   *  of the one before, as in a request-reply exchange or a busy feed), in microseconds: it rides
   *  out the peer's millisecond-long preemptions and GC pauses without a costly wake-up. A sparse
   *  stream never uses it. Default 2000 (docs/decisions.md §13); `poll` or lower turns it off. */
  pollBusy?: number;
  /** How 'data' listeners get messages: 'copy' (default) hands out Buffers of their own; 'view'
   *  hands out views of the shared memory itself, valid only until the listener returns (empty
   *  after dispose()) — no copy at all, the fastest way to take large messages. Copy
   *  (Buffer.from) what you keep, and treat the bytes as the peer's to change: check them where
   *  you use them. Needs the bytes codec;
   *  receiveSync() copies either way; ERR_UNSUPPORTED_PLATFORM where the runtime forbids external
   *  memory (Electron's V8 sandbox). docs/decisions.md §14. */
  receive?: 'copy' | 'view';
  /** send() returns false once this many bytes wait to be committed. Default: the ring size of
   *  the half this side writes. */
  highWaterMark?: number;
  /** Largest message accepted or delivered, in bytes (larger ones are split into frames). Default 64 MiB. */
  maxMessageSize?: number;
  /** A write that cannot be committed within this many ms rejects ERR_TIMEOUT. Default Infinity. */
  timeout?: number;
  /** How often the reader checks that the peer process is still alive, in ms. Default 250. */
  peerCheckInterval?: number;
  /** Permission bits when this call creates the region. Default 0o600. */
  mode?: number;
  /** How messages are encoded: 'bytes' (default: Buffers in, strings sent as UTF-8), 'text',
   *  'json', 'structured' (V8 structured clone), or your own `{ encode, decode }`. A message that
   *  fails to decode is an 'error' (ERR_CORRUPT) and the stream goes on. */
  codec?: CodecName | Codec<T>;
  /** Put the channel on this file instead of POSIX shared memory: unread messages then survive
   *  every process exiting or being killed (see "Persisted channels" in the README). */
  path?: string;
}

/** What write() takes: strings and bytes for the default bytes codec, the codec's values otherwise. */
export type Outgoing<T> = T extends Buffer ? string | Uint8Array : T;

export interface ReceiveOptions {
  /** Give up after this many ms and return null. Default Infinity. */
  timeout?: number;
  /** Spin this many µs on the cursor before sleeping. Default: the communicator's `spin`. */
  spin?: number;
}

const OPTION_KEYS = ['side', 'spin', 'poll', 'pollBusy', 'receive', 'highWaterMark', 'maxMessageSize', 'timeout', 'peerCheckInterval', 'mode', 'codec', 'path'] as const;
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
// The reader copies about this much of the ring per batch (more only for one larger frame),
// bounding a batch's memory and the time it holds the event loop.
const DRAIN_WINDOW = 128 * 1024;
const YIELD_EVERY_MS = 2;

interface Resolved {
  spin: number;
  poll: number;
  pollBusy: number;
  highWaterMark: number | undefined;
  maxMessageSize: number;
  timeout: number;
  peerCheckInterval: number;
}

export interface CommunicatorEvents<T = Buffer> {
  data: [data: T];
  error: [error: ShmError];
  peer: [event: PeerEvent];
  /** After send() returned false: everything queued has left the queue. */
  drain: [];
  close: [];
}

/**
 * A duplex channel between two processes over one named shared-memory region (the successor of
 * .NET's MemoryMappedFileCommunicator). Each side writes into its half and reads the other's; a
 * native thread sleeps until data arrives; writes never block the event loop.
 */
export class Communicator<T = Buffer> extends EventEmitter<CommunicatorEvents<T>> {
  readonly name: string;
  /** The file behind a persisted channel; undefined for POSIX shared memory. */
  readonly path: string | undefined;
  readonly #region: Region;
  /** The whole region as a Buffer (null where the runtime forbids external memory): the writer
   *  assembles frames in place through it, and receive: 'view' lends messages from it. */
  readonly #regionView: Buffer | null;
  readonly #lendViews: boolean;
  readonly #codec: Codec<T>;
  readonly #options: Resolved;
  readonly #side: Side | undefined;
  #readPosition: number | undefined;
  #writePosition: number | undefined;
  #readHalf: Half | undefined;
  #writeHalf: Half | undefined;
  #reader: RingReader | undefined;
  #writer: RingWriter | undefined;
  #peer: PeerWatcher | undefined;
  #doorbell: Doorbell | undefined;
  #peerBell: DoorbellRinger | undefined;
  #readerRunning = false;
  #readerLoop: Promise<void> | undefined;
  #readerGeneration = 0;
  #syncQueue: Buffer[] = [];
  /** Failures of send() messages not yet reported, by code (reported together, once per tick). */
  #sendFailures = new Map<ShmErrorCode, { count: number; error: Error }>();
  #lastLivenessCheck = 0;
  #disposed = false;

  /** Opens the region `name` of `capacity` bytes, creating it if it does not exist. */
  constructor(name: string, capacity: number, options?: CommunicatorOptions<T>) {
    super();
    const opts = checkOptions<CommunicatorOptions<T>>(options, 'options', OPTION_KEYS);
    assertInteger(capacity, 'capacity', 2 * MIN_HALF, 2 ** 32);
    this.#options = resolveOptions(opts);
    this.#codec = resolveCodec<T>(opts.codec);
    this.#side = opts.side === undefined ? undefined : checkOneOf(opts.side, 'side', ['a', 'b'] as const, 'a');
    this.name = name;
    this.path = opts.path;
    const regionOptions = { ...(opts.mode === undefined ? {} : { mode: opts.mode }), ...(opts.path === undefined ? {} : { path: opts.path }) };
    const receive = opts.receive === undefined ? 'copy' : checkOneOf(opts.receive, 'receive', ['copy', 'view'] as const, 'copy');
    if (receive === 'view' && this.#codec !== (bytesCodec as Codec<unknown>)) {
      throw new ShmError('ERR_INVALID_ARGUMENT', "receive: 'view' lends Buffers: it needs the bytes codec");
    }
    const region = Region.createOrOpen(name, capacity, regionOptions);
    try {
      this.#regionView = viewOf(region, receive === 'view');
    } catch (err) {
      region.close();
      if (region.created) Region.unlinkIfExists(name, opts.path === undefined ? undefined : { path: opts.path });
      throw err;
    }
    this.#lendViews = receive === 'view';
    this.#region = region;
  }

  /** Opens an existing communicator region (its capacity is read from the region or file). */
  static open<T = Buffer>(name: string, options?: CommunicatorOptions<T>): Communicator<T> {
    const path = options?.path;
    const region = Region.open(name, path === undefined ? undefined : { path });
    const capacity = region.size;
    region.close();
    return new Communicator<T>(name, capacity, options);
  }

  /**
   * Removes a channel's region and its doorbells — what a crashed process leaves behind (find
   * candidates with `Region.list()`). Returns whether anything was removed. Sides still attached
   * keep working on their mappings, but nobody new can join.
   */
  static unlink(name: string, options?: { path?: string }): boolean {
    const opts = checkOptions<{ path: string }>(options, 'options', ['path']);
    let removed = Region.unlinkIfExists(name, opts.path === undefined ? undefined : { path: opts.path });
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
    return this.#readHalf?.base ?? this.#readPosition ?? this.#defaultPositions().read;
  }

  set readPosition(value: number) {
    this.#setPosition('readPosition', value);
    this.#readPosition = value;
  }

  /** Where the half this side writes begins (the seed's WritePosition). */
  get writePosition(): number {
    return this.#writeHalf?.base ?? this.#writePosition ?? this.#defaultPositions().write;
  }

  set writePosition(value: number) {
    this.#setPosition('writePosition', value);
    this.#writePosition = value;
  }

  /** The side this communicator took ('a' writes the lower half), known once the channel started. */
  get side(): Side | undefined {
    if (this.#writeHalf === undefined) return this.#side;
    return this.#writeHalf.base < this.#readHalf!.base ? 'a' : 'b';
  }

  /** The peer's pid while it is known to be attached and alive. */
  get peerPid(): number | null {
    return this.#peer?.pid ?? null;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  #setPosition(what: string, value: number): void {
    this.#checkOpen();
    if (this.#writeHalf !== undefined) {
      throw new ShmError('ERR_INVALID_STATE', `${what} cannot change once the channel has started`);
    }
    assertInteger(value, what, 0, this.capacity - MIN_HALF);
    if (value % 8 !== 0) throw new ShmError('ERR_INVALID_ARGUMENT', `${what}=${value} must be a multiple of 8`);
  }

  #defaultPositions(side: Side = this.#side ?? 'a'): { read: number; write: number } {
    const middle = Math.floor(this.capacity / 2 / 64) * 64;
    return side === 'a' ? { write: 0, read: middle } : { write: middle, read: 0 };
  }

  #checkOpen(): void {
    if (this.#disposed) throw new ShmError('ERR_CLOSED', `communicator '${this.name}' is disposed`);
  }

  /** Splits the mapping, initialises the headers and claims this side's slots (once). */
  #attach(): void {
    if (this.#writeHalf !== undefined) return;
    const explicit = this.#readPosition !== undefined || this.#writePosition !== undefined;
    const sides: Side[] = explicit ? ['a'] : this.#side !== undefined ? [this.#side] : ['a', 'b'];
    let lastHolder = 0;
    for (const side of sides) {
      const defaults = this.#defaultPositions(side);
      const read = this.#readPosition ?? defaults.read;
      const write = this.#writePosition ?? defaults.write;
      if (read === write) throw new ShmError('ERR_INVALID_ARGUMENT', `readPosition and writePosition are both ${read}`);
      const writeHalf = new Half(this.#region, write, this.#halfEnd(write, read) - write);
      const readHalf = new Half(this.#region, read, this.#halfEnd(read, write) - read);
      for (const half of [writeHalf, readHalf]) {
        if (half.size < MIN_HALF) {
          throw new ShmError('ERR_INVALID_ARGUMENT', `half at ${half.base} has size=${half.size} expected>=${MIN_HALF}`);
        }
      }
      writeHalf.verify();
      readHalf.verify();
      writeHalf.initialize();
      readHalf.initialize();
      const holder = writeHalf.claimParty(PRODUCER);
      if (holder !== 0) {
        lastHolder = holder;
        continue;
      }
      const consumerHolder = readHalf.claimParty(CONSUMER);
      if (consumerHolder !== 0) {
        writeHalf.leaveParty(PRODUCER);
        lastHolder = consumerHolder;
        continue;
      }
      this.#writeHalf = writeHalf;
      this.#readHalf = readHalf;
      // This side's doorbell is keyed by the half it reads; the peer's by the half it reads (ours).
      const doorbell = new Doorbell(doorbellPath(this.name, readHalf.base));
      const peerBell = new DoorbellRinger(doorbellPath(this.name, writeHalf.base));
      this.#doorbell = doorbell;
      this.#peerBell = peerBell;
      this.#writer = new RingWriter(writeHalf, {
        timeoutMs: this.#options.timeout,
        sleepSliceMs: this.#options.peerCheckInterval,
        pollMs: this.#options.poll / 1000,
        onError: (error) => this.emit('error', error),
        doorbell,
        consumerBell: peerBell,
        ringView: this.#ringView(writeHalf),
        onSendFailure: (error) => this.#sendFailed(error),
        onDrain: () => this.emit('drain'),
      });
      this.#reader = new RingReader(readHalf, this.#options.maxMessageSize, peerBell, this.#ringView(readHalf));
      this.#peer = new PeerWatcher(readHalf);
      this.#wakePeer();
      return;
    }
    throw new ShmError('ERR_INVALID_STATE', `every side of '${this.name}' is in use (last holder pid ${lastHolder})`);
  }

  /** The ring of `half` as a Buffer, when the region has a view. */
  #ringView(half: Half): Buffer | null {
    return this.#regionView === null ? null : this.#regionView.subarray(half.ring, half.ring + half.ringSize);
  }

  /** Wakes the peer's reader however it sleeps, so that it notices us arriving or leaving at once. */
  #wakePeer(): void {
    this.#writeHalf?.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, TAIL_OFFSET, this.#peerBell!);
  }

  /** A half spans from its position to the next position above it, or to the end of the mapping. */
  #halfEnd(position: number, other: number): number {
    return other > position ? other : this.capacity;
  }

  /** Starts delivering incoming messages as 'data' events (the seed's StartReader). */
  startReader(): void {
    this.#checkOpen();
    if (this.#readerRunning) return;
    this.#attach();
    this.#readerRunning = true;
    // A loop stopped from inside a listener may still be delivering: it ends at its next check
    // (the generation changed) and hands over what it has not delivered; the new loop waits for it.
    this.#readerLoop = this.#readLoop(++this.#readerGeneration, this.#readerLoop);
  }

  /** Stops delivering 'data' events; messages stay in the ring until the reader starts again. */
  async stopReader(): Promise<void> {
    this.#readerRunning = false;
    const loop = this.#readerLoop;
    if (loop !== undefined) {
      this.#doorbell?.interrupt();
      await loop;
    }
  }

  get readerRunning(): boolean {
    return this.#readerRunning;
  }

  /**
   * Sends a message (a string is sent as UTF-8). Returns at once; the Promise resolves when the
   * message is committed to shared memory. Messages are delivered in call order. The bytes of a
   * Uint8Array are read at commit time: do not change them until the Promise settles.
   */
  write(data: Outgoing<T>): Promise<void> {
    try {
      const bytes = this.#encode(data);
      return this.#writerFor(bytes).enqueue(bytes);
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
    const writer = this.#writerFor(bytes);
    writer.enqueueSend(bytes);
    if (writer.pendingBytes < (this.#options.highWaterMark ?? this.#writeHalf!.ringSize)) return true;
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

  /** Decodes an incoming message; a failure is reported as ERR_CORRUPT and the message skipped. */
  #decode(message: Buffer): { value: T } | undefined {
    try {
      return { value: this.#codec.decode(message) };
    } catch (cause) {
      this.emit('error', new ShmError('ERR_CORRUPT', `message of ${message.length} bytes failed to decode: ${(cause as Error).message}`, { cause }));
      return undefined;
    }
  }

  #writerFor(bytes: Uint8Array): RingWriter {
    this.#checkOpen();
    if (bytes.length > this.#options.maxMessageSize) {
      throw new ShmError('ERR_MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds maxMessageSize=${this.#options.maxMessageSize}`);
    }
    this.#attach();
    return this.#writer!;
  }

  /**
   * Commits a message before returning. Where the ring is full it waits for space, which blocks the
   * thread: allowed in worker threads; on the main thread it throws ERR_TIMEOUT instead of waiting.
   */
  writeSync(data: Outgoing<T>, options?: { timeout?: number }): void {
    const opts = checkOptions<{ timeout: number }>(options, 'options', ['timeout']);
    const bytes = this.#encode(data);
    const writer = this.#writerFor(bytes);
    const timeout = isMainThread ? 0 : checkTimeout(opts.timeout ?? this.#options.timeout);
    let failure: Error | undefined;
    writer.enqueueSync(bytes, (err) => {
      failure = err;
    });
    const deadline = performance.now() + timeout;
    const half = this.#writeHalf!;
    while (!writer.flushSync()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        // Withdrawn, even if begun: the reader discards the unfinished fragments.
        writer.withdraw(bytes);
        throw new ShmError('ERR_TIMEOUT', `writeSync of ${bytes.length} bytes found no room within ${timeout} ms`);
      }
      // The head the commit found too small, not a fresh one: space freed in between would
      // otherwise go unnoticed until the sleep times out.
      const head = writer.seenHead;
      half.store(PRODUCER_WAITING_OFFSET, Sleep.Futex);
      if (half.load(HEAD_OFFSET) === head) {
        half.region.wait(half.base + HEAD_OFFSET, head, Math.min(left, this.#options.peerCheckInterval));
      }
      half.store(PRODUCER_WAITING_OFFSET, Sleep.Awake);
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
    if (this.#readerRunning) {
      throw new ShmError('ERR_INVALID_STATE', 'receiveSync() cannot be used while the event reader runs');
    }
    this.#attach();
    const timeout = checkTimeout(opts.timeout);
    const spinMs = (opts.spin ?? this.#options.spin) / 1000;
    const reader = this.#reader!;
    const half = this.#readHalf!;
    const start = performance.now();
    for (;;) {
      const next = this.#syncQueue.shift();
      if (next !== undefined) {
        const decoded = this.#decode(next);
        if (decoded !== undefined) return decoded.value;
        continue;
      }
      // The spin re-checks one word; a drain (and its allocations) only once there is data.
      if (reader.hasData()) {
        const { messages, error } = reader.drain(DRAIN_WINDOW);
        if (error !== undefined) this.emit('error', error);
        this.#syncQueue = messages;
        continue;
      }
      const elapsed = performance.now() - start;
      if (elapsed >= timeout) return null;
      if (elapsed < spinMs) continue;
      half.store(CONSUMER_SLEEPING_OFFSET, Sleep.Futex);
      if (!reader.hasData()) {
        half.region.wait(half.base + TAIL_OFFSET, reader.waitValue, Math.min(timeout - elapsed, this.#options.peerCheckInterval));
      }
      half.store(CONSUMER_SLEEPING_OFFSET, Sleep.Awake);
    }
  }

  async #readLoop(generation: number, previous: Promise<void> | undefined): Promise<void> {
    await previous;
    const reader = this.#reader!;
    const half = this.#readHalf!;
    const doorbell = this.#doorbell!;
    const live = () => this.#readerRunning && !this.#disposed && this.#readerGeneration === generation;
    let force = true;
    let lastYield = performance.now();
    const window = new PollWindow(this.#options.poll, this.#options.pollBusy);
    const borrow = this.#lendViews;
    const writer = this.#writer!;
    let queued = writer.queued;
    while (live()) {
      // Before the data, so that 'connected' precedes the first message of a new peer.
      this.#checkPeer(force);
      force = false;
      // A 'peer' listener may have disposed or stopped us.
      if (!live()) return;
      // Messages already taken from the ring but not delivered (the reader was stopped) come first.
      const held = this.#syncQueue;
      this.#syncQueue = [];
      const borrowed = held.length === 0 && borrow;
      const { messages, error } = held.length > 0 ? { messages: held, error: undefined } : reader.drain(DRAIN_WINDOW, borrowed);
      if (error !== undefined) this.emit('error', error);
      let delivered = 0;
      while (delivered < messages.length && live()) this.#deliver(messages[delivered++]!);
      if (delivered < messages.length) {
        // A listener stopped the reader: the rest have left the ring (lent views are copied, as
        // their space is given back now), so they wait here for the next start or receiveSync.
        // After dispose() nobody will read them.
        const rest = messages.slice(delivered);
        this.#syncQueue = borrowed ? rest.map((m) => Buffer.from(m)) : rest;
      }
      // The listeners are done with the lent views: the producer may overwrite them now.
      if (borrowed && !this.#disposed) reader.release();
      if (!live()) return;
      if (messages.length > 0) {
        const now = performance.now();
        window.arrived(now);
        // Under a steady stream, let the event loop breathe every few milliseconds; otherwise go
        // straight back to the ring (a yield per batch costs a loop turn per round trip).
        if (now - lastYield > YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        continue;
      }
      // Shortly after traffic, poll the ring from the event loop (other events still run between
      // polls) before sleeping: a wake-up through the doorbell costs tens to hundreds of µs on a VM.
      const now = performance.now();
      if (writer.queued !== queued) {
        queued = writer.queued;
        window.sent(now);
      }
      if (window.shouldPoll(now)) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      half.store(CONSUMER_SLEEPING_OFFSET, Sleep.Doorbell);
      // Re-check after announcing sleep: data, and also a peer that attached or left in between
      // (it woke nobody, since the flag was not yet set) — the same Dekker handshake as the tail.
      if (reader.hasData() || this.#checkPeer(false)) {
        half.store(CONSUMER_SLEEPING_OFFSET, Sleep.Awake);
        continue;
      }
      await doorbell.wait(this.#options.peerCheckInterval);
      lastYield = performance.now();
      if (this.#disposed) return;
      half.store(CONSUMER_SLEEPING_OFFSET, Sleep.Awake);
    }
  }

  #deliver(message: Buffer): void {
    let value: T;
    if (this.#codec === (bytesCodec as Codec<unknown>)) {
      value = message as T; // the default: no decoding, no wrapper object per message
    } else {
      const decoded = this.#decode(message);
      if (decoded === undefined) return;
      value = decoded.value;
    }
    try {
      this.emit('data', value);
    } catch (err) {
      // A throwing listener is the application's bug: surface it as Node does, keep the stream going.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  /** Emits what changed about the peer; returns whether anything did. */
  #checkPeer(force: boolean): boolean {
    const peer = this.#peer;
    if (peer === undefined) return false;
    const now = performance.now();
    const liveness = force || now - this.#lastLivenessCheck >= this.#options.peerCheckInterval;
    if (liveness) this.#lastLivenessCheck = now;
    const events = peer.check(liveness);
    for (const event of events) this.emit('peer', event);
    return events.length > 0;
  }

  /**
   * Stops the reader, commits the queued writes that fit and rejects the rest with ERR_CLOSED,
   * marks this side as gone and unmaps. The region's name is removed by the last side to leave,
   * once everything it wrote has been read. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#readerRunning = false;
    try {
      this.#writer?.close();
      const writeHalf = this.#writeHalf;
      const readHalf = this.#readHalf;
      if (writeHalf !== undefined && readHalf !== undefined) {
        writeHalf.leaveParty(PRODUCER);
        readHalf.leaveParty(CONSUMER);
        this.#wakePeer();
        const peer = readHalf.readParty(PRODUCER);
        const peerHere = peer.state === PartyState.Attached && isAlive(peer.pid, peer.startTime);
        // A peer that died could not remove its doorbell; with the channel goes every bell.
        // A persisted channel's file is its durable store: only Communicator.unlink removes it.
        if (!peerHere && this.#writer!.unread() === 0) {
          if (this.path === undefined) Communicator.unlink(this.name);
          else removeDoorbells(this.name);
        }
      }
    } finally {
      this.#disposed = true;
      this.#doorbell?.close();
      this.#peerBell?.close();
      // Empties the ring views (ours and any lent ones) so that the mapping goes with close()
      // instead of lingering until the garbage collector finds the views.
      if (this.#regionView !== null) this.#region.detach(this.#regionView);
      this.#region.close();
      this.emit('close');
    }
  }

  /** Waits for queued writes to be committed (or to fail), then disposes. */
  async disposeAsync(): Promise<void> {
    const writer = this.#writer;
    if (writer !== undefined && !this.#disposed) {
      while (writer.pending > 0 && !this.#disposed) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
    this.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync();
  }
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

/** Removes the doorbell FIFOs of channel `name`; whether there were any. */
function removeDoorbells(name: string): boolean {
  let removed = false;
  for (const entry of Region.list(`${name}@`)) {
    if (entry.endsWith('.bell') && removeDoorbell(`/dev/shm/${entry}`)) removed = true;
  }
  return removed;
}

function resolveOptions<T>(opts: Partial<CommunicatorOptions<T>>): Resolved {
  const spin = opts.spin ?? 0;
  assertInteger(spin, 'spin', 0, 1_000_000);
  const poll = opts.poll ?? 200;
  assertInteger(poll, 'poll', 0, 1_000_000);
  const pollBusy = opts.pollBusy ?? 2000;
  assertInteger(pollBusy, 'pollBusy', 0, 1_000_000);
  const highWaterMark = opts.highWaterMark;
  if (highWaterMark !== undefined) assertInteger(highWaterMark, 'highWaterMark', 1, 2 ** 32);
  const maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
  assertInteger(maxMessageSize, 'maxMessageSize', 1, 0xffffffff);
  const timeout = checkTimeout(opts.timeout, 'timeout');
  const peerCheckInterval = opts.peerCheckInterval ?? 250;
  assertInteger(peerCheckInterval, 'peerCheckInterval', 1, 60_000);
  return { spin, poll, pollBusy, highWaterMark, maxMessageSize, timeout, peerCheckInterval };
}
