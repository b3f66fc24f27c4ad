import { ShmError } from '@shmlink/native';
import { ViewBuffer, bufferView } from '@shmlink/native/internal';
import type { Half } from './half';
import { BEGIN_PREFIX, FRAME_HEADER, FRAME_LAP_SHIFT, FRAME_TYPE_MASK, FrameType, HEAD_OFFSET, ORPHAN_OFFSET, TAIL_OFFSET, align, lapOf } from './ring-descriptor';

/** Frame headers a windowed batch reads ahead to cut at a frame's end (see #window). */
const WINDOW_FRAMES = 16;

/** A message arriving in fragments, being put back together. */
interface Reassembly {
  buffer: Buffer | null; // null: the message is being skipped (too large)
  filled: number;
  total: number;
}

/**
 * Raised inside a drain when the ring's contents break the protocol; the reader then resyncs to
 * `resume` (default: the tail). `reported`: the corruption was reported already (see #stale).
 */
class Corrupt extends Error {
  constructor(
    message: string,
    readonly resume?: number,
    readonly reported = false,
  ) {
    super(message);
  }
}

/** Raised at a frame of an earlier lap: the tail ran ahead of the producer (see drain()). */
class Stale extends Error {
  constructor(
    message: string,
    readonly cursor: number,
  ) {
    super(message);
  }
}

export interface DrainResult {
  /** Copies, or with `borrow` views of the ring valid until the space is committed. */
  messages: Buffer[];
  /** The cursor just after each message: commit(ends[i]) once message i has been handed over. */
  ends: number[];
  /** ERR_CORRUPT when the ring held garbage (skipped, or waited out: see drain()), or
   *  ERR_MESSAGE_TOO_LARGE when an incoming message was skipped. */
  error?: ShmError;
}

/**
 * The consumer side of one half's ring. It copies the published bytes out in one call (or lends
 * views of the ring), checks every frame against the ring's geometry and lap before using it, and
 * reassembles fragments. Parsing and storing the head are separate steps: the caller commits the
 * head past each message once it has been handed over, so the stored head never passes a message
 * nobody received, and a reader that stops early rewinds to what it committed. A producer waiting
 * for space is woken at commitAll(), once per batch (a reader that drains on defers it until half
 * the ring is free: commitBatch).
 */
export class RingReader {
  readonly #half: Half;
  readonly #maxMessageSize: number;
  readonly #onPublish: () => void;
  /** The ring itself, for borrowing drains and takeOne() (null: this reader only copies). */
  readonly #view: Buffer | null;
  /** Frame headers read in place by takeOne(), over #view. */
  readonly #words: DataView | null;
  /** takeOne(): the cursor just after the message it returned last. */
  #takenEnd = 0;
  /** Where parsing goes on: at or ahead of the stored head. */
  #head: number;
  /** The head as last stored in shared memory. */
  #stored: number;
  /** The stored head when a waiting producer was last woken for it. */
  #announced: number;
  #partial: Reassembly | null = null;
  /** The cursor of the partial message's BEGIN. */
  #partialStart = 0;
  /** The stored head has passed that BEGIN: holding it back is no use any more. */
  #partialReleased = false;
  /** The last valid tail drain() parsed up to. */
  #lastTail = 0;
  #notice: ShmError | undefined;
  /** A tail value found invalid: ignored until the producer stores another one. */
  #badTail = -1;
  /** Where a frame of an earlier lap stopped parsing: a second stop there means garbage, not a stale tail. */
  #staleAt = -1;
  /** The tail when parsing stopped there: where the garbage ends, if garbage it is. */
  #staleTail = -1;
  /** An orphan fragment was reported for the message being skipped (one request per message). */
  #orphanReported = false;

  /**
   * `ringView`: a view of this half's ring (Region.view), when borrowing drains are wanted.
   * `onPublish` is called after commitAll() stores the head: it wakes a producer waiting for space.
   */
  constructor(half: Half, maxMessageSize: number, ringView: Buffer | null, onPublish: () => void) {
    if (ringView !== null) half.checkRingView(ringView);
    this.#half = half;
    this.#maxMessageSize = maxMessageSize;
    this.#onPublish = onPublish;
    this.#view = ringView;
    this.#words = ringView === null ? null : new DataView(ringView.buffer, ringView.byteOffset, ringView.length);
    this.#head = this.#recoverHead();
    this.#stored = this.#head;
    this.#announced = this.#head;
  }

  #recoverHead(): number {
    const half = this.#half;
    const head = half.load(HEAD_OFFSET);
    // The head is the consumer's own cursor: a well-formed one is kept whatever the tail says. A
    // bad tail is for drain() to report and ride out; moving the head by it here skipped unread
    // messages (or replayed read ones) without a word.
    if (head < half.wrap && head % 8 === 0) return head;
    const tail = half.load(TAIL_OFFSET);
    const resync = tail < half.wrap && tail % 8 === 0 ? tail : 0;
    half.store(HEAD_OFFSET, resync);
    this.#notice = new ShmError('ERR_CORRUPT', `consumer cursor head=${head} of half at ${half.base} in '${half.region.name}' was invalid; resumed at ${resync}`);
    return resync;
  }

  /** Whether the producer has published bytes this reader has not parsed. */
  hasData(): boolean {
    const tail = this.#half.load(TAIL_OFFSET);
    return tail !== this.#head && tail !== this.#badTail;
  }

  /** Bytes published past the stored head: what this side has not handed over yet (0 for an invalid tail). */
  unconsumed(): number {
    const half = this.#half;
    const tail = half.load(TAIL_OFFSET);
    if (tail >= half.wrap || tail === this.#badTail) return 0;
    return (tail - this.#stored + half.wrap) % half.wrap;
  }

  /**
   * Parses every complete message published so far (up to `maxBytes` of ring per call), without
   * storing the head. With `borrow` (needs the ring view) whole messages are views of the ring,
   * valid until their space is committed; messages that came in fragments are copies either way.
   */
  drain(maxBytes: number, borrow = false): DrainResult {
    const half = this.#half;
    const messages: Buffer[] = [];
    const ends: number[] = [];
    const view = borrow ? this.#view : null;
    if (borrow && view === null) throw new ShmError('ERR_INVALID_STATE', 'this reader has no ring view to lend');
    const tail = half.load(TAIL_OFFSET);
    if (tail === this.#head || tail === this.#badTail) return this.#result(messages, ends);
    this.#badTail = -1;
    try {
      const used = (tail - this.#head + half.wrap) % half.wrap;
      if (tail >= half.wrap || tail % 8 !== 0 || used > half.ringSize) {
        throw new Corrupt(`producer cursor tail=${tail} is invalid for head=${this.#head} ringSize=${half.ringSize}`);
      }
      this.#lastTail = tail;
      let consumed = 0;
      while (consumed < used && consumed < maxBytes) {
        const step = this.#parse(used - consumed, maxBytes - consumed, messages, ends, view);
        if (step === 0) break;
        consumed += step;
        this.#head = (this.#head + step) % half.wrap;
      }
      return this.#result(messages, ends);
    } catch (err) {
      if (err instanceof Stale) {
        // The frames up to here are the producer's; from here on the ring holds an earlier lap,
        // exposed by a tail that ran ahead of the producer (garbage over the tail word). Stop here
        // and wait for the producer to store its tail again: nothing is skipped.
        this.#head = err.cursor;
        this.#badTail = tail;
        this.#staleAt = err.cursor;
        this.#staleTail = tail;
        return { messages, ends, error: new ShmError('ERR_CORRUPT', `ring of half at ${half.base} in '${half.region.name}': ${err.message}`) };
      }
      if (!(err instanceof Corrupt)) throw err;
      // Defined recovery: skip everything published so far and continue from the producer's tail;
      // an invalid tail is ignored (not re-reported) until the producer stores a new one.
      const tailValid = tail < half.wrap && tail % 8 === 0;
      const resync = err.resume ?? (tailValid ? tail : this.#head);
      if (!tailValid) this.#badTail = tail;
      this.#head = resync;
      this.#partial = null;
      if (err.reported) return { messages, ends };
      return { messages, ends, error: new ShmError('ERR_CORRUPT', `ring of half at ${half.base} in '${half.region.name}': ${err.message}`) };
    }
  }

  /**
   * The synchronous receiver's fast path (receiveSync): the next message when the published bytes
   * are exactly one whole MESSAGE frame of this lap, nothing is being reassembled and nothing waits
   * to be reported — what a request-reply exchange finds every time — copied straight out of the
   * ring into a Buffer of its own: one frame header read in place and one copy, no batch, no native
   * call. `undefined` when nothing was published; null when anything else is there (several
   * frames, padding, fragments, garbage), for drain() — which checks and reports everything — to
   * parse. Like drain() it stores nothing: commit `takenEnd` once the message is handed over. The
   * header is read once into locals and checked before use, so a peer that changes it meanwhile
   * changes only the bytes copied, never how many or from where.
   */
  takeOne(): Buffer | null | undefined {
    const words = this.#words;
    if (words === null || this.#partial !== null || this.#notice !== undefined) return null;
    const half = this.#half;
    const head = this.#head;
    const tail = half.load(TAIL_OFFSET);
    if (tail === head || tail === this.#badTail) return undefined;
    const wrap = half.wrap;
    const ringSize = half.ringSize;
    if (tail >= wrap || tail % 8 !== 0) return null;
    const used = tail > head ? tail - head : tail + wrap - head;
    const index = head % ringSize;
    // One frame, not crossing the ring's end (then used <= ringSize too): more is drain()'s, which
    // takes a batch with one copy and wakes a producer waiting for space once per batch.
    if (used > ringSize - index || used > half.maxFramePayload + FRAME_HEADER) return null;
    const bodyLength = words.getUint32(index, true);
    const word = words.getUint32(index + 4, true);
    if (word !== ((FrameType.Message | (lapOf(head, ringSize) << FRAME_LAP_SHIFT)) >>> 0) || align(FRAME_HEADER + bodyLength) !== used) return null;
    const view = this.#view!;
    const message = Buffer.allocUnsafe(bodyLength);
    message.set(new Uint8Array(view.buffer, view.byteOffset + index + FRAME_HEADER, bodyLength));
    this.#badTail = -1;
    this.#lastTail = tail;
    this.#staleAt = -1;
    this.#orphanReported = false;
    this.#head = tail;
    this.#takenEnd = tail;
    return message;
  }

  /** The cursor just after the message takeOne() returned last: commit it once handed over. */
  get takenEnd(): number {
    return this.#takenEnd;
  }

  #result(messages: Buffer[], ends: number[]): DrainResult {
    const error = this.#notice;
    this.#notice = undefined;
    return error === undefined ? { messages, ends } : { messages, ends, error };
  }

  /** Stores the head at `cursor` (a message's end from drain()): its space goes back to the producer. */
  commit(cursor: number): void {
    if (cursor === this.#stored) return;
    this.#stored = cursor;
    this.#half.store(HEAD_OFFSET, cursor);
  }

  /**
   * Stores the head at the parse position (after a batch was handed over) and wakes a waiting
   * producer. While a message is held in part and more of the ring is published than was parsed,
   * the head stays at its BEGIN: the rest is there, and a reader that dies now leaves the whole
   * message to the next. Once everything published is parsed, the fragments' space goes back —
   * the producer may need it to finish the message, and then keeps it to send again
   * (docs/protocol.md §6).
   */
  commitAll(deferWake = false): void {
    this.commitBatch(this.batchTarget(), deferWake);
  }

  /**
   * Where commitAll() would store the head now (the parse position, or the BEGIN of a message
   * held in part), marking a held message released as commitAll() would. For a reader whose head
   * another thread stores (reader: 'worker'), which calls commitBatch() with it after delivery.
   */
  batchTarget(): number {
    const hold = this.#partial !== null && !this.#partialReleased && this.#head !== this.#lastTail;
    if (this.#partial !== null && !hold) this.#partialReleased = true;
    return hold ? this.#partialStart : this.#head;
  }

  /**
   * Stores the head at a batch's end (`batchTarget()`'s answer) and wakes a waiting producer. With
   * `deferWake` — for a reader that goes on draining at once — the wake waits until at least half
   * the ring is free: a producer asleep on a full ring of large messages was woken after every
   * message (one doorbell write, and the wake-up it causes, per message), and now refills half a
   * ring per wake-up. The caller must call flushWake() before it stops draining (sleeps, yields,
   * stops), so that no deferred wake is left behind (docs/decisions.md §41).
   */
  commitBatch(target: number, deferWake = false): void {
    this.commit(target);
    // Per-message commits wake nobody: a producer waiting for space is woken here, once a batch.
    if (this.#stored === this.#announced) return;
    if (deferWake && this.unconsumed() > this.#half.ringSize / 2) return;
    this.flushWake();
  }

  /** Wakes a producer waiting for space if the stored head moved since it was last woken. */
  flushWake(): void {
    if (this.#stored === this.#announced) return;
    this.#announced = this.#stored;
    this.#onPublish();
  }

  /**
   * Goes back to the stored head, to parse again what was drained but not committed (the caller
   * stopped before handing it over). The stored head is a message's end there, so a message being
   * reassembled began after it and will be parsed again from its BEGIN.
   */
  rewind(): void {
    if (this.#stored === this.#head) return;
    this.#head = this.#stored;
    this.#partial = null;
  }

  /**
   * Parses frames in the contiguous bytes from the head; returns how many ring bytes it consumed.
   * It copies out about `budget` bytes (bounding the time one batch holds the event loop), but
   * always the whole first frame, so that every call makes progress.
   */
  #parse(available: number, budget: number, out: Buffer[], ends: number[], view: Buffer | null): number {
    const half = this.#half;
    const base = this.#head;
    const wrap = half.wrap;
    const index = base % half.ringSize;
    const toEnd = half.ringSize - index;
    const lap = lapOf(base, half.ringSize);
    let length = Math.min(available, toEnd);
    let windowed = false;
    if (length > budget) {
      const take = this.#window(index, length, budget);
      if (take < length) {
        length = take;
        windowed = true;
      }
    }
    const chunk = view === null ? half.region.read(half.ring + index, length) : bufferView(view, index, length);
    // Read once: a message's Buffer is then constructed from them (ViewBuffer), ≈ 15 ns a message
    // less than bufferView(), which reads both getters each time.
    const memory = chunk.buffer;
    const offset = chunk.byteOffset;
    const words = new DataView(memory, offset, length);
    let pos = 0;
    while (pos + FRAME_HEADER <= length) {
      const bodyLength = words.getUint32(pos, true);
      const word = words.getUint32(pos + 4, true);
      const type = word & FRAME_TYPE_MASK;
      if (word >>> FRAME_LAP_SHIFT !== lap) this.#otherLap(base + pos, type, bodyLength, word >>> FRAME_LAP_SHIFT, lap);
      if (type === FrameType.Padding) {
        if (align(FRAME_HEADER + bodyLength) !== toEnd - pos) {
          throw new Corrupt(`padding frame of ${bodyLength} bytes at ring index ${index + pos} does not end at the ring's end`);
        }
        if (toEnd > available) {
          throw new Corrupt(`padding frame at ring index ${index + pos} runs past the published tail`);
        }
        return toEnd;
      }
      if (bodyLength > half.maxFramePayload) {
        throw new Corrupt(`frame length=${bodyLength} exceeds the largest frame payload=${half.maxFramePayload}`);
      }
      const size = align(FRAME_HEADER + bodyLength);
      if (pos + size > length) {
        // A frame cut by the budget is read next time; one cut by the tail or the ring end is garbage.
        if (windowed && pos > 0) break;
        throw new Corrupt(`frame of ${size} bytes at ring index ${index + pos} crosses the published tail or the ring's end`);
      }
      const end = base + pos + size;
      if (type === FrameType.Message && this.#partial === null) {
        // The common case, inline: a whole message is a view of the chunk.
        out.push(new ViewBuffer(memory, offset + pos + FRAME_HEADER, bodyLength));
        ends.push(end >= wrap ? end - wrap : end);
        this.#orphanReported = false;
      } else {
        this.#frame(type, chunk, pos + FRAME_HEADER, bodyLength, out, ends, base + pos, end >= wrap ? end - wrap : end);
      }
      pos += size;
    }
    if (pos === 0 && length > 0) throw new Corrupt(`${length} published bytes hold no complete frame`);
    this.#staleAt = -1;
    return pos;
  }

  /**
   * How many of the `length` published bytes at ring `index` one batch takes: about `budget`, but
   * always the whole first frame, and cut at a frame's end where the frames are large — a window
   * cut inside a frame copied that frame's bytes for nothing (it is parsed again by the next
   * batch), which for 64 KiB messages and a 128 KiB window was every other message copied twice.
   * Up to WINDOW_FRAMES headers are read from the ring, and only while frames are larger than
   * budget / WINDOW_FRAMES: a smaller one ends the walk with the plain window (a cut frame wastes
   * little there). A garbage length ends the walk too: the parser reports it.
   */
  #window(index: number, length: number, budget: number): number {
    const region = this.#half.region;
    const ring = this.#half.ring;
    let cut = 0;
    for (let frames = 0; frames < WINDOW_FRAMES && cut + FRAME_HEADER <= length; frames++) {
      const size = align(FRAME_HEADER + region.load(ring + index + cut));
      if (cut + size > length || (cut > 0 && cut + size > budget)) {
        return cut > 0 ? cut : Math.max(budget, Math.min(size, length));
      }
      // Small frames: a cut one wastes little, and walking on would cost a load per frame.
      if (size * WINDOW_FRAMES < budget) return Math.max(cut, budget);
      cut += size;
    }
    return Math.max(cut, budget);
  }

  /**
   * A frame of another lap at `cursor`. A well-formed one, the first time there, is taken for
   * stale bytes exposed by a tail that ran ahead of the producer: drain() stops and waits for the
   * producer's own tail. Found again at the same place once the tail moved, it was garbage up to
   * the tail seen the first time: parsing resumes there, without a second report.
   */
  #otherLap(cursor: number, type: number, bodyLength: number, found: number, expected: number): never {
    const what = `frame at cursor ${cursor} is from lap ${found}, expected lap ${expected}`;
    if (cursor === this.#staleAt) throw new Corrupt(what, this.#staleTail, true);
    const wellFormed = type >= FrameType.Message && type <= FrameType.Padding && (type === FrameType.Padding || bodyLength <= this.#half.maxFramePayload);
    if (!wellFormed) throw new Corrupt(`${what}, type=${type} length=${bodyLength}`);
    throw new Stale(`${what}: stale bytes behind a producer cursor that ran ahead; waiting for the producer`, cursor);
  }

  #frame(type: number, chunk: Buffer, body: number, length: number, out: Buffer[], ends: number[], cursor: number, end: number): void {
    switch (type) {
      case FrameType.Message:
        // A new message while another was being reassembled: its producer restarted or gave up.
        this.#partial = null;
        this.#orphanReported = false;
        out.push(bufferView(chunk, body, length));
        ends.push(end);
        return;
      case FrameType.Begin: {
        if (length < BEGIN_PREFIX) throw new Corrupt(`begin frame of ${length} bytes has no total length`);
        const total = chunk.readUInt32LE(body);
        const piece = length - BEGIN_PREFIX;
        if (total <= piece) throw new Corrupt(`begin frame total=${total} is not larger than its fragment=${piece}`);
        this.#orphanReported = false;
        if (total > this.#maxMessageSize) {
          this.#partial = { buffer: null, filled: piece, total };
          this.#partialStart = cursor;
        this.#partialReleased = false;
          this.#notice = new ShmError('ERR_MESSAGE_TOO_LARGE', `incoming message of ${total} bytes skipped: exceeds maxMessageSize=${this.#maxMessageSize}`);
          return;
        }
        const buffer = Buffer.allocUnsafe(total);
        chunk.copy(buffer, 0, body + BEGIN_PREFIX, body + length);
        this.#partial = { buffer, filled: piece, total };
        this.#partialStart = cursor;
        this.#partialReleased = false;
        return;
      }
      case FrameType.Continue:
      case FrameType.End: {
        const partial = this.#partial;
        if (partial === null) {
          // A fragment whose BEGIN this consumer never saw: the reader before it went away in the
          // middle of this message. Ask the producer to send it again (docs/protocol.md §6) —
          // before the head passes this frame, which is when the producer looks.
          if (!this.#orphanReported) {
            this.#orphanReported = true;
            this.#half.store(ORPHAN_OFFSET, cursor + 1);
          }
          return;
        }
        if (partial.filled + length > partial.total) {
          throw new Corrupt(`fragments add up to more than the announced total=${partial.total}`);
        }
        partial.buffer?.set(chunk.subarray(body, body + length), partial.filled);
        partial.filled += length;
        if (type === FrameType.End) {
          if (partial.filled !== partial.total) {
            throw new Corrupt(`message ended at ${partial.filled} of its announced ${partial.total} bytes`);
          }
          this.#partial = null;
          if (partial.buffer !== null) {
            out.push(partial.buffer);
            ends.push(end);
          }
        }
        return;
      }
      default:
        throw new Corrupt(`unknown frame type=${type}`);
    }
  }
}
