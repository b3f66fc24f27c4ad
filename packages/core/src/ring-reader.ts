import { ShmError } from '@shmlink/native';
import { bufferView } from '@shmlink/native/internal';
import type { Half } from './half';
import { BEGIN_PREFIX, FRAME_HEADER, FrameType, HEAD_OFFSET, TAIL_OFFSET, align } from './ring-descriptor';

/** A message arriving in fragments, being put back together. */
interface Reassembly {
  buffer: Buffer | null; // null: the message is being skipped (too large)
  filled: number;
  total: number;
}

/** Raised inside a drain when the ring's contents break the protocol; the reader then resyncs. */
class Corrupt extends Error {}

export interface DrainResult {
  /** Copies, or with `borrow` views of the ring valid until release(). */
  messages: Buffer[];
  /** ERR_CORRUPT when the ring held garbage (everything published so far was skipped), or
   *  ERR_MESSAGE_TOO_LARGE when an incoming message was skipped. */
  error?: ShmError;
}

/**
 * The consumer side of one half's ring. It copies the published bytes out in one call, checks
 * every frame against the ring's geometry before using it, advances the head before handing the
 * messages over (a restarted consumer never replays), and wakes a producer waiting for space.
 * A borrowing drain hands out views of the ring instead and leaves the head where it was until
 * release(): the producer cannot overwrite what the views show before the caller is done.
 */
export class RingReader {
  readonly #half: Half;
  readonly #maxMessageSize: number;
  readonly #onPublish: () => void;
  /** The ring itself, for borrowing drains (null: this reader only copies). */
  readonly #view: Buffer | null;
  #head: number;
  /** A borrowing drain moved the head without storing it yet. */
  #unreleased = false;
  #partial: Reassembly | null = null;
  #notice: ShmError | undefined;
  /** A tail value found invalid: ignored until the producer stores another one. */
  #badTail = -1;

  /**
   * `ringView`: a view of this half's ring (Region.view), when borrowing drains are wanted.
   * `onPublish` is called after each store of the head: it wakes a producer waiting for space.
   */
  constructor(half: Half, maxMessageSize: number, ringView: Buffer | null, onPublish: () => void) {
    if (ringView !== null) half.checkRingView(ringView);
    this.#half = half;
    this.#maxMessageSize = maxMessageSize;
    this.#onPublish = onPublish;
    this.#view = ringView;
    this.#head = this.#recoverHead();
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

  /** Whether the producer has published bytes this reader has not consumed. */
  hasData(): boolean {
    const tail = this.#half.load(TAIL_OFFSET);
    return tail !== this.#head && tail !== this.#badTail;
  }

  /** The tail value to sleep on: the head, or an invalid tail already reported. */
  get waitValue(): number {
    return this.#badTail >= 0 ? this.#badTail : this.#head;
  }

  /**
   * Consumes every complete message published so far (up to `maxBytes` of ring per call). With
   * `borrow` (needs the ring view) whole messages are views of the ring, valid until release();
   * messages that came in fragments are copies either way. A copying drain stores the head at
   * once, which also gives back whatever an earlier borrowing drain lent.
   */
  drain(maxBytes: number, borrow = false): DrainResult {
    const half = this.#half;
    const messages: Buffer[] = [];
    const view = borrow ? this.#view : null;
    if (borrow && view === null) throw new ShmError('ERR_INVALID_STATE', 'this reader has no ring view to lend');
    const tail = half.load(TAIL_OFFSET);
    if (tail === this.#head || tail === this.#badTail) return { messages };
    this.#badTail = -1;
    try {
      const used = (tail - this.#head + half.wrap) % half.wrap;
      if (tail >= half.wrap || tail % 8 !== 0 || used > half.ringSize) {
        throw new Corrupt(`producer cursor tail=${tail} is invalid for head=${this.#head} ringSize=${half.ringSize}`);
      }
      let consumed = 0;
      while (consumed < used && consumed < maxBytes) {
        const step = this.#parse(used - consumed, maxBytes - consumed, messages, view);
        if (step === 0) break;
        consumed += step;
        this.#head = (this.#head + step) % half.wrap;
      }
      this.#moved(borrow);
      const error = this.#notice;
      this.#notice = undefined;
      return error === undefined ? { messages } : { messages, error };
    } catch (err) {
      if (!(err instanceof Corrupt)) throw err;
      // Defined recovery: skip everything published so far and continue from the producer's tail;
      // an invalid tail is ignored (not re-reported) until the producer stores a new one.
      const tailValid = tail < half.wrap && tail % 8 === 0;
      const resync = tailValid ? tail : this.#head;
      if (!tailValid) this.#badTail = tail;
      this.#head = resync;
      this.#partial = null;
      this.#moved(borrow);
      return { messages, error: new ShmError('ERR_CORRUPT', `ring of half at ${half.base} in '${half.region.name}': ${err.message}`) };
    }
  }

  /** Gives the ring space of everything drained so far back to the producer. */
  release(): void {
    if (!this.#unreleased) return;
    this.#unreleased = false;
    this.#publish();
  }

  #moved(borrow: boolean): void {
    if (borrow) this.#unreleased = true;
    else this.#publish();
  }

  #publish(): void {
    const half = this.#half;
    half.store(HEAD_OFFSET, this.#head);
    this.#onPublish();
  }

  /**
   * Parses frames in the contiguous bytes from the head; returns how many ring bytes it consumed.
   * It copies out about `budget` bytes (bounding the time one batch holds the event loop), but
   * always the whole first frame, so that every call makes progress.
   */
  #parse(available: number, budget: number, out: Buffer[], view: Buffer | null): number {
    const half = this.#half;
    const index = this.#head % half.ringSize;
    const toEnd = half.ringSize - index;
    let length = Math.min(available, toEnd);
    let windowed = false;
    if (length > budget) {
      const first = align(FRAME_HEADER + half.region.load(half.ring + index));
      const take = Math.max(budget, Math.min(first, length));
      if (take < length) {
        length = take;
        windowed = true;
      }
    }
    const chunk = view === null ? half.region.read(half.ring + index, length) : bufferView(view, index, length);
    const words = new DataView(chunk.buffer, chunk.byteOffset, length);
    let pos = 0;
    while (pos + FRAME_HEADER <= length) {
      const bodyLength = words.getUint32(pos, true);
      const type = words.getUint32(pos + 4, true);
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
      if (type === FrameType.Message && this.#partial === null) {
        // The common case, inline: a whole message is a view of the chunk.
        out.push(bufferView(chunk, pos + FRAME_HEADER, bodyLength));
      } else {
        this.#frame(type, chunk, pos + FRAME_HEADER, bodyLength, out);
      }
      pos += size;
    }
    if (pos === 0 && length > 0) throw new Corrupt(`${length} published bytes hold no complete frame`);
    return pos;
  }

  #frame(type: number, chunk: Buffer, body: number, length: number, out: Buffer[]): void {
    switch (type) {
      case FrameType.Message:
        // A new message while another was being reassembled: its producer restarted or gave up.
        this.#partial = null;
        out.push(bufferView(chunk, body, length));
        return;
      case FrameType.Begin: {
        if (length < BEGIN_PREFIX) throw new Corrupt(`begin frame of ${length} bytes has no total length`);
        const total = chunk.readUInt32LE(body);
        const piece = length - BEGIN_PREFIX;
        if (total <= piece) throw new Corrupt(`begin frame total=${total} is not larger than its fragment=${piece}`);
        if (total > this.#maxMessageSize) {
          this.#partial = { buffer: null, filled: piece, total };
          this.#notice = new ShmError('ERR_MESSAGE_TOO_LARGE', `incoming message of ${total} bytes skipped: exceeds maxMessageSize=${this.#maxMessageSize}`);
          return;
        }
        const buffer = Buffer.allocUnsafe(total);
        chunk.copy(buffer, 0, body + BEGIN_PREFIX, body + length);
        this.#partial = { buffer, filled: piece, total };
        return;
      }
      case FrameType.Continue:
      case FrameType.End: {
        const partial = this.#partial;
        // Fragments whose beginning this consumer never saw (it attached mid-message) are dropped.
        if (partial === null) return;
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
          if (partial.buffer !== null) out.push(partial.buffer);
        }
        return;
      }
      default:
        throw new Corrupt(`unknown frame type=${type}`);
    }
  }
}
