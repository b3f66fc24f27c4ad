import { ShmError } from '@shmlink/native';
import type { Communicator } from './communicator';
import type { PeerEvent } from './peer';

/** How often a byte stream whose peer is gone looks again for the bytes that peer left (#peerGoneNow). */
const RECHECK_MS = 20;

/** Where a MessageSource delivers: the consumer side of one stream adapter. */
export interface MessageSink<T> {
  /** One message; returns false when the consumer's buffer is full (the source pauses). */
  message(value: T): boolean;
  /** The communicator was disposed: no message follows. */
  end(): void;
  /** The communicator emitted 'error', or the sink threw: the stream ends with it. */
  fail(error: Error): void;
}

/**
 * The reading half of every stream adapter (async iterator, Node Readable, Web ReadableStream):
 * listens to a communicator's 'data', 'error' and 'close', and carries the consumer's backpressure
 * back to the ring by stopping the event reader from inside the 'data' listener. A reader stopped
 * there leaves the rest of its batch in the ring (the head is committed only past delivered
 * messages, docs/protocol.md §3), so pausing neither loses nor reorders anything; the ring then
 * fills and the peer's writes wait. The source owns the reader while it is open: other 'data'
 * listeners see the same messages, at the consumer's pace.
 */
export class MessageSource<T> {
  readonly #comm: Communicator<T>;
  readonly #sink: MessageSink<T>;
  /** Lent views (receive: 'view') are only valid inside the listener: the source copies them. */
  readonly #copy: boolean;
  /** Byte streams: the peer that died or left — the stream fails once the ring holds nothing more of it. */
  #peerGone: PeerEvent | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #flowing = false;
  #closed = false;

  readonly #onData = (value: T): void => {
    if (this.#closed) return;
    const kept = this.#copy && Buffer.isBuffer(value) ? (Buffer.from(value) as T) : value;
    let more: boolean;
    try {
      more = this.#sink.message(kept);
    } catch (err) {
      // A message the stream cannot carry ends it, as an error of the stream's (not a crash).
      this.close();
      this.#sink.fail(err as Error);
      return;
    }
    if (!more) this.pause();
    if (this.#peerGone !== undefined) this.#checkPeerGone();
  };

  readonly #onPeer = (event: PeerEvent): void => {
    if (event.type !== 'died' && event.type !== 'disconnected') return;
    this.#peerGone = event;
    this.#checkPeerGone();
  };

  readonly #onError = (error: ShmError): void => {
    if (this.#closed) return;
    this.close();
    this.#sink.fail(error);
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.close();
    this.#sink.end();
  };

  /**
   * `watchPeer` (byte streams, which end in-band): a peer that dies or leaves fails the sink with
   * ERR_PEER_GONE once everything it published has been handed over — the end it never sent.
   */
  constructor(comm: Communicator<T>, sink: MessageSink<T>, options: { watchPeer?: boolean } = {}) {
    this.#comm = comm;
    this.#sink = sink;
    this.#copy = comm.lendsViews;
    comm.on('data', this.#onData);
    comm.on('error', this.#onError);
    comm.on('close', this.#onClose);
    if (options.watchPeer === true) comm.on('peer', this.#onPeer);
  }

  /**
   * The peer event comes before the reader drains what the peer left, and a message's space is
   * committed after its listener returns: look once the reader has moved on (a microtask runs at
   * its next await, after the batch's commit). The unfinished fragments of a message the peer
   * died in are given back without a delivery to look after: while bytes remain, look again
   * every RECHECK_MS.
   */
  #checkPeerGone(): void {
    queueMicrotask(() => this.#peerGoneNow());
  }

  #peerGoneNow(): void {
    const gone = this.#peerGone;
    if (this.#closed || gone === undefined || this.#comm.disposed) return;
    if (this.#comm.incomingBytes > 0) {
      this.#recheck ??= setTimeout(() => {
        this.#recheck = undefined;
        this.#peerGoneNow();
      }, RECHECK_MS);
      return;
    }
    this.close();
    const how = gone.type === 'died' ? 'died' : 'left';
    this.#sink.fail(new ShmError('ERR_PEER_GONE', `the peer (pid ${gone.pid}) ${how} before it ended the byte stream`));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Lets messages flow (starts the reader). A communicator already disposed ends the sink here.
   * A reader that fails to start (the channel cannot be joined) fails the sink.
   */
  resume(): void {
    if (this.#closed) return;
    if (this.#comm.disposed) {
      this.#onClose();
      return;
    }
    this.#flowing = true;
    if (this.#comm.readerRunning) return;
    try {
      this.#comm.startReader();
    } catch (err) {
      this.close();
      this.#sink.fail(err as Error);
    }
  }

  /** Stops the flow after the message being delivered; the rest stays in the ring. */
  pause(): void {
    if (!this.#flowing) return;
    this.#flowing = false;
    if (!this.#comm.disposed) void this.#comm.stopReader();
  }

  /** Detaches from the communicator (stopping the reader if it flows for us). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.pause();
    this.#closed = true;
    this.#comm.off('data', this.#onData);
    this.#comm.off('error', this.#onError);
    this.#comm.off('close', this.#onClose);
    this.#comm.off('peer', this.#onPeer);
    clearTimeout(this.#recheck);
  }
}
