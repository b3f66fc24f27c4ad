// Copying receive hands out Buffers that belong to the listener: a message kept after its 'data'
// event still holds its own bytes once the ring has wrapped over it many times — across batches
// cut at frame ends (ring-reader.ts #window) and batches shared by several messages.
import { Communicator } from '@shmlink/core';
import { makeMessage, sizeFor } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

describe('copying receive', () => {
  test.each([
    ['64 KiB messages', { size: 64 * 1024 }],
    ['mixed sizes up to 100 KiB', { maxSize: 100 * 1024 }],
  ])('kept messages are never overwritten by later ones (%s)', async (_what, sizes) => {
    const name = uniqueName();
    const capacity = 1 << 20; // a ring of about 512 KiB per half: the stream wraps it many times
    const count = 200;
    const seed = 41;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const kept: Buffer[] = [];
    me.comm.on('data', (message: Buffer) => kept.push(message));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    await peer.call('write', { seed, count, ...sizes, window: 16 });
    await waitFor(() => kept.length === count, `${count} messages`);
    for (let seq = 0; seq < count; seq++) {
      const size = 'size' in sizes ? sizes.size : sizeFor(seed, seq, sizes.maxSize);
      expect(kept[seq]!.equals(makeMessage(seed, seq, size))).toBe(true);
    }
    expect(me.errors).toEqual([]);
  });
});
