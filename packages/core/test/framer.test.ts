// The framer on its own: frames, padding at the wrap, fragments and the cursors' wrap-around at
// 2^32, checked frame by frame against a plain in-memory region and read back by the ring reader;
// then the two ways of assembling frames — in place through a view of the ring, or in a staging
// buffer copied in (where the runtime forbids external memory, as in Electron) — on a real region.
import { Region } from '@shmlink/native';
import { IN_FLIGHT_BYTES, RingFramer, WINDOW_MIN_MESSAGE, type Outbound } from '../src/framer';
import { Half } from '../src/half';
import { BEGIN_PREFIX, FRAME_HEADER, FRAME_LAP_SHIFT, FRAME_TYPE_MASK, FrameType, HEADER_SIZE, HEAD_OFFSET, ORPHAN_OFFSET, TAIL_OFFSET, align, lapOf, wrapFor } from '../src/ring-descriptor';
import { RingReader } from '../src/ring-reader';
import { makeMessage, sizeFor } from './fixtures/messages';
import { cleanup, leftovers, uniqueName } from './helpers';
import { MemoryRegion } from './memory-region';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

function fail(err: Error): never {
  throw err;
}

interface Rig {
  memory: MemoryRegion;
  half: Half;
  framer: RingFramer;
  reader: RingReader;
}

/** A half of `size` bytes in memory; with `cursor`, both cursors start there (as if after much traffic). */
function rig(size: number, cursor?: number): Rig {
  const memory = new MemoryRegion(size);
  const half = new Half(memory, 0, size);
  half.initialize();
  if (cursor !== undefined) {
    half.store(TAIL_OFFSET, cursor);
    half.store(HEAD_OFFSET, cursor);
  }
  const framer = new RingFramer(half, { ringView: null, onCorrupt: fail, onPublish: () => {} });
  const reader = new RingReader(half, 1 << 24, null, () => {});
  return { memory, half, framer, reader };
}

/** Frames what fits of `messages` in one commit (`windowed`: as the send queue's pump does); returns how many went in whole. */
function commit(framer: RingFramer, messages: Outbound[], windowed = false): number {
  framer.begin(windowed);
  let whole = 0;
  while (whole < messages.length && framer.put(messages[whole]!)) whole++;
  framer.end();
  return whole;
}

/** The frames published and not yet consumed, as [type, bodyLength] read from the raw memory. */
function unconsumed({ memory, half }: Rig): [FrameType, number][] {
  const frames: [FrameType, number][] = [];
  const tail = half.load(TAIL_OFFSET);
  for (let at = half.load(HEAD_OFFSET); at !== tail; ) {
    const index = at % half.ringSize;
    const length = memory.load(half.ring + index);
    const word = memory.load(half.ring + index + 4);
    expect(word >>> FRAME_LAP_SHIFT).toBe(lapOf(at, half.ringSize));
    const type = (word & FRAME_TYPE_MASK) as FrameType;
    frames.push([type, length]);
    at = (at + (type === FrameType.Padding ? half.ringSize - index : align(FRAME_HEADER + length))) % half.wrap;
  }
  return frames;
}

const out = (data: Uint8Array): Outbound => ({ data, sent: 0, begin: -1, end: -1 });

/** What a reader that hands every message over at once gets: drain, then commit the whole batch. */
function take(reader: RingReader, maxBytes = 1 << 20): Buffer[] {
  const { messages, error } = reader.drain(maxBytes);
  if (error !== undefined) throw error;
  reader.commitAll();
  return messages;
}

describe('in memory', () => {
  // A 1 KiB ring: frames of up to 504 bytes (half the ring less a header).
  const HALF = HEADER_SIZE + 1024;

  test('whole messages are 8-byte aligned frames published by one store of the tail', () => {
    const r = rig(HALF);
    expect(commit(r.framer, [out(Buffer.from('hello')), out(Buffer.alloc(0)), out(Buffer.alloc(13, 7))])).toBe(3);
    expect(unconsumed(r)).toEqual([
      [FrameType.Message, 5],
      [FrameType.Message, 0],
      [FrameType.Message, 13],
    ]);
    expect(r.half.load(TAIL_OFFSET)).toBe(16 + 8 + 24);
    const messages = take(r.reader);
    expect(messages.map((m) => m.toString('hex'))).toEqual(['68656c6c6f', '', Buffer.alloc(13, 7).toString('hex')]);
  });

  test('a message that does not fit before the ring end goes after a padding frame at the wrap', () => {
    const r = rig(HALF);
    const hundred = () => out(Buffer.alloc(100, 1)); // a 112-byte frame
    expect(commit(r.framer, Array.from({ length: 9 }, hundred))).toBe(9); // up to index 1008
    expect(take(r.reader)).toHaveLength(9);
    expect(commit(r.framer, [hundred()])).toBe(1);
    // 16 bytes were left before the ring's end: a padding frame fills them.
    expect(r.memory.load(r.half.ring + 1008)).toBe(16 - FRAME_HEADER);
    expect(r.memory.load(r.half.ring + 1012) & FRAME_TYPE_MASK).toBe(FrameType.Padding);
    expect(unconsumed(r)).toEqual([
      [FrameType.Padding, 8],
      [FrameType.Message, 100],
    ]);
    expect(r.half.load(TAIL_OFFSET)).toBe(1024 + 112);
    expect(take(r.reader)).toEqual([Buffer.alloc(100, 1)]);
  });

  test('a message that fits one frame waits whole for space; it is never split', () => {
    const r = rig(HALF);
    // Two 512-byte frames fill the ring.
    expect(commit(r.framer, [out(Buffer.alloc(500)), out(Buffer.alloc(500)), out(Buffer.alloc(500))])).toBe(2);
    const second = out(Buffer.alloc(500));
    expect(commit(r.framer, [second])).toBe(0);
    expect(second.sent).toBe(0);
    take(r.reader);
    expect(commit(r.framer, [second])).toBe(1);
  });

  test('a message larger than a frame goes as BEGIN (with its total), CONTINUE and END fragments', () => {
    const r = rig(HALF);
    const big = makeMessage(3, 1, 1400);
    const message = out(big);
    const frames: [FrameType, number][] = [];
    const received: Buffer[] = [];
    for (let done = false; !done; ) {
      done = commit(r.framer, [message]) === 1;
      if (frames.length === 0) expect(r.memory.load(r.half.ring + FRAME_HEADER)).toBe(1400); // BEGIN's total
      frames.push(...unconsumed(r));
      received.push(...take(r.reader));
    }
    // The first commit fills the ring with BEGIN and a CONTINUE of a frame each; END follows.
    expect(frames).toEqual([
      [FrameType.Begin, 504],
      [FrameType.Continue, 504],
      [FrameType.End, 1400 - (504 - BEGIN_PREFIX) - 504],
    ]);
    expect(received).toEqual([big]);
  });

  test('a fragmented message that outgrows the free space continues in later commits', () => {
    const r = rig(HALF);
    const big = makeMessage(4, 1, 5000);
    const message = out(big);
    const received: Buffer[] = [];
    let commits = 0;
    while (commit(r.framer, [message]) === 0) {
      commits++;
      expect(message.sent).toBeGreaterThan(0);
      expect(message.sent).toBeLessThan(big.length);
      received.push(...take(r.reader));
    }
    received.push(...take(r.reader));
    expect(commits).toBeGreaterThanOrEqual(4);
    expect(received).toEqual([big]);
  });

  test('the cursors wrap at the largest multiple of the ring size below 2^32, and nothing changes for the reader', () => {
    // 1000 bytes of ring: 2^32 is not a multiple, so the wrap is 4,294,967,000.
    const size = HEADER_SIZE + 1000;
    const wrap = wrapFor(1000);
    expect(wrap).toBe(4_294_967_000);
    const r = rig(size, wrap - 3000);
    const sent: Buffer[] = [];
    const received: Buffer[] = [];
    let lowest = Infinity;
    for (let seq = 0; seq < 200; seq++) {
      const message = out(makeMessage(5, seq, sizeFor(5, seq, 700)));
      sent.push(Buffer.from(message.data));
      while (commit(r.framer, [message]) === 0) received.push(...take(r.reader));
      received.push(...take(r.reader));
      const tail = r.half.load(TAIL_OFFSET);
      expect(tail).toBeLessThan(wrap);
      lowest = Math.min(lowest, tail);
    }
    expect(lowest).toBeLessThan(3000); // it did wrap
    expect(received).toEqual(sent);
  });

  test('a batch window ends at a frame end where frames are large: no frame is copied and then parsed again', () => {
    const r = rig(HALF);
    const sent = [0, 1, 2, 3].map((i) => makeMessage(31, i, 200)); // frames of 208 bytes
    expect(commit(r.framer, sent.map(out))).toBe(4);
    const copied: number[] = [];
    const read = r.memory.read.bind(r.memory);
    r.memory.read = (offset: number, length: number): Buffer => {
      copied.push(length);
      return read(offset, length);
    };
    // A window of 500 bytes copies two frames (416 bytes), not 500 with a third cut short; the 84
    // bytes of window left take one more frame whole, as every step takes at least one.
    expect(take(r.reader, 500)).toEqual(sent.slice(0, 3));
    expect(take(r.reader, 500)).toEqual(sent.slice(3));
    expect(copied).toEqual([416, 208, 208]);
    // One frame larger than the window is still taken whole.
    const big = makeMessage(31, 9, 480);
    expect(commit(r.framer, [out(big)])).toBe(1);
    expect(take(r.reader, 300)).toEqual([big]); // after the padding at the ring end, 108 bytes of window are left
  });

  test('random sizes, commit sizes and drain points: every message arrives once, in order, intact', () => {
    let state = 0x2545f491;
    const random = (n: number) => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return state % n;
    };
    const r = rig(HEADER_SIZE + 2048, wrapFor(2048) - 50 * 2048);
    const sent: Buffer[] = [];
    const received: Buffer[] = [];
    const queue: Outbound[] = [];
    for (let seq = 0; seq < 3000 || queue.length > 0; ) {
      for (let n = random(5); n > 0 && seq < 3000; n--, seq++) {
        const data = makeMessage(6, seq, random(4) === 0 ? random(6000) : random(200));
        sent.push(data);
        queue.push(out(data));
      }
      queue.splice(0, commit(r.framer, queue));
      received.push(...take(r.reader, random(3) === 0 ? 1 << 20 : 1 + random(600)));
    }
    while (r.reader.hasData()) received.push(...take(r.reader));
    expect(received.length).toBe(sent.length);
    received.forEach((m, i) => expect(m.equals(sent[i]!)).toBe(true));
  });
});

describe('in memory: the in-flight window for large messages', () => {
  // A 16 MiB ring: eight times the window.
  const HALF = HEADER_SIZE + 16 * 1024 * 1024;
  const LARGE = 256 * 1024;
  const frame = (length: number): number => align(FRAME_HEADER + length);
  const unread = ({ half }: Rig): number => (half.load(TAIL_OFFSET) - half.load(HEAD_OFFSET) + half.wrap) % half.wrap;

  test('a windowed commit holds large messages back beyond the window, and only them; order and bytes are kept', () => {
    const r = rig(HALF);
    const inWindow = Math.floor(IN_FLIGHT_BYTES / frame(LARGE));
    const sizes = [...Array<number>(inWindow + 2).fill(LARGE), 100, LARGE, WINDOW_MIN_MESSAGE - 1];
    const messages = sizes.map((size, seq) => out(makeMessage(30, seq, size)));
    expect(commit(r.framer, messages, true)).toBe(inWindow);
    expect(unread(r)).toBeLessThanOrEqual(IN_FLIGHT_BYTES);
    expect(messages[inWindow]!.sent).toBe(0); // held whole, not begun
    // The same ring takes them all in a commit without the window (writeSync, dispose).
    const rest = messages.slice(inWindow);
    const other = rig(HALF);
    expect(commit(other.framer, messages.map((m) => out(m.data)))).toBe(sizes.length);
    // Each large message the reader takes lets one more in; the small ones pass the window.
    const received: Buffer[] = [];
    while (rest.length > 0) {
      rest.splice(0, commit(r.framer, rest, true));
      expect(unread(r)).toBeLessThanOrEqual(IN_FLIGHT_BYTES + frame(100) + frame(WINDOW_MIN_MESSAGE - 1));
      const got = r.reader.drain(frame(LARGE));
      expect(got.error).toBeUndefined();
      r.reader.commitAll();
      received.push(...got.messages.map((m) => Buffer.from(m)));
    }
    for (let batch = take(r.reader, HALF); batch.length > 0; batch = take(r.reader, HALF)) received.push(...batch);
    // Compared one by one: a failing toEqual over megabytes prints them all.
    expect(received.length).toBe(messages.length);
    received.forEach((m, seq) => expect(m.equals(messages[seq]!.data)).toBe(true));
  });

  test('small messages are not held by the window: they fill the ring as before', () => {
    const r = rig(HALF);
    const small = WINDOW_MIN_MESSAGE - 8;
    const count = Math.floor((3 * IN_FLIGHT_BYTES) / frame(small));
    const messages = Array.from({ length: count }, (_, seq) => out(makeMessage(31, seq, small)));
    expect(commit(r.framer, messages, true)).toBe(count);
    expect(unread(r)).toBeGreaterThan(IN_FLIGHT_BYTES);
    // ... and a large one behind them waits until the unread bytes are back within the window.
    const large = out(makeMessage(31, count, LARGE));
    expect(commit(r.framer, [large], true)).toBe(0);
    while (unread(r) + frame(LARGE) > IN_FLIGHT_BYTES) {
      r.reader.drain(128 * 1024);
      r.reader.commitAll();
    }
    expect(commit(r.framer, [large], true)).toBe(1);
  });

  test('a message larger than half the window still goes while the ring holds no more than it: two in flight', () => {
    const r = rig(HALF);
    const huge = (IN_FLIGHT_BYTES * 3) / 4;
    const messages = [0, 1, 2].map((seq) => out(Buffer.alloc(huge, seq)));
    expect(commit(r.framer, messages, true)).toBe(2);
    const first = take(r.reader, frame(huge));
    expect(first.length).toBe(1);
    expect(first[0]!.equals(messages[0]!.data)).toBe(true);
    expect(commit(r.framer, messages.slice(2), true)).toBe(1);
  });

  test('putWhole() (write() framing at the call) keeps the window as put() does; only a windowed begin() asks for it', () => {
    const r = rig(HALF);
    const count = Math.floor(IN_FLIGHT_BYTES / frame(LARGE)) + 4;
    const messages = Array.from({ length: count }, (_, seq) => makeMessage(33, seq, LARGE));
    r.framer.begin(true);
    let taken = 0;
    while (taken < count && r.framer.putWhole(messages[taken]!)) taken++;
    expect(taken).toBe(Math.floor(IN_FLIGHT_BYTES / frame(LARGE)));
    expect(r.framer.putWhole(Buffer.alloc(1024, 1))).toBe(true); // small messages pass the window
    r.framer.end();
    expect(unread(r)).toBeLessThanOrEqual(IN_FLIGHT_BYTES + frame(1024));
    // A commit without the window (writeSync, dispose) takes the next one as the ring's room allows.
    r.framer.begin(false);
    expect(r.framer.putWhole(messages[taken]!)).toBe(true);
    r.framer.end();
    const received = [];
    for (let batch = take(r.reader, HALF); batch.length > 0; batch = take(r.reader, HALF)) received.push(...batch);
    expect(received.length).toBe(taken + 2);
    expect(received[taken]!.length).toBe(1024);
    expect(received[taken + 1]!.equals(messages[taken]!)).toBe(true);
  });
});

describe('in memory: garbage cursors and readers that go away', () => {
  const HALF = HEADER_SIZE + 1024;

  test('a tail stored ahead of the producer exposes an earlier lap: ERR_CORRUPT, no replay, and nothing skipped once the producer stores its tail again', () => {
    const r = rig(HALF);
    const first = Array.from({ length: 12 }, (_, i) => out(makeMessage(7, i, 56)));
    for (const m of first) expect(commit(r.framer, [m])).toBe(1);
    expect(take(r.reader)).toHaveLength(12);
    for (let i = 12; i < 20; i++) expect(commit(r.framer, [out(makeMessage(7, i, 56))])).toBe(1);
    expect(take(r.reader)).toHaveLength(8);
    // Now 1280 bytes went through a 1 KiB ring; garbage moves the tail 5 frames ahead, over bytes
    // of the previous lap that look like well-formed frames.
    const tail = r.half.load(TAIL_OFFSET);
    r.half.store(TAIL_OFFSET, tail + 5 * 64);
    const drained = r.reader.drain(1 << 20);
    expect(drained.messages).toEqual([]);
    expect(drained.error?.code).toBe('ERR_CORRUPT');
    expect(r.reader.drain(1 << 20).error).toBeUndefined(); // reported once
    // The producer's next commit stores its own tail; the reader goes on from where it stopped.
    const next = out(makeMessage(7, 20, 56));
    expect(commit(r.framer, [next])).toBe(1);
    expect(take(r.reader)).toEqual([makeMessage(7, 20, 56)]);
  });

  test('a head stored backwards (the ring looks full) is reported and ignored: the writer goes on', () => {
    const errors: Error[] = [];
    const memory = new MemoryRegion(HALF);
    const half = new Half(memory, 0, HALF);
    half.initialize();
    const framer = new RingFramer(half, { ringView: null, onCorrupt: (e) => errors.push(e), onPublish: () => {} });
    const reader = new RingReader(half, 1 << 20, null, () => {});
    expect(commit(framer, [out(Buffer.alloc(100)), out(Buffer.alloc(100))])).toBe(2);
    take(reader);
    const head = half.load(HEAD_OFFSET);
    // One well-formed store that makes the ring look full from the writer's side.
    half.store(HEAD_OFFSET, head + 8 - 1024 + (head + 8 < 1024 ? half.wrap : 0));
    expect(commit(framer, [out(Buffer.alloc(100))])).toBe(1);
    expect(commit(framer, [out(Buffer.alloc(100))])).toBe(1);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_CORRUPT']);
    expect(take(reader)).toHaveLength(2);
  });

  test('a reader that goes away inside a fragmented message: the next one asks for it again, and it is sent again whole', () => {
    const r = rig(HALF);
    const big = makeMessage(8, 1, 1400);
    const message = out(big);
    expect(commit(r.framer, [message])).toBe(0); // BEGIN and a CONTINUE fill the ring
    // The first reader takes those two fragments (its head passes them) and is gone.
    expect(take(r.reader)).toEqual([]);
    expect(commit(r.framer, [message])).toBe(1); // END: whole, kept until the consumer's head passes its end
    expect(r.framer.started(message)).toBe(true);
    expect(r.framer.confirm(message)).toBe('pending');
    // The next reader starts at the stored head: the END without its BEGIN.
    const second = new RingReader(r.half, 1 << 24, null, () => {});
    expect(take(second)).toEqual([]);
    expect(r.memory.load(ORPHAN_OFFSET)).not.toBe(0);
    r.framer.begin();
    expect(r.framer.confirm(message)).toBe('resend');
    r.framer.end();
    const received: Buffer[] = [];
    while (commit(r.framer, [message]) === 0) received.push(...take(second));
    received.push(...take(second));
    expect(received).toEqual([big]);
    r.framer.begin();
    expect(r.framer.confirm(message)).toBe('confirmed');
  });

  test('the stored head passes only what was handed over; rewind parses the rest again', () => {
    const r = rig(HALF);
    const sent = [0, 1, 2, 3].map((i) => makeMessage(9, i, 40));
    expect(commit(r.framer, sent.map(out))).toBe(4);
    const first = r.reader.drain(1 << 20);
    expect(first.messages).toEqual(sent);
    expect(r.half.load(HEAD_OFFSET)).toBe(0); // nothing stored by the drain itself
    r.reader.commit(first.ends[0]!); // message 0 handed over, then the reader stopped
    r.reader.rewind();
    const again = r.reader.drain(1 << 20);
    expect(again.messages).toEqual(sent.slice(1));
    // A reader that starts over at the stored head gets the same: nothing lost, nothing before it.
    expect(take(new RingReader(r.half, 1 << 20, null, () => {}))).toEqual(sent.slice(1));
  });
});

// Answers docs/protocol.md gives a peer written from it alone, held to what the reader does.
describe('in memory: frames a conforming producer never writes', () => {
  /** Writes frames by hand at the tail and publishes them with one store. */
  function publish(r: Rig, frames: [FrameType, Buffer][]): void {
    let tail = r.half.load(TAIL_OFFSET);
    for (const [type, body] of frames) {
      const index = tail % r.half.ringSize;
      r.memory.store(r.half.ring + index, body.length);
      r.memory.store(r.half.ring + index + 4, type | (lapOf(tail, r.half.ringSize) << FRAME_LAP_SHIFT));
      r.memory.write(r.half.ring + index + FRAME_HEADER, body);
      tail += align(FRAME_HEADER + body.length);
    }
    r.half.store(TAIL_OFFSET, tail);
  }

  function begin(total: number, piece: Buffer): Buffer {
    const prefix = Buffer.alloc(BEGIN_PREFIX);
    prefix.writeUInt32LE(total, 0);
    return Buffer.concat([prefix, piece]);
  }

  test('a CONTINUE that completes the message is not corrupt, but only an END delivers it', () => {
    const r = rig(4096);
    const a = Buffer.alloc(10, 1);
    const b = Buffer.alloc(10, 2);
    // Completed by a CONTINUE, then an empty END: delivered whole at the END.
    publish(r, [[FrameType.Begin, begin(20, a)], [FrameType.Continue, b]]);
    expect(take(r.reader)).toEqual([]);
    publish(r, [[FrameType.End, Buffer.alloc(0)]]);
    expect(take(r.reader)).toEqual([Buffer.concat([a, b])]);
    // Completed by a CONTINUE, then a MESSAGE: the unfinished one is dropped without a report.
    publish(r, [[FrameType.Begin, begin(20, a)], [FrameType.Continue, b], [FrameType.Message, Buffer.from('next')]]);
    expect(take(r.reader)).toEqual([Buffer.from('next')]);
    // Completed by a CONTINUE, then an END with bytes: more than announced, ERR_CORRUPT.
    publish(r, [[FrameType.Begin, begin(20, a)], [FrameType.Continue, b], [FrameType.End, Buffer.alloc(8)]]);
    expect(r.reader.drain(1 << 20).error?.code).toBe('ERR_CORRUPT');
  });

  test('complete messages before a bad frame in the same batch are delivered; the rest up to the tail is skipped', () => {
    const r = rig(4096);
    publish(r, [
      [FrameType.Message, Buffer.from('one')],
      [FrameType.Message, Buffer.from('two')],
      [9 as FrameType, Buffer.alloc(8)], // unknown type
      [FrameType.Message, Buffer.from('lost')],
    ]);
    const { messages, error } = r.reader.drain(1 << 20);
    expect(messages.map(String)).toEqual(['one', 'two']);
    expect(error?.code).toBe('ERR_CORRUPT');
    r.reader.commitAll();
    expect(r.half.load(HEAD_OFFSET)).toBe(r.half.load(TAIL_OFFSET));
    publish(r, [[FrameType.Message, Buffer.from('after')]]);
    expect(take(r.reader).map(String)).toEqual(['after']);
  });

  test('fragments of any size are read: an empty CONTINUE, fragments below 64 bytes', () => {
    const r = rig(4096);
    publish(r, [[FrameType.Begin, begin(5, Buffer.from('a'))], [FrameType.Continue, Buffer.alloc(0)], [FrameType.Continue, Buffer.from('bc')], [FrameType.End, Buffer.from('de')]]);
    expect(take(r.reader).map(String)).toEqual(['abcde']);
  });

  test('the smallest ring (64 bytes): a BEGIN carries 16 message bytes (its 8-byte prefix counts against the frame), CONTINUE and END 24', () => {
    const r = rig(HEADER_SIZE + 64);
    expect(r.half.maxFramePayload).toBe(24);
    const message = Buffer.from(Array.from({ length: 70 }, (_, i) => i));
    const m = out(message);
    const received: Buffer[] = [];
    const frames: [FrameType, number][] = [];
    while (m.sent < message.length) {
      r.framer.begin();
      r.framer.put(m);
      r.framer.end();
      frames.push(...unconsumed(r));
      received.push(...take(r.reader));
    }
    expect(received).toEqual([message]);
    expect(frames.filter(([type]) => type !== FrameType.Padding)).toEqual([
      [FrameType.Begin, 24],
      [FrameType.Continue, 24],
      [FrameType.Continue, 24],
      [FrameType.End, 6],
    ]);
  });
});

describe('on a real region', () => {
  const HALF = 256 * 1024;

  function run(inPlace: boolean): { tail: number; received: Buffer[] } {
    const name = uniqueName();
    const region = Region.create(name, HALF);
    try {
      const half = new Half(region, 0, HALF);
      half.initialize();
      const ring = region.view(HEADER_SIZE, half.ringSize);
      const framer = new RingFramer(half, { ringView: inPlace ? ring : null, onCorrupt: fail, onPublish: () => {} });
      const reader = new RingReader(half, 1 << 20, null, () => {});
      const received: Buffer[] = [];
      // Groups of messages from 0 B to 40 KiB (frames beyond the 16 KiB direct threshold, beyond the
      // 64 KiB staging size per group, and fragments beyond half the ring), wrapping the ring often.
      for (let seq = 0; seq < 600; ) {
        const group: Outbound[] = [];
        for (const end = Math.min(600, seq + 1 + (seq % 7)); seq < end; seq++) group.push(out(makeMessage(1, seq, sizeFor(1, seq, 40 * 1024))));
        for (;;) {
          group.splice(0, commit(framer, group));
          received.push(...take(reader));
          if (group.length === 0) break;
        }
      }
      return { tail: half.load(TAIL_OFFSET), received };
    } finally {
      region.close();
    }
  }

  test('in place and staged, the framer lays out the same frames and every message arrives intact', () => {
    const inPlace = run(true);
    const staged = run(false);
    for (const { received } of [inPlace, staged]) {
      expect(received).toHaveLength(600);
      received.forEach((m, seq) => expect(m.equals(makeMessage(1, seq, sizeFor(1, seq, 40 * 1024)))).toBe(true));
    }
    // The same frame sizes, paddings and fragments put the tail at the same place.
    expect(staged.tail).toBe(inPlace.tail);
  });
});
