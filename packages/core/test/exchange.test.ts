// Messages between two real processes: volume in both directions at once, the seed's layout
// (seed 003, the .NET original: positions 0 and 2000 in 4096 bytes; docs/seeds.md), edge sizes,
// and delivery of what was written before the reader started.
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { StreamChecker } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName, waitFor, writeStream } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

describe('two processes', () => {
  test('exchange 100,000 messages in both directions at once, sizes 0 B to four halves, in order and intact', async () => {
    const name = uniqueName();
    // Every message is on average two rings' worth, so the run costs ~2 wake-ups per message per
    // direction whatever the capacity; 16 KiB measured fastest on this 2-core machine.
    const capacity = 16384;
    const count = 100_000;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const half = me.comm.readPosition - me.comm.writePosition;
    expect(half).toBe(capacity / 2);
    const maxSize = 4 * half;
    const incoming = new StreamChecker(2, { maxSize });
    me.comm.on('data', (d) => incoming.push(d));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 1, maxSize }, start: true });

    const started = performance.now();
    const [, theirs] = await Promise.all([
      writeStream(me.comm, { seed: 1, count, maxSize }),
      peer.write({ seed: 2, count, maxSize }),
    ]);
    await peer.call('received', { count });
    await waitFor(() => incoming.next >= count, 'the peer messages', 60_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(`100k x2 exchange: ${seconds.toFixed(1)} s`);

    expect(theirs.failures).toEqual([]);
    expect(incoming.firstProblem).toBeNull();
    expect(incoming.next).toBe(count);
    const stats = await peer.stats();
    expect(stats.firstProblem).toBeNull();
    expect(stats.received).toBe(count);
    expect(stats.errors).toBe(0);
    expect(me.errors).toEqual([]);
  }, 300_000); // a hang guard, not a speed target: 20–60 s here, several times that while other jobs share the two cores
});

describe("the seed's layout", () => {
  test('capacity 4096, positions 0 and 2000: strings both ways', async () => {
    const name = uniqueName();
    const me = record(new Communicator(name, 4096));
    me.comm.readPosition = 2000;
    me.comm.writePosition = 0;
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 4096, readPosition: 0, writePosition: 2000, echo: true, start: true });

    // The halves differ in size: [0, 2000) and [2000, 4096). Some strings need fragments on one
    // side only, some on both.
    const strings = ['hello', '', 'Grüße aus dem Speicher', 'x'.repeat(900), '€'.repeat(600), 'y'.repeat(5000), 'bye'];
    for (const s of strings) await me.comm.write(s);
    await waitFor(() => me.data.length === strings.length, 'the echoes');
    expect(me.data.map((d) => d.toString('utf8'))).toEqual(strings);
    expect(me.comm.readPosition).toBe(2000);
    expect(me.comm.writePosition).toBe(0);
    await expect(peer.call('info')).resolves.toMatchObject({ readPosition: 0, writePosition: 2000, peerPid: process.pid });
    expect(me.errors).toEqual([]);
    expect((await peer.stats()).echoFailures).toEqual([]);
  });
});

describe('edge sizes', () => {
  test('empty, multi-byte UTF-8, the largest single frame and one byte more, several rings', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const halfSize = me.comm.readPosition - me.comm.writePosition;
    const ring = ringDescriptor.ringSizeFor(halfSize);
    const maxFrame = ringDescriptor.maxFramePayload(ring);
    expect(ring).toBe(Math.floor((halfSize - 256) / 8) * 8);
    expect(maxFrame).toBe(Math.floor(ring / 2 / 8) * 8 - 8);

    const text = 'emoji 😀🎉👩‍👩‍👧, CJK 中文字符と日本語, Cyrillic русский, combining é';
    const messages: (string | Uint8Array)[] = [
      '',
      new Uint8Array(0),
      text,
      Buffer.alloc(maxFrame, 0xa5), // exactly one frame
      Buffer.alloc(maxFrame + 1, 0x5a), // one byte more: fragmented
      '中'.repeat(Math.ceil(ring / 3) + 1), // 3-byte characters cut across fragment boundaries
      Buffer.from(Array.from({ length: ring }, (_, i) => i % 251)), // the whole ring's size
      Buffer.from(Array.from({ length: 5 * ring + 3 }, (_, i) => (i * 7) % 256)), // several rings
      Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13) % 256)),
      '',
      'end',
    ];
    const expected = messages.map((m) => (typeof m === 'string' ? Buffer.from(m, 'utf8') : Buffer.from(m)));

    // Look at the frames where they lie in the ring: the largest single frame is one MESSAGE
    // frame; one byte more is a BEGIN and an END frame.
    me.comm.startReader();
    const region = Region.open(name);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, echo: true });
    try {
      const ringStart = me.comm.writePosition + ringDescriptor.HEADER_SIZE;
      await me.comm.write(messages[3]!);
      expect(region.load(ringStart)).toBe(maxFrame); // frame length
      expect(region.load(ringStart + 4) & ringDescriptor.FRAME_TYPE_MASK).toBe(1); // MESSAGE
      await peer.call('start');
      await waitFor(() => me.data.length === 1, 'the first echo');
      await peer.call('stop');

      await me.comm.write(messages[4]!);
      const begin = ringStart + ringDescriptor.align(ringDescriptor.FRAME_HEADER + maxFrame);
      expect(region.load(begin + 4) & ringDescriptor.FRAME_TYPE_MASK).toBe(2); // BEGIN, to the ring's end
      expect(region.load(begin + 8)).toBe(maxFrame + 1); // the message's total length
      const firstPiece = region.load(begin) - 8;
      expect(region.load(ringStart + 4) & ringDescriptor.FRAME_TYPE_MASK).toBe(4); // END, wrapped to the ring's start
      expect(region.load(ringStart)).toBe(maxFrame + 1 - firstPiece);
      await peer.call('start');
    } finally {
      region.close();
    }

    const order = [3, 4, 0, 1, 2, 5, 6, 7, 8, 9, 10];
    await Promise.all(order.slice(2).map((i) => me.comm.write(messages[i]!)));
    await waitFor(() => me.data.length === order.length, 'the echoes');
    me.data.forEach((d, k) => {
      expect(d.length).toBe(expected[order[k]!]!.length);
      expect(d.equals(expected[order[k]!]!)).toBe(true);
    });
    expect(me.data[order.indexOf(2)]!.toString('utf8')).toBe(text);
    expect(me.errors).toEqual([]);
  });
});

describe('delivery to a late reader', () => {
  test('messages written before the peer reader starts are delivered when it starts, both ways', async () => {
    const name = uniqueName();
    const capacity = 8192;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    // Fits in the ring: committed with nobody reading.
    await writeStream(me.comm, { seed: 5, count: 20, size: 100 });
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 5, size: 100 } });
    await peer.write({ seed: 6, count: 20, size: 150 });
    // More than the ring holds: waits for space until the reader starts.
    const more = writeStream(me.comm, { seed: 5, from: 20, count: 180, size: 100 });
    await peer.call('start');
    await more;
    await peer.call('received', { count: 200 });
    const stats = await peer.stats();
    expect(stats.received).toBe(200);
    expect(stats.firstProblem).toBeNull();

    const incoming = new StreamChecker(6, { size: 150 });
    me.comm.on('data', (d) => incoming.push(d));
    me.comm.startReader();
    await waitFor(() => incoming.next === 20, "the peer's early messages");
    expect(incoming.firstProblem).toBeNull();
  });
});
