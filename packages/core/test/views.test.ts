// receive: 'view' — messages lent as views of the shared memory, across real processes.
import { once } from 'node:events';
import { Communicator } from '@shmlink/core';
import { StreamChecker, makeMessage, sizeFor } from './fixtures/messages';
import { Peer, cleanup, filesOf, leftovers, record, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

/** A lent message is a view of the whole mapping; a copy has an ArrayBuffer of its own. */
function isView(data: Buffer, capacity: number): boolean {
  return data.buffer.byteLength === capacity;
}

/** Blocks this thread (and so the event loop) for `ms`. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe("receive: 'view'", () => {
  test('a stream arrives intact and in order: whole messages as views of the region, fragmented ones as copies', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const count = 20_000;
    const maxSize = 8000; // a frame carries up to ~4 KiB (half a ring): about half are fragmented
    const me = record(new Communicator(name, capacity, { side: 'a', receive: 'view' }), false);
    const checker = new StreamChecker(7, { maxSize });
    let views = 0;
    let copies = 0;
    me.comm.on('data', (d) => {
      // The check runs inside the listener, while the view is valid.
      checker.push(d);
      if (isView(d, capacity)) views++;
      else copies++;
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const sent = await peer.write({ seed: 7, count, maxSize });
    await waitFor(() => checker.next >= count, 'the stream', 60_000);
    expect(sent.failures).toEqual([]);
    expect(checker.firstProblem).toBeNull();
    expect(checker.next).toBe(count);
    expect(views).toBeGreaterThan(count / 4);
    expect(copies).toBeGreaterThan(count / 4);
    expect(me.errors).toEqual([]);
  }, 90_000);

  test('a lent view stays intact until its listener returns, though the peer keeps writing', async () => {
    const name = uniqueName();
    const capacity = 4096; // a ring of under 2 KiB: the peer's 200 messages wrap it many times
    const count = 200;
    const me = record(new Communicator(name, capacity, { side: 'a', receive: 'view' }), false);
    const checker = new StreamChecker(3, { size: 256 });
    let heldIntact: boolean | undefined;
    me.comm.on('data', (d) => {
      if (checker.next === 0) {
        const copy = Buffer.from(d);
        block(300); // the peer writes all it can meanwhile; it must not overwrite this message
        heldIntact = d.equals(copy) && isView(d, capacity);
      }
      checker.push(d);
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const sent = await peer.write({ seed: 3, count, size: 256, window: count });
    await waitFor(() => checker.next >= count, 'the stream');
    expect(heldIntact).toBe(true);
    expect(sent.failures).toEqual([]);
    expect(checker.firstProblem).toBeNull();
    expect(me.errors).toEqual([]);
  });

  test('stopReader() in a listener leaves the rest of the batch in the ring, lent again at the next start; nothing is lost or repeated', async () => {
    const name = uniqueName();
    const capacity = 65536;
    const me = record(new Communicator(name, capacity, { side: 'a', receive: 'view' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    // All 50 are in the ring before the reader starts, so the first batch holds them all.
    await peer.write({ seed: 4, count: 50, size: 100 });
    const checker = new StreamChecker(4, { size: 100 });
    const kinds: boolean[] = [];
    let stopped: Promise<void> | undefined;
    me.comm.on('data', (d) => {
      checker.push(d);
      kinds.push(isView(d, capacity));
      if (checker.next === 10) stopped = me.comm.stopReader();
    });
    me.comm.startReader();
    await waitFor(() => stopped !== undefined, 'the stop');
    await stopped;
    expect(checker.next).toBe(10);
    // What was delivered went back to the peer; the other 40 wait in the ring (4.5 KiB of 32).
    await peer.write({ seed: 4, from: 50, count: 200, size: 100 });
    me.comm.startReader();
    await waitFor(() => checker.next >= 250, 'the rest');
    expect(checker.firstProblem).toBeNull();
    expect(checker.next).toBe(250);
    expect(kinds.every(Boolean)).toBe(true);
  });

  test('a peer whose runtime forbids external memory (as Electron does) copies both ways and refuses views', async () => {
    const electronLike = { SHMLINK_NO_EXTERNAL_BUFFERS: '1' };
    const name = uniqueName();
    const capacity = 16384;
    const refused = await Peer.start({ name, capacity, options: { side: 'b', receive: 'view' } }, [], electronLike).catch((err: { code?: string }) => err);
    expect(refused).toMatchObject({ code: 'ERR_UNSUPPORTED_PLATFORM' });
    // The peer writes through its staging buffer and reads by copying; this side uses views.
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const checker = new StreamChecker(8, { maxSize: 6000 });
    me.comm.on('data', (d) => checker.push(d));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, echo: true, start: true }, [], electronLike);
    const count = 3000;
    for (let seq = 0; seq < count; seq++) {
      if (!me.comm.send(makeMessage(8, seq, sizeFor(8, seq, 6000)))) await once(me.comm, 'drain');
    }
    await waitFor(() => checker.next >= count, 'the echoes');
    expect(checker.firstProblem).toBeNull();
    expect((await peer.stats()).echoFailures).toEqual([]);
    expect(me.errors).toEqual([]);
  });

  test('bad receive options: ERR_INVALID_ARGUMENT, and no region is left behind', () => {
    const name = uniqueName();
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => new Communicator(name, 4096, { receive: 'borrow' as 'view' })).toThrow(invalid);
    expect(() => new Communicator(name, 4096, { receive: 'view', codec: 'json' } as object)).toThrow(invalid);
    expect(filesOf(name)).toEqual([]);
  });
});
