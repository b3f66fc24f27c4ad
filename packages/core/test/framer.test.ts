// The framer on its own: frames, padding at the wrap, fragments and the cursors' wrap-around at
// 2^32, checked frame by frame against a plain in-memory region and read back by the ring reader;
// then the two ways of assembling frames — in place through a view of the ring, or in a staging
// buffer copied in (where the runtime forbids external memory, as in Electron) — on a real region.
import { Region } from '@shmlink/native';
import { RingFramer, type Outbound } from '../src/framer';
import { Half } from '../src/half';
import { BEGIN_PREFIX, FRAME_HEADER, FrameType, HEADER_SIZE, HEAD_OFFSET, TAIL_OFFSET, align, wrapFor } from '../src/ring-descriptor';
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

/** Frames what fits of `messages` in one commit; returns how many went in whole. */
function commit(framer: RingFramer, messages: Outbound[]): number {
  framer.begin();
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
    const type = memory.load(half.ring + index + 4) as FrameType;
    frames.push([type, length]);
    at = (at + (type === FrameType.Padding ? half.ringSize - index : align(FRAME_HEADER + length))) % half.wrap;
  }
  return frames;
}

const out = (data: Uint8Array): Outbound => ({ data, sent: 0 });

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
    const { messages } = r.reader.drain(1 << 20);
    expect(messages.map((m) => m.toString('hex'))).toEqual(['68656c6c6f', '', Buffer.alloc(13, 7).toString('hex')]);
  });

  test('a message that does not fit before the ring end goes after a padding frame at the wrap', () => {
    const r = rig(HALF);
    const hundred = () => out(Buffer.alloc(100, 1)); // a 112-byte frame
    expect(commit(r.framer, Array.from({ length: 9 }, hundred))).toBe(9); // up to index 1008
    expect(r.reader.drain(1 << 20).messages).toHaveLength(9);
    expect(commit(r.framer, [hundred()])).toBe(1);
    // 16 bytes were left before the ring's end: a padding frame fills them.
    expect(r.memory.load(r.half.ring + 1008)).toBe(16 - FRAME_HEADER);
    expect(r.memory.load(r.half.ring + 1012)).toBe(FrameType.Padding);
    expect(unconsumed(r)).toEqual([
      [FrameType.Padding, 8],
      [FrameType.Message, 100],
    ]);
    expect(r.half.load(TAIL_OFFSET)).toBe(1024 + 112);
    expect(r.reader.drain(1 << 20).messages).toEqual([Buffer.alloc(100, 1)]);
  });

  test('a message that fits one frame waits whole for space; it is never split', () => {
    const r = rig(HALF);
    // Two 512-byte frames fill the ring.
    expect(commit(r.framer, [out(Buffer.alloc(500)), out(Buffer.alloc(500)), out(Buffer.alloc(500))])).toBe(2);
    const second = out(Buffer.alloc(500));
    expect(commit(r.framer, [second])).toBe(0);
    expect(second.sent).toBe(0);
    r.reader.drain(1 << 20);
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
      received.push(...r.reader.drain(1 << 20).messages);
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
      received.push(...r.reader.drain(1 << 20).messages);
    }
    received.push(...r.reader.drain(1 << 20).messages);
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
      while (commit(r.framer, [message]) === 0) received.push(...r.reader.drain(1 << 20).messages);
      received.push(...r.reader.drain(1 << 20).messages);
      const tail = r.half.load(TAIL_OFFSET);
      expect(tail).toBeLessThan(wrap);
      lowest = Math.min(lowest, tail);
    }
    expect(lowest).toBeLessThan(3000); // it did wrap
    expect(received).toEqual(sent);
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
      const drained = r.reader.drain(random(3) === 0 ? 1 << 20 : 1 + random(600));
      expect(drained.error).toBeUndefined();
      received.push(...drained.messages);
    }
    while (r.reader.hasData()) received.push(...r.reader.drain(1 << 20).messages);
    expect(received.length).toBe(sent.length);
    received.forEach((m, i) => expect(m.equals(sent[i]!)).toBe(true));
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
          received.push(...reader.drain(1 << 20).messages);
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
