import { ShmError, type Region } from '@shmlink/native';
import { Doorbell, DoorbellRinger } from '@shmlink/native/internal';
import { RingFramer } from './framer';
import { Half } from './half';
import { PeerWatcher } from './peer';
import { PollWindow } from './poll-window';
import { CONSUMER, CONSUMER_SLEEPING_OFFSET, MIN_HALF, MIN_LOW_POSITION, PRODUCER, PRODUCER_WAITING_OFFSET } from './ring-descriptor';
import { RingReader } from './ring-reader';
import { SendQueue } from './send-queue';
import { WaitStrategy } from './wait-strategy';

export type Side = 'a' | 'b';

/** Where the two halves begin: explicit positions (the seed's ReadPosition/WritePosition) or a side. */
export interface Placement {
  readPosition?: number;
  writePosition?: number;
  side?: Side;
}

export interface AttachOptions {
  maxMessageSize: number;
  timeout: number;
  peerCheckInterval: number;
  /** Poll windows of the event-loop waits, in µs (see CommunicatorOptions). */
  poll: number;
  pollBusy: number;
  /** The whole region as a Buffer where the runtime allows one (frames in place, lent views). */
  regionView: Buffer | null;
  onError: (error: ShmError) => void;
  onSendFailure: (error: Error) => void;
  onDrain: () => void;
}

/** Side 'a' writes the lower half; the halves meet at the middle, rounded down to a cache line. */
export function defaultPositions(capacity: number, side: Side): { read: number; write: number } {
  const middle = Math.floor(capacity / 2 / 64) * 64;
  return side === 'a' ? { write: 0, read: middle } : { write: middle, read: 0 };
}

/** A half spans from its position to the next position above it, or to the end of the mapping. */
function halfEnd(position: number, other: number, capacity: number): number {
  return other > position ? other : capacity;
}

/**
 * Everything a communicator holds once it has joined the channel: the two halves with this side's
 * slots claimed, the framer and send queue of the half it writes, the reader of the half it reads,
 * the peer watcher, the doorbells and the wait strategies. Made only by Attachment.claim(), whole
 * or not at all.
 */
export class Attachment {
  readonly writeHalf: Half;
  readonly readHalf: Half;
  readonly writer: SendQueue;
  readonly reader: RingReader;
  readonly peer: PeerWatcher;
  /** This side's doorbell, keyed by the half it reads; waits for data and for space end there. */
  readonly doorbell: Doorbell;
  /** The peer's doorbell, keyed by the half it reads (ours). */
  readonly peerBell: DoorbellRinger;
  /** How the reader waits for data. */
  readonly dataWait: WaitStrategy;
  /** How the writer waits for space. */
  readonly spaceWait: WaitStrategy;
  readonly #framer: RingFramer;

  private constructor(name: string, writeHalf: Half, readHalf: Half, options: AttachOptions) {
    this.writeHalf = writeHalf;
    this.readHalf = readHalf;
    this.doorbell = new Doorbell(name, readHalf.base);
    this.peerBell = new DoorbellRinger(name, writeHalf.base);
    const peerBell = this.peerBell;
    this.spaceWait = new WaitStrategy(writeHalf, 'producer', this.doorbell, new PollWindow(options.poll, options.poll));
    this.dataWait = new WaitStrategy(readHalf, 'consumer', this.doorbell, new PollWindow(options.poll, options.pollBusy));
    const framer = new RingFramer(writeHalf, {
      ringView: ringViewOf(options.regionView, writeHalf),
      onCorrupt: options.onError,
      onPublish: () => writeHalf.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, peerBell),
    });
    this.writer = new SendQueue(framer, {
      timeoutMs: options.timeout,
      sleepSliceMs: options.peerCheckInterval,
      space: this.spaceWait,
      onSendFailure: options.onSendFailure,
      onDrain: options.onDrain,
    });
    this.#framer = framer;
    this.reader = new RingReader(readHalf, options.maxMessageSize, ringViewOf(options.regionView, readHalf), () =>
      readHalf.wakeIfSleeping(PRODUCER_WAITING_OFFSET, peerBell),
    );
    this.peer = new PeerWatcher(readHalf, options.peerCheckInterval);
    this.wakePeer();
  }

  /**
   * Splits the mapping, initialises the headers and claims this side's producer and consumer
   * slots: the given side or positions, else side 'a', else 'b'. ERR_INVALID_STATE when every
   * candidate side is held by a live process.
   */
  static claim(region: Region, name: string, placement: Placement, options: AttachOptions): Attachment {
    const capacity = region.size;
    const explicit = placement.readPosition !== undefined || placement.writePosition !== undefined;
    const sides: Side[] = explicit ? ['a'] : placement.side !== undefined ? [placement.side] : ['a', 'b'];
    let lastHolder = 0;
    for (const side of sides) {
      const defaults = defaultPositions(capacity, side);
      const read = placement.readPosition ?? defaults.read;
      const write = placement.writePosition ?? defaults.write;
      if (read === write) throw new ShmError('ERR_INVALID_ARGUMENT', `readPosition and writePosition are both ${read}`);
      const low = Math.min(read, write);
      if (low !== 0 && low < MIN_LOW_POSITION) {
        // Bytes 20-23 of the region hold the joined word (docs/protocol.md §1).
        throw new ShmError('ERR_INVALID_ARGUMENT', `the lower position is ${low}: expected 0 or >= ${MIN_LOW_POSITION}`);
      }
      const writeHalf = new Half(region, write, halfEnd(write, read, capacity) - write, options.regionView);
      const readHalf = new Half(region, read, halfEnd(read, write, capacity) - read, options.regionView);
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
      return new Attachment(name, writeHalf, readHalf, options);
    }
    throw new ShmError('ERR_INVALID_STATE', `every side of '${name}' is in use (last holder pid ${lastHolder})`);
  }

  /** The side this attachment took ('a' writes the lower half). */
  get side(): Side {
    return this.writeHalf.base < this.readHalf.base ? 'a' : 'b';
  }

  /** Wakes the peer's reader however it sleeps, so that it notices us arriving or leaving at once. */
  wakePeer(): void {
    this.writeHalf.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, this.peerBell);
  }

  /** Bytes this side wrote that the peer has not consumed. */
  unread(): number {
    return this.#framer.unread();
  }

  /** Whether the peer's producer slot holds a live process, attached or attaching. */
  peerAttached(): boolean {
    return this.readHalf.holder(PRODUCER) !== 0;
  }

  /** Commits what fits, rejects the rest, marks this side's slots as left and tells the peer. */
  leave(): void {
    this.writer.close();
    this.writeHalf.leaveParty(PRODUCER);
    this.readHalf.leaveParty(CONSUMER);
    this.wakePeer();
  }

  /** Releases the doorbells (the region is the communicator's to close). */
  close(): void {
    this.doorbell.close();
    this.peerBell.close();
  }
}

/** The ring of `half` as a Buffer, when the region has a view. */
function ringViewOf(regionView: Buffer | null, half: Half): Buffer | null {
  return regionView === null ? null : regionView.subarray(half.ring, half.ring + half.ringSize);
}
