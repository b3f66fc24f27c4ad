// send(): messages queued without a Promise, across real processes — order with write(),
// backpressure through its return value and 'drain', failures as 'error' events.
import { once } from 'node:events';
import { Communicator } from '@shmlink/core';
import { makeMessage, sizeFor } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, sleep, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

describe('send()', () => {
  test('interleaved with write(), everything arrives intact and in order', async () => {
    const name = uniqueName();
    const capacity = 16384; // small: the stream wraps the ring and often waits for room
    const count = 20_000;
    const maxSize = 3000;
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 5, maxSize }, start: true });
    let last: Promise<void> = Promise.resolve();
    for (let seq = 0; seq < count; seq++) {
      const message = makeMessage(5, seq, sizeFor(5, seq, maxSize));
      if (seq % 3 === 0) last = me.comm.write(message);
      else if (!me.comm.send(message)) await once(me.comm, 'drain');
    }
    await last;
    await peer.call('received', { count });
    const stats = await peer.stats();
    expect(stats.firstProblem).toBeNull();
    expect(stats.received).toBe(count);
    expect(me.errors).toEqual([]);
  }, 60_000);

  test("returns false at highWaterMark while the reader does not read; 'drain' once it has caught up", async () => {
    const name = uniqueName();
    const capacity = 8192;
    const me = record(new Communicator(name, capacity, { side: 'a', highWaterMark: 16 * 1024 }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 6, size: 500 } });
    let sent = 0;
    while (me.comm.send(makeMessage(6, sent, 500))) sent++;
    sent++; // the one that returned false was queued too
    // The messages the free ring took went into it at once (they wait for nothing); the rest wait
    // in the queue, and false came with the one that brought those to the mark.
    expect(sent * 500).toBeGreaterThanOrEqual(16 * 1024);
    expect(sent * 500).toBeLessThan(16 * 1024 + 500 + capacity / 2);
    expect(sent * 500).toBeGreaterThan(16 * 1024 + 500);
    let drained = false;
    me.comm.once('drain', () => {
      drained = true;
    });
    await sleep(100);
    expect(drained).toBe(false); // the ring is full and nobody reads
    await peer.call('start');
    await waitFor(() => drained, "'drain'");
    await peer.call('received', { count: sent });
    expect((await peer.stats()).firstProblem).toBeNull();
  });

  test('messages that cannot be committed in time: ERR_TIMEOUT events that count them, not one per message', async () => {
    const name = uniqueName();
    const capacity = 4096; // a ring of 1,792 bytes per half: 8 frames of 208 bytes fit
    const me = record(new Communicator(name, capacity, { side: 'a', timeout: 100 }));
    await Peer.start({ name, capacity, options: { side: 'b' } }); // attached, never reads
    for (let i = 0; i < 40; i++) me.comm.send(Buffer.alloc(200, i));
    const counted = (): number => me.errors.reduce((sum, e) => sum + Number(/^(\d+) messages? queued by send\(\) failed/.exec(e.message)?.[1] ?? NaN), 0);
    await waitFor(() => counted() >= 32, 'the timeouts');
    await sleep(50);
    expect(new Set(me.errors.map((e) => e.code))).toEqual(new Set(['ERR_TIMEOUT']));
    expect(counted()).toBe(32);
    // One event per tick in which deadlines passed; the 40 sends' deadlines lie within a tick or two.
    expect(me.errors.length).toBeLessThan(8);
  });

  test('bad input, too large and after dispose() throw at once; dispose() drops what is left quietly', async () => {
    const name = uniqueName();
    const me = record(new Communicator(name, 4096, { side: 'a', maxMessageSize: 1000 }));
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => me.comm.send(42 as unknown as string))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => me.comm.send(Buffer.alloc(1001)))).toBe('ERR_MESSAGE_TOO_LARGE');
    for (let i = 0; i < 100; i++) me.comm.send(Buffer.alloc(500)); // far more than the ring holds
    me.comm.dispose();
    await sleep(20);
    expect(me.errors).toEqual([]);
    expect(code(() => me.comm.send('late'))).toBe('ERR_CLOSED');
    expect(() => new Communicator(uniqueName(), 4096, { highWaterMark: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
