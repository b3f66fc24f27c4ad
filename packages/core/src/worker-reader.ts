import type { EventEmitter } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ShmError } from '@shmlink/native';
import { DoorbellRinger, bufferView } from '@shmlink/native/internal';
import type { Attachment } from './attachment';
import { bytesCodec, jsonCodec, textCodec, type Codec } from './codecs';
import type { CommunicatorEvents } from './communicator';
import { YIELD_EVERY_MS, decodeMessage, emitData } from './event-reader';
import type { PeerEvent } from './peer';
import { CONSUMER, CONSUMER_SLEEPING_OFFSET } from './ring-descriptor';
import { CONTROL_WORDS, EXIT, STOPPED, type BatchMessage, type ErrorInfo, type FromReaderThread, type ReaderThreadData, type StartMessage, type ThreadDecode } from './reader-thread-protocol';

export interface WorkerReaderOptions {
  name: string;
  path: string | undefined;
  capacity: number;
  maxMessageSize: number;
  poll: number;
  pollBusy: number;
  peerCheckInterval: number;
}

/**
 * The communicator's side of reader: 'worker'. A worker_threads Worker (reader-thread.ts) sleeps
 * on the ring, parses and posts batches; this side emits them as 'data' events on its own event
 * loop and stores the head past each message after its listeners return, exactly where the event
 * reader stores it. Messages in flight between the threads are therefore still in the ring: a
 * process that dies, or a communicator disposed or stopped, with batches in flight leaves them to
 * the next reader, and a kill repeats at most the message a listener held (at-least-once for that
 * one, as with the event reader; never a loss).
 *
 * Each startReader() is a new generation: the thread parses from the head as stored then, and
 * batches of an earlier generation still arriving are dropped (they were not delivered, so they
 * are parsed again). The thread is told to stop through a shared control word and woken through
 * the ring's consumer flag, as the peer wakes it: it cannot read its message port while it sleeps.
 */
export class WorkerReader<T> {
  readonly #attachment: Attachment;
  readonly #emitter: EventEmitter<CommunicatorEvents<T>>;
  readonly #codec: Codec<T>;
  readonly #options: WorkerReaderOptions;
  /** Whether the owner is disposed: the region is unmapped then and must not be touched. */
  readonly #disposed: () => boolean;
  readonly #control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  /** What the thread decodes; every other codec decodes here, from the bytes. */
  readonly #threadDecode: ThreadDecode;
  readonly #decodeHere: boolean;
  /** Our own doorbell, which wakeIfSleeping() wants for a flag announcing a doorbell sleeper (the
   *  thread never announces one: it sleeps on the futex). */
  readonly #ownBell: DoorbellRinger;
  #worker: Worker | undefined;
  #exited: Promise<void> = Promise.resolve();
  #running = false;
  /** The generation being delivered; 0 while stopped. */
  #gen = 0;
  #lastGen = 0;
  /** The highest generation the thread has left (or that a lost or halted thread ended). */
  #stoppedGen = 0;
  #stopWaiters: { gen: number; resolve: () => void }[] = [];
  /** A batch's listeners are running: a start() among them posts its start after the batch's commits. */
  #delivering = false;
  #startPending = false;
  #peerPid: number | null = null;
  /** What the thread posted, not yet handled (from index #next). */
  #queue: FromReaderThread[] = [];
  #next = 0;
  #pumping = false;
  #pumpScheduled = false;

  constructor(attachment: Attachment, emitter: EventEmitter<CommunicatorEvents<T>>, codec: Codec<T>, options: WorkerReaderOptions, disposed: () => boolean) {
    this.#attachment = attachment;
    this.#emitter = emitter;
    this.#codec = codec;
    this.#options = options;
    this.#disposed = disposed;
    const generic = codec as Codec<unknown>;
    this.#threadDecode = generic === textCodec ? 'text' : generic === jsonCodec ? 'json' : 'bytes';
    this.#decodeHere = this.#threadDecode === 'bytes' && generic !== (bytesCodec as Codec<unknown>);
    this.#ownBell = new DoorbellRinger(options.name, attachment.readHalf.base);
  }

  get running(): boolean {
    return this.#running;
  }

  /** The peer's pid as the thread last reported it (connected or restarted, and not gone since). */
  get peerPid(): number | null {
    return this.#peerPid;
  }

  /** Resolves once the thread has exited (after dispose()). */
  get exited(): Promise<void> {
    return this.#exited;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const worker = this.#worker ?? this.#spawn();
    worker.ref();
    const gen = ++this.#lastGen;
    this.#gen = gen;
    // Ends a previous generation still reading (its stop not yet acknowledged).
    Atomics.store(this.#control, 0, gen);
    this.#wakeThread();
    // Started from a listener: the message in its hands is committed when it returns, and the
    // thread must start from the head after it, or that message would come again.
    if (this.#delivering) this.#startPending = true;
    else this.#postStart();
  }

  #postStart(): void {
    this.#startPending = false;
    if (this.#gen === 0) return;
    const start: StartMessage = { kind: 'start', gen: this.#gen };
    this.#worker?.postMessage(start);
  }

  /** Stops delivering at once; resolves once the thread has stopped reading (what was not delivered stays in the ring). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const gen = this.#gen;
    this.#gen = 0;
    this.#startPending = false;
    Atomics.store(this.#control, 0, STOPPED);
    this.#wakeThread();
    if (this.#stoppedGen < gen && this.#worker !== undefined) {
      await new Promise<void>((resolve) => this.#stopWaiters.push({ gen, resolve }));
    }
    if (!this.#running && !this.#disposed()) {
      // The thread's parsing position was its own: this side's reader starts again from the head.
      this.#attachment.reader.rewind();
      this.#worker?.unref();
    }
  }

  /**
   * dispose(): stops delivering, tells the thread to exit and wakes it — before the communicator
   * leaves the channel, so that the thread is out of its sleep — and terminates it. Nothing in
   * flight was committed, so nothing is lost; the thread's mapping goes when it has exited (`exited`).
   */
  halt(): void {
    this.#running = false;
    this.#gen = 0;
    this.#queue = [];
    this.#next = 0;
    Atomics.store(this.#control, 0, EXIT);
    this.#releaseStopWaiters(this.#lastGen);
    const worker = this.#worker;
    if (worker !== undefined) {
      this.#wakeThread();
      this.#worker = undefined;
      this.#exited = worker.terminate().then(
        () => undefined,
        () => undefined,
      );
    }
    this.#ownBell.close();
  }

  /** Wakes the thread if it sleeps on the consumer flag; a wake that comes late makes its next sleep return at once. */
  #wakeThread(): void {
    if (this.#disposed()) return;
    this.#attachment.readHalf.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, this.#ownBell);
  }

  #spawn(): Worker {
    const half = this.#attachment.readHalf;
    const o = this.#options;
    const data: ReaderThreadData = {
      name: o.name,
      path: o.path,
      capacity: o.capacity,
      base: half.base,
      size: half.size,
      epoch: half.load(CONSUMER.epoch),
      maxMessageSize: o.maxMessageSize,
      poll: o.poll,
      pollBusy: o.pollBusy,
      peerCheckInterval: o.peerCheckInterval,
      decode: this.#threadDecode,
      control: this.#control.buffer as SharedArrayBuffer,
    };
    const worker = new Worker(path.join(__dirname, 'reader-thread.js'), { workerData: data });
    this.#worker = worker;
    worker.on('message', (message: FromReaderThread) => this.#onMessage(message));
    worker.on('error', (err) => this.#lost(worker, `the reader thread failed: ${err.message}`));
    this.#exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.#lost(worker, `the reader thread exited (code ${code})`);
        resolve();
      });
    });
    return worker;
  }

  /** The thread is gone without being told to go: the reader stops, with an 'error' (ERR_SYSTEM). */
  #lost(worker: Worker, why: string): void {
    if (this.#worker !== worker) return; // halted: expected
    this.#worker = undefined;
    this.#fail({ code: 'ERR_SYSTEM', message: why });
  }

  #fail(error: ErrorInfo): void {
    const wasRunning = this.#running;
    this.#running = false;
    this.#gen = 0;
    this.#releaseStopWaiters(this.#lastGen);
    this.#worker?.unref();
    if (!this.#disposed() && wasRunning) this.#emitter.emit('error', new ShmError(error.code, error.message));
  }

  #releaseStopWaiters(upTo: number): void {
    if (upTo > this.#stoppedGen) this.#stoppedGen = upTo;
    const waiting = this.#stopWaiters;
    this.#stopWaiters = waiting.filter((w) => w.gen > upTo);
    for (const w of waiting) if (w.gen <= upTo) w.resolve();
  }

  /**
   * Messages from the thread are handled in order through a queue, from setImmediate (the check
   * phase right after the poll phase that received them): Node hands over a port's messages in
   * one loop, including those posted while the loop runs, so delivering inside it would hold the
   * event loop — I/O, timers — until the thread had nothing more to post. As the event reader
   * does, the pump yields every YIELD_EVERY_MS.
   */
  #onMessage(message: FromReaderThread): void {
    if (this.#disposed()) return;
    this.#queue.push(message);
    if (!this.#pumping && !this.#pumpScheduled) {
      this.#pumpScheduled = true;
      setImmediate(this.#pumpLater);
    }
  }

  readonly #pumpLater = (): void => {
    this.#pumpScheduled = false;
    this.#pump();
  };

  #pump(): void {
    const started = performance.now();
    this.#pumping = true;
    try {
      while (this.#next < this.#queue.length) {
        const message = this.#queue[this.#next++]!;
        this.#handle(message);
        if (this.#disposed()) break;
        if (this.#next < this.#queue.length && performance.now() - started > YIELD_EVERY_MS) {
          this.#pumpScheduled = true;
          setImmediate(this.#pumpLater);
          return;
        }
      }
      this.#queue = [];
      this.#next = 0;
    } finally {
      this.#pumping = false;
    }
  }

  #handle(message: FromReaderThread): void {
    if (this.#disposed()) return;
    switch (message.kind) {
      case 'batch':
        this.#onBatch(message);
        return;
      case 'peer':
        // Emitted even for a generation stopped meanwhile: the thread will not report them again.
        for (const event of message.events) this.#onPeer(event);
        return;
      case 'stopped':
        this.#releaseStopWaiters(message.gen);
        return;
      case 'failed':
        this.#fail(message.error);
        return;
    }
  }

  #onPeer(event: PeerEvent): void {
    this.#peerPid = event.type === 'connected' || event.type === 'restarted' ? event.pid : null;
    this.#emitter.emit('peer', event);
  }

  #onBatch(batch: BatchMessage): void {
    // A batch of a generation stopped meanwhile was not delivered: the next generation parses it again.
    if (batch.gen !== this.#gen) return;
    const live = (): boolean => this.#gen === batch.gen && !this.#disposed();
    if (batch.error !== undefined) this.#emitter.emit('error', new ShmError(batch.error.code, batch.error.message));
    if (!live()) return;
    const reader = this.#attachment.reader;
    const { ends, spans, values, failures } = batch;
    const bases = batch.buffers.map((buffer) => Buffer.from(buffer));
    let failure = 0;
    this.#delivering = true;
    try {
      for (let i = 0; i < ends.length && live(); i++) {
        if (failure < failures.length && failures[failure]!.index === i) {
          this.#emitter.emit('error', new ShmError('ERR_CORRUPT', failures[failure++]!.message));
        } else if (values !== null) {
          emitData(this.#emitter, values[i] as T);
        } else {
          const length = spans[3 * i + 2]!;
          const bytes = length === 0 ? Buffer.alloc(0) : bufferView(bases[spans[3 * i]!]!, spans[3 * i + 1]!, length);
          if (!this.#decodeHere) {
            emitData(this.#emitter, bytes as T);
          } else {
            const decoded = decodeMessage(this.#codec, bytes, this.#emitter);
            if (decoded !== undefined) emitData(this.#emitter, decoded.value);
          }
        }
        // A listener disposed the communicator: the region is gone, with what was not committed.
        if (this.#disposed()) return;
        // Past each message once its listeners returned, as the event reader does: a kill repeats
        // at most the message in a listener's hands.
        reader.commit(ends[i]!);
      }
      // The batch's end (padding, released fragments) only while still the same generation: a
      // generation started since parses from the head as it stands.
      if (live()) {
        reader.commitBatch(batch.target);
        // The thread may be waiting for this batch to be taken before it posts the next.
        this.#wakeThread();
      }
    } finally {
      this.#delivering = false;
      if (this.#startPending) this.#postStart();
    }
  }
}
