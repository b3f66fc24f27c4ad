// Length-prefixed frames over a byte stream (the Unix-socket baseline): a 4-byte little-endian
// length, then the payload. The parser is the fair receiver a careful Node user would write: a
// frame that lies within one chunk is handed out as a view of that chunk (no copy); only a frame
// that spans chunks is assembled, copying each of its bytes once. Nothing is ever concatenated
// with what came before. Views are made as cheaply as shmlink's reader makes them (bufferView).
import { bufferView } from '@shmlink/native/internal';

export const FRAME_HEADER = 4;

/** One buffer holding the header and the payload (senders build it once and reuse it). */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.set(payload, FRAME_HEADER);
  return frame;
}

export class FrameParser {
  readonly #onFrame: (frame: Buffer) => void;
  readonly #maxFrame: number;
  readonly #header = Buffer.alloc(FRAME_HEADER);
  #headerFilled = 0;
  /** The frame being assembled across chunks, and how much of it has arrived. */
  #partial: Buffer | null = null;
  #filled = 0;

  constructor(onFrame: (frame: Buffer) => void, maxFrame = 1 << 30) {
    this.#onFrame = onFrame;
    this.#maxFrame = maxFrame;
  }

  /** Feeds one chunk as read from the stream. */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      const partial = this.#partial;
      if (partial !== null) {
        const n = Math.min(partial.length - this.#filled, end - pos);
        chunk.copy(partial, this.#filled, pos, pos + n);
        this.#filled += n;
        pos += n;
        if (this.#filled === partial.length) {
          this.#partial = null;
          this.#onFrame(partial);
        }
        continue;
      }
      let length: number;
      if (this.#headerFilled === 0 && end - pos >= FRAME_HEADER) {
        length = chunk.readUInt32LE(pos);
        pos += FRAME_HEADER;
      } else {
        // The header itself is split between chunks.
        const n = Math.min(FRAME_HEADER - this.#headerFilled, end - pos);
        chunk.copy(this.#header, this.#headerFilled, pos, pos + n);
        this.#headerFilled += n;
        pos += n;
        if (this.#headerFilled < FRAME_HEADER) return;
        this.#headerFilled = 0;
        length = this.#header.readUInt32LE(0);
      }
      if (length > this.#maxFrame) throw new Error(`frame length=${length} exceeds maxFrame=${this.#maxFrame}`);
      if (end - pos >= length) {
        this.#onFrame(bufferView(chunk, pos, length));
        pos += length;
      } else {
        this.#partial = Buffer.allocUnsafe(length);
        this.#filled = 0;
      }
    }
  }
}
