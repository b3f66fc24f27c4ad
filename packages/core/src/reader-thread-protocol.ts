// What the communicator's thread and its reader thread (reader: 'worker') say to each other: the
// thread's start-up data, the messages it posts, and the control word both watch. Shared by
// worker-reader.ts (the communicator's side) and reader-thread.ts (the worker's side).
import type { ShmErrorCode } from '@shmlink/native';
import type { PeerEvent } from './peer';

/**
 * Which messages the reader thread decodes itself: the built-in codecs whose values survive a
 * structured clone unchanged ('text', 'json'); 'bytes' is not decoded at all, and every other
 * codec ('structured', a custom one) is decoded on the communicator's thread, from the bytes.
 */
export type ThreadDecode = 'bytes' | 'text' | 'json';

export interface ReaderThreadData {
  name: string;
  path: string | undefined;
  capacity: number;
  /** The half this side reads. */
  base: number;
  size: number;
  /** The epoch of this side's consumer slot when the communicator claimed it: proves that the
   *  region the thread opened by name is the communicator's own (the name may have been reused). */
  epoch: number;
  maxMessageSize: number;
  poll: number;
  pollBusy: number;
  peerCheckInterval: number;
  decode: ThreadDecode;
  /** An Int32Array's memory, CONTROL_WORDS long: the control word at [0]. */
  control: SharedArrayBuffer;
}

/**
 * The control word at index 0 of `ReaderThreadData.control`: the generation the thread should run
 * (each startReader() makes a new one), STOPPED, or EXIT. The thread reads the ring only while the
 * word holds its generation; the communicator changes the word, then wakes the thread through the
 * ring's consumer flag (the way the peer wakes it).
 */
export const CONTROL_WORDS = 1;
export const STOPPED = 0;
export const EXIT = -1;

/** Tells a thread that is not reading to start generation `gen` with the head as stored now. */
export interface StartMessage {
  kind: 'start';
  gen: number;
}

export interface ErrorInfo {
  code: ShmErrorCode;
  message: string;
}

/**
 * One drained batch. Messages are `spans` triples (index into `buffers`, offset, length) of bytes
 * moved here in the transfer list, or, when the thread decoded them, `values` (cloned: strings and
 * JSON values) with `failures` naming the ones that did not decode. `ends[i]` is the ring cursor
 * after message i; `target` is where the head goes once the whole batch was delivered (it may move
 * with no message: padding, or the fragments of a message not yet complete).
 */
export interface BatchMessage {
  kind: 'batch';
  gen: number;
  buffers: ArrayBuffer[];
  spans: Uint32Array;
  values: unknown[] | null;
  failures: { index: number; message: string }[];
  ends: Uint32Array;
  target: number;
  /** What the drain reported (ERR_CORRUPT, ERR_MESSAGE_TOO_LARGE), emitted before the messages. */
  error: ErrorInfo | undefined;
}

export interface PeerMessage {
  kind: 'peer';
  gen: number;
  events: PeerEvent[];
}

/** The thread left generation `gen` (the control word changed): nothing more of it follows. */
export interface StoppedMessage {
  kind: 'stopped';
  gen: number;
}

/** The thread could not open or check the region; it exits. */
export interface FailedMessage {
  kind: 'failed';
  error: ErrorInfo;
}

export type FromReaderThread = BatchMessage | PeerMessage | StoppedMessage | FailedMessage;
