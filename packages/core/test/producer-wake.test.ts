// When the event reader wakes a writer waiting for space (docs/decisions.md §41): while it drains on
// at once, only once half the ring is free; wherever it stops draining (sleeps, yields, is
// stopped) at once. First the reader's rule on a ring in plain memory, then real processes whose
// writer sleeps on the doorbell each time the ring is full: a wake left deferred would sleep its
// whole slice (peerCheckInterval, 60 s here), longer than the test.
import { Communicator } from '@shmlink/core';
import { RingFramer, type Outbound } from '../src/framer';
import { Half } from '../src/half';
import { HEADER_SIZE } from '../src/ring-descriptor';
import { RingReader } from '../src/ring-reader';
import { makeMessage } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName, waitFor } from './helpers';
import { MemoryRegion } from './memory-region';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

function fail(err: Error): never {
  throw err;
}

describe('in memory: the reader defers its wake until half the ring is free', () => {
  // A 1 KiB ring and 120-byte messages (128-byte frames): eight fill it.
  const HALF = HEADER_SIZE + 1024;

  function rig(): { reader: RingReader; wakes: () => number } {
    const memory = new MemoryRegion(HALF);
    const half = new Half(memory, 0, HALF);
    half.initialize();
    const framer = new RingFramer(half, { ringView: null, onCorrupt: fail, onPublish: () => {} });
    let wakes = 0;
    const reader = new RingReader(half, 1 << 20, null, () => wakes++);
    framer.begin();
    for (let seq = 0; seq < 8; seq++) {
      const message: Outbound = { data: makeMessage(5, seq, 120), sent: 0, begin: -1, end: -1 };
      expect(framer.put(message)).toBe(true);
    }
    framer.end();
    return { reader, wakes: () => wakes };
  }

  test('commitAll(true) wakes nobody while more than half the ring is unconsumed, then wakes once it is not', () => {
    const { reader, wakes } = rig();
    for (let batch = 1; batch <= 3; batch++) {
      expect(reader.drain(128).messages).toHaveLength(1);
      reader.commitAll(true);
      expect(wakes()).toBe(0); // 1024 - 128 × batch bytes still unconsumed: more than half
    }
    expect(reader.drain(128).messages).toHaveLength(1);
    reader.commitAll(true);
    expect(wakes()).toBe(1); // half the ring free
    expect(reader.drain(128).messages).toHaveLength(1);
    reader.commitAll(true);
    expect(wakes()).toBe(2);
  });

  test('flushWake() sends a deferred wake once, and nothing when the head did not move since', () => {
    const { reader, wakes } = rig();
    expect(reader.drain(256).messages).toHaveLength(2);
    reader.commitAll(true);
    expect(wakes()).toBe(0);
    reader.flushWake();
    expect(wakes()).toBe(1);
    reader.flushWake();
    expect(wakes()).toBe(1);
  });

  test('without deferWake every batch that moved the head wakes, as receiveSync and the worker reader commit', () => {
    const { reader, wakes } = rig();
    expect(reader.drain(128).messages).toHaveLength(1);
    reader.commitAll();
    expect(wakes()).toBe(1);
    reader.commitAll();
    expect(wakes()).toBe(1);
  });
});

describe('across processes: a writer asleep on a full ring always gets its wake', () => {
  // poll 0 on both sides: the writer sleeps on its doorbell whenever the ring is full, and the
  // reader sleeps whenever it is empty, so every wake goes through the doorbell.
  const options = { poll: 0, pollBusy: 0, peerCheckInterval: 60_000 };
  const capacity = 1 << 20; // a ring of about 512 KiB per half
  const size = 100 * 1024; // five messages fill it

  test('300 messages of 100 KiB arrive in order with their bytes', async () => {
    const name = uniqueName();
    const count = 300;
    const seed = 43;
    const me = record(new Communicator(name, capacity, { side: 'a', ...options }), false);
    let received = 0;
    let firstBad = -1;
    me.comm.on('data', (message: Buffer) => {
      if (firstBad < 0 && !message.equals(makeMessage(seed, received, size))) firstBad = received;
      received++;
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b', ...options } });
    await peer.call('write', { seed, count, size, window: 16 });
    await waitFor(() => received === count, `${count} messages`, 40_000);
    expect(firstBad).toBe(-1);
    expect(me.errors).toEqual([]);
  }, 50_000);

  test('a listener that stops the reader with the ring full: the writer is woken for what was delivered, and the rest follows after a restart', async () => {
    const name = uniqueName();
    const count = 60;
    const seed = 47;
    const me = record(new Communicator(name, capacity, { side: 'a', ...options }), false);
    const kept: Buffer[] = [];
    me.comm.on('data', (message: Buffer) => {
      kept.push(message);
      // Every 7th message stops the reader in its listener; it starts again on the next turn.
      if (kept.length % 7 === 0) {
        void me.comm.stopReader().then(() => setImmediate(() => me.comm.startReader()));
      }
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b', ...options } });
    await peer.call('write', { seed, count, size, window: 16 });
    await waitFor(() => kept.length === count, `${count} messages`, 40_000);
    kept.forEach((message, seq) => expect(message.equals(makeMessage(seed, seq, size))).toBe(true));
    expect(me.errors).toEqual([]);
  }, 50_000);
});
