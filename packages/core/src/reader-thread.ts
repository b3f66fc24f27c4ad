// The reader thread of reader: 'worker' (started by worker-reader.ts; not an entry point of its
// own). It maps the channel's region a second time, sleeps on the futex of the consumer flag — a
// blocking wait, allowed here and never on the communicator's thread — parses batches with the
// same RingReader as the event reader, and posts them with their bytes in the transfer list. It
// never stores the head: the communicator's thread stores it after delivery, so messages in
// flight between the threads are still in the ring (docs/decisions.md, "A background reader thread").
import { parentPort, workerData } from 'node:worker_threads';
import { Region, ShmError, type ShmErrorCode } from '@shmlink/native';
import { jsonCodec, textCodec, type Codec } from './codecs';
import { DRAIN_WINDOW, tryDecode } from './event-reader';
import { Half } from './half';
import { PeerWatcher, type PeerEvent } from './peer';
import { PollWindow } from './poll-window';
import { CONSUMER, HEAD_OFFSET, PartyState, TAIL_OFFSET } from './ring-descriptor';
import { RingReader } from './ring-reader';
import { WaitStrategy } from './wait-strategy';
import { EXIT, type BatchMessage, type ErrorInfo, type FromReaderThread, type ReaderThreadData, type StartMessage } from './reader-thread-protocol';

const DECODERS: Record<'text' | 'json', Codec<unknown>> = { text: textCodec as Codec<unknown>, json: jsonCodec };

// Every Buffer made in this thread gets an ArrayBuffer of its own, never a slice of the shared
// pool: the ring's copies are handed to the event loop by moving their ArrayBuffers (a moved pool
// would take other Buffers' bytes with it).
Buffer.poolSize = 0;

const port = parentPort;
if (port === null) throw new ShmError('ERR_INVALID_STATE', 'reader-thread.js runs only as the worker of reader: \'worker\'');
const data = workerData as ReaderThreadData;
const control = new Int32Array(data.control);

function post(message: FromReaderThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof ShmError) return { code: err.code as ShmErrorCode, message: err.message };
  return { code: 'ERR_SYSTEM', message: String(err instanceof Error ? err.message : err) };
}

/** The region and the read half, checked to be the communicator's own. */
function attach(): { region: Region; half: Half; view: Buffer | null } {
  const region = Region.open(data.name, { ...(data.path === undefined ? {} : { path: data.path }), size: data.capacity });
  try {
    let view: Buffer | null = null;
    try {
      view = region.view();
    } catch (err) {
      // Electron's V8 sandbox: the header words are then read through the addon, as there on the event loop.
      if (!(err instanceof ShmError) || err.code !== 'ERR_UNSUPPORTED_PLATFORM') throw err;
    }
    const half = new Half(region, data.base, data.size, view);
    const me = half.readParty(CONSUMER);
    if (me.pid !== process.pid || me.state !== PartyState.Attached || me.epoch !== data.epoch) {
      throw new ShmError('ERR_INVALID_STATE', `'${data.name}' is no longer this communicator's channel (consumer slot pid=${me.pid} epoch=${me.epoch}, expected pid=${process.pid} epoch=${data.epoch})`);
    }
    return { region, half, view };
  } catch (err) {
    region.close();
    throw err;
  }
}

let attached: ReturnType<typeof attach> | undefined;
try {
  attached = attach();
} catch (err) {
  // The thread ends once its port is closed: nothing else keeps it.
  post({ kind: 'failed', error: errorInfo(err) });
  port.close();
}
if (attached !== undefined) serve(attached);

/** Runs each generation the communicator starts, until it says EXIT. */
function serve({ region, half, view }: NonNullable<typeof attached>): void {
  const peer = new PeerWatcher(half, data.peerCheckInterval);
  const dataWait = new WaitStrategy(half, 'consumer', null, new PollWindow(data.poll, data.pollBusy));
  port!.on('message', (message: StartMessage) => {
    if (message.kind === 'start') run(message.gen, half, peer, dataWait);
    if (Atomics.load(control, 0) === EXIT) {
      port!.close();
      // Lets the mapping go now rather than at the thread's teardown.
      if (view !== null) region.detach(view);
      region.close();
    }
  });
}

/**
 * Reads generation `gen` until the control word changes: peer events before the data they
 * precede, batches as they are parsed, sleeping on the futex when the ring is empty.
 */
function run(gen: number, half: Half, peer: PeerWatcher, dataWait: WaitStrategy): void {
  const live = (): boolean => Atomics.load(control, 0) === gen;
  // A fresh reader each time: it starts at the head as the communicator's thread stored it, which
  // is where the last delivered message ended (what was in flight is parsed again).
  // Copying drains (no borrowed views): one copy of each stretch of the ring, which then moves.
  const reader = new RingReader(half, data.maxMessageSize, null, () => {});
  const window = dataWait.window;
  let events: PeerEvent[] = [];
  const checkPeer = (force: boolean): boolean => {
    const found = peer.check(force);
    if (found.length === 0) return false;
    events.push(...found);
    return true;
  };
  let posted = reader.batchTarget();
  // Two batches in flight (one being delivered, the next one parsed and waiting), then whatever
  // arrives is left in the ring to go out as one larger batch once the event loop reached `older`
  // (it wakes this thread after each batch): a thread that keeps up with the peer would otherwise
  // post many small batches, each costing a message and a wake-up on both threads.
  let older: number | null = null;
  const caughtUp = (): boolean => {
    if (older === null) return true;
    const wrap = half.wrap;
    if ((half.load(HEAD_OFFSET) - older + wrap) % wrap > (posted - older + wrap) % wrap) return false;
    older = null;
    return true;
  };
  // ... unless a full batch waits already (large messages, or a producer outpacing the event
  // loop): holding that back buys no coalescing and only stalls the pipeline.
  const fullBatchWaiting = (): boolean => (half.load(TAIL_OFFSET) - posted + half.wrap) % half.wrap >= DRAIN_WINDOW;
  const mayDrain = (): boolean => caughtUp() || fullBatchWaiting();
  const ready = (): boolean => !live() || (mayDrain() && reader.hasData()) || checkPeer(false);
  let force = true;
  while (live()) {
    checkPeer(force);
    force = false;
    if (events.length > 0) {
      post({ kind: 'peer', gen, events });
      events = [];
    }
    let now = performance.now();
    if (mayDrain()) {
      const { messages, ends, error } = reader.drain(DRAIN_WINDOW);
      const target = reader.batchTarget();
      if (messages.length > 0 || error !== undefined || target !== posted) {
        postBatch(gen, messages, ends, target, error);
        older = posted;
        posted = target;
      }
      now = performance.now();
      if (messages.length > 0) {
        window.arrived(now);
        continue;
      }
    }
    // The event reader's poll window, spent on this thread's own time instead of the event loop's —
    // but only once the event loop has taken everything posted (the stored head is where this
    // thread parsed to): before that, the peer mostly waits for the space the event loop frees,
    // and a spinning thread would only take the core the event loop needs.
    if (half.load(HEAD_OFFSET) === posted) {
      while (window.shouldPoll(now) && !ready()) now = performance.now();
    }
    if (ready()) continue;
    dataWait.waitSync(ready, data.peerCheckInterval, 0, live);
  }
  post({ kind: 'stopped', gen });
}

function postBatch(gen: number, messages: Buffer[], ends: number[], target: number, error: ShmError | undefined): void {
  const decoder = data.decode === 'bytes' ? undefined : DECODERS[data.decode];
  const failures: BatchMessage['failures'] = [];
  const buffers: ArrayBuffer[] = [];
  let values: unknown[] | null = null;
  let spans = new Uint32Array(0);
  if (decoder !== undefined) {
    values = messages.map((message, index) => {
      const decoded = tryDecode(decoder, message);
      if ('value' in decoded) return decoded.value;
      failures.push({ index, message: decoded.error.message });
      return undefined;
    });
  } else {
    // The messages are views of the copies the drain made (a chunk of the ring per contiguous
    // stretch, a buffer per reassembled message), each with an ArrayBuffer of its own (no pool in
    // this thread): those move to the event loop as they are, with no copy here.
    const index = new Map<ArrayBufferLike, number>();
    spans = new Uint32Array(messages.length * 3);
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (message.length === 0) continue;
      let k = index.get(message.buffer);
      if (k === undefined) {
        k = buffers.length;
        buffers.push(message.buffer as ArrayBuffer);
        index.set(message.buffer, k);
      }
      spans[3 * i] = k;
      spans[3 * i + 1] = message.byteOffset;
      spans[3 * i + 2] = message.length;
    }
  }
  const endCursors = Uint32Array.from(ends);
  const batch: BatchMessage = { kind: 'batch', gen, buffers, spans, values, failures, ends: endCursors, target, error: error === undefined ? undefined : errorInfo(error) };
  post(batch, [...buffers, spans.buffer as ArrayBuffer, endCursors.buffer as ArrayBuffer]);
}
