import { of, retry, Subscription, tap, throwError } from 'rxjs';
import { isShmError, type Communicator, type PeerEvent } from '@shmlink/core';
import { decodeText, fromCommunicator, openCommunicator } from '@shmlink/rx';
import type { ChannelInfo, PeerStatus, Side } from './api';
import type { ElectronArgs } from './args';

/** Where the bridge delivers what arrives: the window, through Electron IPC (or a test's page). */
export interface BridgeSink {
  message(text: string): void;
  peer(status: PeerStatus): void;
  error(err: Error): void;
}

export function peerStatusOf(event: PeerEvent): PeerStatus {
  switch (event.type) {
    case 'connected':
    case 'restarted':
      return { state: 'connected', pid: event.pid };
    case 'disconnected':
      return { state: 'left', pid: event.pid };
    case 'died':
      return { state: 'died', pid: event.pid };
  }
}

/** The core carries on after these (the bad data is skipped), so the window keeps listening. */
function recoverable(err: unknown): boolean {
  return isShmError(err) && (err.code === 'ERR_CORRUPT' || err.code === 'ERR_MESSAGE_TOO_LARGE');
}

/**
 * One side of the conversation for the window: a Communicator opened through @shmlink/rx, its
 * messages decoded to text and its peer events turned into a status, both pushed to a sink.
 * Nothing here knows about Electron, so the tests run it against a page as it is.
 */
export class Bridge {
  readonly info: ChannelInfo;
  readonly #comm: Communicator;
  readonly #subscription = new Subscription();
  #sink: BridgeSink;
  #status: PeerStatus = { state: 'waiting' };

  /**
   * Opens the region and starts reading at once, delivering to `sink`. Without a side it takes the
   * free one, 'a' first, as the console demo does; it tries each side explicitly because the
   * communicator does not report which side an automatic choice took.
   */
  static open(args: ElectronArgs, sink: BridgeSink): Bridge {
    if (args.side !== undefined) return new Bridge(args.name, args.capacity, args.side, sink);
    try {
      return new Bridge(args.name, args.capacity, 'a', sink);
    } catch (err) {
      if (!isShmError(err) || err.code !== 'ERR_INVALID_STATE') throw err;
      return new Bridge(args.name, args.capacity, 'b', sink);
    }
  }

  private constructor(name: string, capacity: number, side: Side, sink: BridgeSink) {
    this.#sink = sink;
    let opened: Communicator | undefined;
    let openError: unknown;
    // openCommunicator opens on subscribe (synchronously) and disposes when unsubscribed.
    this.#subscription.add(
      openCommunicator(name, capacity, { side }).subscribe({ next: (c) => (opened = c), error: (err: unknown) => (openError = err) }),
    );
    if (opened === undefined) throw openError ?? new Error(`could not open '${name}'`);
    const comm = opened;
    this.#comm = comm;
    this.info = { name, side, capacity: comm.capacity };

    const onPeer = (event: PeerEvent): void => this.#setStatus(peerStatusOf(event));
    comm.on('peer', onPeer);
    this.#subscription.add(() => comm.off('peer', onPeer));
    this.#subscription.add(
      // The bridge owns the reader (startReader: false): an error ends this subscription, and the
      // re-subscription below must not stop and restart the reader in between.
      fromCommunicator(comm, { startReader: false })
        .pipe(
          decodeText(),
          tap({ error: (err: Error) => this.#sink.error(err) }),
          retry({ delay: (err: unknown) => (recoverable(err) ? of(true) : throwError(() => err)) }),
        )
        .subscribe({ next: (text) => this.#sink.message(text), error: () => undefined }),
    );
    this.#sink.peer(this.#status);
    try {
      comm.startReader(); // claims the side: fails ERR_INVALID_STATE when a live process holds it
    } catch (err) {
      this.#subscription.unsubscribe();
      throw err;
    }
  }

  /** Delivers to `sink` from now on (a reloaded page), starting with the current peer status. */
  setSink(sink: BridgeSink): void {
    this.#sink = sink;
    sink.peer(this.#status);
  }

  /** Resolves when the message is in shared memory; writes keep their call order. */
  send(text: string): Promise<void> {
    return this.#comm.write(text);
  }

  /** Disposes the communicator: the peer sees this side leave. */
  close(): void {
    this.#subscription.unsubscribe();
  }

  #setStatus(status: PeerStatus): void {
    this.#status = status;
    this.#sink.peer(status);
  }
}
