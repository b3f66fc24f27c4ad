// write() calls of one tick share a Promise while they are sure to be committed together
// (send-queue.ts): each caller must still hear its own write's outcome — across real processes.
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { makeMessage } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

type Outcome = 'resolved' | string;

function outcomes(promises: Promise<void>[]): Promise<Outcome[]> {
  return Promise.all(promises.map((p) => p.then(() => 'resolved', (err: { code?: string }) => err.code ?? 'no code')));
}

// Jest fails a test in which a rejection goes unhandled: the tests below that await every write
// also check that a caller who awaited hears of a failure only through its own Promise.

describe('write() in one tick', () => {
  test('many writes before an await all resolve, and arrive intact and in order', async () => {
    const name = uniqueName();
    const capacity = 1 << 20;
    const count = 5000;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 21, size: 64 }, start: true });
    for (let round = 0; round < 4; round++) {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < count; i++) writes.push(me.comm.write(makeMessage(21, round * count + i, 64)));
      expect(new Set(await outcomes(writes))).toEqual(new Set(['resolved']));
    }
    await peer.call('received', { count: 4 * count });
    expect((await peer.stats()).firstProblem).toBeNull();
    expect(me.errors).toEqual([]);
  });

  test('more than the ring holds, nobody reading, timeout: those that fit resolve, each other one rejects ERR_TIMEOUT', async () => {
    const name = uniqueName();
    const capacity = 4096; // a ring of 1,792 bytes per half: 8 frames of 208 bytes fit
    const me = record(new Communicator(name, capacity, { side: 'a', timeout: 100 }));
    await Peer.start({ name, capacity, options: { side: 'b' } }); // attached, never reads
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) writes.push(me.comm.write(Buffer.alloc(200, i)));
    expect(await outcomes(writes)).toEqual([...Array<Outcome>(8).fill('resolved'), ...Array<Outcome>(4).fill('ERR_TIMEOUT')]);
  });

  test('sends and writes mixed in one tick: the writes that fit resolve, the rest reject, in call order', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = record(new Communicator(name, capacity, { side: 'a', timeout: 100 }));
    await Peer.start({ name, capacity, options: { side: 'b' } });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      if (i % 2 === 0) me.comm.send(Buffer.alloc(200, i));
      else writes.push(me.comm.write(Buffer.alloc(200, i)));
    }
    // Frames 0–7 fit: writes 1, 3, 5, 7 resolve; 9 and 11 time out.
    expect(await outcomes(writes)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'ERR_TIMEOUT', 'ERR_TIMEOUT']);
  });

  test('dispose() in the same tick: writes that fit are committed and resolve, the others reject ERR_CLOSED', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    await Peer.start({ name, capacity, options: { side: 'b' } });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) writes.push(me.comm.write(Buffer.alloc(200, i)));
    me.comm.dispose();
    expect(await outcomes(writes)).toEqual([...Array<Outcome>(8).fill('resolved'), 'ERR_CLOSED', 'ERR_CLOSED']);
  });

  test('write(), send() and writeSync() mixed in one tick arrive in call order, also once the ring fills and the rest waits', async () => {
    const name = uniqueName();
    const capacity = 16384; // a few dozen 200-byte frames: the tick below overfills it
    const count = 300;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 31, size: 200 }, start: true });
    const writes: Promise<void>[] = [];
    for (let seq = 0; seq < count; seq++) {
      const message = makeMessage(31, seq, 200);
      // writeSync on the main thread does not wait for room: only while nothing is queued.
      if (seq === 5) me.comm.writeSync(message);
      else if (seq % 3 === 0) me.comm.send(message);
      else writes.push(me.comm.write(message));
    }
    expect(new Set(await outcomes(writes))).toEqual(new Set(['resolved']));
    await peer.call('received', { count });
    expect((await peer.stats()).firstProblem).toBeNull();
    expect(me.errors).toEqual([]);
  });

  test("a write that goes into the ring at once has its bytes taken then: changing them afterwards changes nothing", async () => {
    const name = uniqueName();
    const capacity = 1 << 16;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 32, size: 64 }, start: true });
    const buffer = Buffer.alloc(64);
    const writes: Promise<void>[] = [];
    for (let seq = 0; seq < 100; seq++) {
      makeMessage(32, seq, 64).copy(buffer);
      writes.push(me.comm.write(buffer));
    }
    buffer.fill(0);
    expect(new Set(await outcomes(writes))).toEqual(new Set(['resolved']));
    await peer.call('received', { count: 100 });
    expect((await peer.stats()).firstProblem).toBeNull();
  });

  test("a write() made by an 'error' listener while write() finds a garbage head settles, after the write being made", async () => {
    const name = uniqueName();
    const capacity = 1 << 16;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
    await me.comm.write(Buffer.alloc(64, 1));
    await peer.call('received', { count: 1 });
    const region = Region.open(name);
    try {
      region.store(me.comm.writePosition + ringDescriptor.HEAD_OFFSET, 0xfffffff1); // odd: never a cursor
      const fromListener: Promise<void>[] = [];
      me.comm.once('error', () => fromListener.push(me.comm.write(Buffer.alloc(64, 3))));
      const outer = me.comm.write(Buffer.alloc(64, 2));
      expect(fromListener).toHaveLength(1);
      expect(await outcomes([outer, fromListener[0]!])).toEqual(['resolved', 'resolved']);
      expect(me.errors.map((e) => e.code)).toEqual(['ERR_CORRUPT']);
      // The channel goes on: a later message arrives.
      const before = (await peer.stats()).received;
      await me.comm.write(Buffer.alloc(64, 4));
      await peer.call('received', { count: before + 1 });
    } finally {
      region.close();
    }
  });
});
