import { ShmError, processAlive, processStartTime, type Region } from '@shmlink/native';
import { awaitHeader } from '@shmlink/native/internal';
import {
  HALF_SIZE_OFFSET,
  HEADER_SIZE,
  HEADER_SIZE_OFFSET,
  INITIALIZING,
  MAGIC,
  MAGIC_OFFSET,
  PartyState,
  RING_SIZE_OFFSET,
  Sleep,
  CLAIMING,
  VERSION,
  VERSION_OFFSET,
  maxFramePayload,
  ringSizeFor,
  wrapFor,
  claimerOf,
  type PartyFields,
} from './ring-descriptor';
import type { DoorbellRinger } from '@shmlink/native/internal';

/**
 * What the ring code needs of a mapping. In use it is @shmlink/native's Region; the framing and
 * parsing unit tests use a plain buffer with the same methods.
 */
export type RingMemory = Pick<Region, 'name' | 'load' | 'store' | 'compareExchange' | 'add' | 'notify' | 'wait' | 'read' | 'write'>;

/** A snapshot of one party's slot in a half header. */
export interface PartyInfo {
  pid: number;
  state: PartyState;
  epoch: number;
  startTime: number;
}

/**
 * One half of the mapping: its geometry and typed access to its header words. The half knows the
 * layout; the ring algorithms live in framer.ts and ring-reader.ts.
 */
export class Half {
  readonly region: RingMemory;
  readonly base: number;
  readonly size: number;
  readonly ringSize: number;
  readonly ring: number;
  readonly wrap: number;
  readonly maxFramePayload: number;
  /** This half's header as 32-bit words over the mapping, where the runtime allows a view of it. */
  readonly #words: Uint32Array | null;

  /**
   * `regionView`: the whole region as a Buffer (Region.view), where the runtime allows one. The
   * header words are then read and written with JavaScript's Atomics on it — sequentially
   * consistent, as the native calls are, and compiled inline: ≈ 10 ns a store against ≈ 100 ns for
   * a native call (docs/decisions.md §21). Without one (Electron), through the region's methods.
   */
  constructor(region: RingMemory, base: number, size: number, regionView: Buffer | null = null) {
    this.region = region;
    this.#words = regionView === null ? null : new Uint32Array(regionView.buffer, regionView.byteOffset + base, HEADER_SIZE / 4);
    this.base = base;
    this.size = size;
    this.ringSize = ringSizeFor(size);
    this.ring = base + HEADER_SIZE;
    this.wrap = wrapFor(this.ringSize);
    this.maxFramePayload = maxFramePayload(this.ringSize);
  }

  /** Throws unless `view` (a Buffer over the mapping) spans exactly this half's ring. */
  checkRingView(view: Buffer): void {
    if (view.length !== this.ringSize) {
      throw new ShmError('ERR_INVALID_ARGUMENT', `ring view of ${view.length} bytes for a ring of ${this.ringSize}`);
    }
  }

  load(field: number): number {
    const words = this.#words;
    return words === null ? this.region.load(this.base + field) : Atomics.load(words, field >> 2);
  }

  store(field: number, value: number): void {
    const words = this.#words;
    if (words === null) this.region.store(this.base + field, value);
    else Atomics.store(words, field >> 2, value);
  }

  compareExchange(field: number, expected: number, replacement: number): number {
    const words = this.#words;
    return words === null ? this.region.compareExchange(this.base + field, expected, replacement) : Atomics.compareExchange(words, field >> 2, expected, replacement);
  }

  notify(field: number, count = 1): void {
    this.region.notify(this.base + field, count);
  }

  /**
   * Wakes whoever announced sleep in `flag`, the way it asked (docs/protocol.md §4): the swap back
   * to 0 elects one waker, so one sleep costs one wake-up. A futex sleeper waits on the flag word
   * itself while it holds 1, so a wake that comes late (the sleeper already woke, or is about to
   * sleep again) only makes its next wait return at once: a spurious wake, never a lost one.
   */
  wakeIfSleeping(flag: number, doorbell: DoorbellRinger): void {
    const how = this.load(flag);
    if (how === Sleep.Awake || this.compareExchange(flag, how, Sleep.Awake) !== how) return;
    if (how === Sleep.Doorbell) doorbell.ring();
    else this.notify(flag);
  }

  /**
   * Initialises the header if nobody has (a compare-and-swap on the version word elects one side),
   * otherwise waits for it and checks that both sides agree on the geometry.
   */
  initialize(): void {
    const won = this.compareExchange(VERSION_OFFSET, 0, INITIALIZING) === 0;
    if (won) {
      this.store(HEADER_SIZE_OFFSET, HEADER_SIZE);
      this.store(RING_SIZE_OFFSET, this.ringSize);
      this.store(HALF_SIZE_OFFSET, this.size);
      this.store(MAGIC_OFFSET, MAGIC);
      this.store(VERSION_OFFSET, VERSION);
      return;
    }
    this.#check();
  }

  /**
   * Checks the header if somebody initialised it (or is doing so). Called on both halves before
   * either is initialised, so that a side with the wrong positions is refused before it writes a
   * header into the middle of a live channel.
   */
  verify(): void {
    if (this.load(VERSION_OFFSET) !== 0) this.#check();
  }

  #check(): void {
    const target = { name: `${this.region.name}@${this.base}`, load: (o: number) => this.load(o) };
    awaitHeader(target, {
      what: 'shmlink half',
      magic: MAGIC,
      version: VERSION,
      magicOffset: MAGIC_OFFSET,
      versionOffset: VERSION_OFFSET,
      pending: INITIALIZING,
    });
    const checks: [string, number, number][] = [
      ['headerSize', this.load(HEADER_SIZE_OFFSET), HEADER_SIZE],
      ['ringSize', this.load(RING_SIZE_OFFSET), this.ringSize],
      ['halfSize', this.load(HALF_SIZE_OFFSET), this.size],
    ];
    for (const [what, found, expected] of checks) {
      if (found !== expected) {
        throw new ShmError(
          'ERR_LAYOUT_MISMATCH',
          `half at offset ${this.base} of '${this.region.name}' has ${what}=${found} expected=${expected} ` +
            `(do both sides use the same capacity and positions?)`,
        );
      }
    }
  }

  readParty(fields: PartyFields): PartyInfo {
    return {
      pid: this.load(fields.pid),
      state: this.load(fields.state) as PartyState,
      epoch: this.load(fields.epoch),
      startTime: this.load(fields.startLo) + this.load(fields.startHi) * 0x100000000,
    };
  }

  /** The pid of the live process that holds the slot or is claiming it, else 0. */
  holder(fields: PartyFields): number {
    return this.#holderAt(fields, this.load(fields.state));
  }

  #holderAt(fields: PartyFields, state: number): number {
    if (state === PartyState.Attached) {
      const party = this.readParty(fields);
      return isAlive(party.pid, party.startTime) ? party.pid : 0;
    }
    // A claim in progress carries its claimer's pid; its start time is not written yet.
    const claimer = claimerOf(state);
    return claimer !== 0 && isAlive(claimer, 0) ? claimer : 0;
  }

  /**
   * Claims a party slot for this process (docs/protocol.md §5). The state word is the slot's lock:
   * a claimer swaps it from a free value to CLAIMING | pid, writes the other fields and stores
   * Attached, so two processes never both win. Returns 0, or the pid of the live process that
   * holds the slot or is claiming it (this process included: another communicator in it).
   */
  claimParty(fields: PartyFields): number {
    const me = process.pid;
    for (;;) {
      const state = this.load(fields.state);
      const epoch = this.load(fields.epoch);
      const holder = this.#holderAt(fields, state);
      if (holder !== 0) return holder;
      // Free, left, or held by a process that died: take the lock. A failed swap means somebody
      // else moved first: decide again on what they stored, never swap on a stale read.
      if (this.compareExchange(fields.state, state, CLAIMING + me) !== state) continue;
      if (state === PartyState.Attached && this.load(fields.epoch) !== epoch) {
        // A claimer finished between our reads and our swap (the epoch grows before Attached is
        // stored): the Attached we swapped is theirs, not the dead holder's. Give it back; if the
        // owner left meanwhile, its Left stands and the swap back fails.
        this.compareExchange(fields.state, CLAIMING + me, PartyState.Attached);
        continue;
      }
      const start = processStartTime(me) ?? 0;
      this.store(fields.pid, me);
      this.store(fields.startLo, start % 0x100000000);
      this.store(fields.startHi, Math.floor(start / 0x100000000));
      this.region.add(this.base + fields.epoch, 1);
      this.store(fields.state, PartyState.Attached);
      return 0;
    }
  }

  /**
   * Marks the slot left; only its holder calls this. A plain store even over a CLAIMING word: while
   * this process holds the slot, a claimer can own that word only to give Attached back (see
   * claimParty), and its swap back then fails on our Left.
   */
  leaveParty(fields: PartyFields): void {
    if (this.load(fields.pid) === process.pid) this.store(fields.state, PartyState.Left);
  }
}

/** A pid is the same live process when it exists and (where known) started at the same time. */
export function isAlive(pid: number, startTime: number): boolean {
  // The pid comes from shared memory: a value no process can have is nobody, not an error.
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff || !processAlive(pid)) return false;
  if (startTime === 0) return true;
  const now = processStartTime(pid);
  return now === null || now === startTime;
}
