import { ShmError } from '@shmlink/native';
import { assertInteger, checkOneOf, checkOptions, checkTimeout } from '@shmlink/native/internal';
import type { Codec, CodecName } from './codecs';
import type { Side } from './attachment';

export interface CommunicatorOptions<T = Buffer> {
  /** Which half this side writes: 'a' writes the first half and reads the second, 'b' the reverse.
   *  Default: the side whose writer slot is free ('a' first). Ignored when positions are set. */
  side?: Side;
  /** How long receiveSync() spins on the shared cursor before it sleeps while the stream is
   *  sparse, in microseconds. The event reader never spins (it would block the event loop).
   *  Default 0: an idle or sparse receiver sleeps at once. */
  spin?: number;
  /** How long receiveSync() spins before it sleeps while the stream is dense (most recent waits
   *  ended within this time, as in a request-reply exchange), in microseconds: a futex wake-up
   *  costs several round trips. A stream that goes quiet falls back to `spin`. Default 200
   *  (docs/decisions.md §39); `spin` or lower turns the adaptation off. */
  spinBusy?: number;
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
  /** Which thread reads the ring: 'event-loop' (default) polls and sleeps on the event loop of
   *  the thread that owns the communicator; 'worker' runs a worker_threads Worker that sleeps on
   *  the ring's futex, parses (and, for the built-in codecs, decodes) batches off this thread and
   *  hands them over transferred, not cloned — for an app whose event loop is its UI (Electron's
   *  main process). 'data' events, order, backpressure, peer events and dispose() behave the same;
   *  not with receive: 'view'. Costs round-trip latency and total CPU: docs/decisions.md §35. */
  reader?: 'event-loop' | 'worker';
  /** send() returns false once this many bytes wait in the queue for room (what the ring took at
   *  once does not count). Default: the ring size of the half this side writes. */
  highWaterMark?: number;
  /** Largest message accepted or delivered, in bytes: a larger one is refused with
   *  ERR_MESSAGE_TOO_LARGE by write(), and skipped with that error when it arrives. Messages larger
   *  than a frame are split into fragments either way. Default 64 MiB. */
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

export interface ReceiveOptions {
  /** Give up after this many ms and return null. Default Infinity. */
  timeout?: number;
  /** Spin this many µs on the cursor before sleeping, whatever the stream does. Default: adaptive,
   *  from the communicator's `spin` and `spinBusy`. */
  spin?: number;
}

/** The options a communicator works with, checked and with their defaults filled in. */
export interface ResolvedOptions<T> {
  side: Side | undefined;
  spin: number;
  spinBusy: number;
  poll: number;
  pollBusy: number;
  receive: 'copy' | 'view';
  reader: 'event-loop' | 'worker';
  highWaterMark: number | undefined;
  maxMessageSize: number;
  timeout: number;
  peerCheckInterval: number;
  mode: number | undefined;
  codec: CodecName | Codec<T> | undefined;
  path: string | undefined;
}

const OPTION_KEYS = ['side', 'spin', 'spinBusy', 'poll', 'pollBusy', 'receive', 'reader', 'highWaterMark', 'maxMessageSize', 'timeout', 'peerCheckInterval', 'mode', 'codec', 'path'] as const;
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

/** Checks a constructor's options (ERR_INVALID_ARGUMENT naming the bad one) and fills in defaults. */
export function resolveOptions<T>(options: CommunicatorOptions<T> | undefined): ResolvedOptions<T> {
  const opts = checkOptions<CommunicatorOptions<T>>(options, 'options', OPTION_KEYS);
  const side = opts.side === undefined ? undefined : checkOneOf(opts.side, 'side', ['a', 'b'] as const, 'a');
  const receive = opts.receive === undefined ? 'copy' : checkOneOf(opts.receive, 'receive', ['copy', 'view'] as const, 'copy');
  const reader = checkOneOf(opts.reader, 'reader', ['event-loop', 'worker'] as const, 'event-loop');
  if (reader === 'worker' && receive === 'view') {
    throw new ShmError('ERR_INVALID_ARGUMENT', "reader: 'worker' cannot lend views (receive: 'view'): a view is valid only on the thread and during the listener that reads the ring");
  }
  const spin = opts.spin ?? 0;
  assertInteger(spin, 'spin', 0, 1_000_000);
  const spinBusy = opts.spinBusy ?? 200;
  assertInteger(spinBusy, 'spinBusy', 0, 1_000_000);
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
  return { side, spin, spinBusy, poll, pollBusy, receive, reader, highWaterMark, maxMessageSize, timeout, peerCheckInterval, mode: opts.mode, codec: opts.codec, path: opts.path };
}
