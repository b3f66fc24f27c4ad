// 'data' listeners as EventEmitter defines them, whichever way the reader calls them: a single
// listener is called directly (event-reader.ts emitData), several or captureRejections through
// emit(). Messages come from a real peer process.
import { EventEmitter } from 'node:events';
import { Communicator, type ShmError } from '@shmlink/core';
import { makeMessage } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const SIZE = 64;

async function channel(options: { receive?: 'copy' | 'view' } = {}): Promise<{ comm: Communicator; peer: Peer; errors: ShmError[] }> {
  const name = uniqueName();
  const capacity = 1 << 16;
  const me = record(new Communicator(name, capacity, { side: 'a', ...options }), false);
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  return { comm: me.comm, peer, errors: me.errors };
}

describe.each(['copy', 'view'] as const)("'data' listeners (receive: %s)", (receive) => {
  test('one listener gets every message in order, called with the communicator as `this`', async () => {
    const { comm, peer } = await channel({ receive });
    const seen: Buffer[] = [];
    let self: unknown;
    comm.on('data', function (this: unknown, data: Buffer) {
      self = this;
      seen.push(Buffer.from(data));
    });
    comm.startReader();
    await peer.write({ seed: 41, count: 300, size: SIZE });
    await waitFor(() => seen.length === 300, 'the messages');
    expect(self).toBe(comm);
    seen.forEach((m, i) => expect(m.equals(makeMessage(41, i, SIZE))).toBe(true));
  });

  test('a listener added by the only listener hears the next messages; once() hears one; removal is honoured', async () => {
    const { comm, peer } = await channel({ receive });
    const first: number[] = [];
    const second: number[] = [];
    const once: number[] = [];
    let count = 0;
    const onSecond = (): void => {
      second.push(count);
      if (second.length === 5) comm.off('data', onSecond);
    };
    comm.on('data', () => {
      count++;
      first.push(count);
      if (count === 10) {
        comm.on('data', onSecond);
        comm.once('data', () => once.push(count));
      }
    });
    comm.startReader();
    await peer.write({ seed: 42, count: 50, size: SIZE });
    await waitFor(() => first.length === 50, 'the messages');
    expect(second).toEqual([11, 12, 13, 14, 15]);
    expect(once).toEqual([11]);
    expect(comm.listenerCount('data')).toBe(1);
  });
});

test('with captureRejections, an async listener that rejects is reported as an error event (emit() path)', async () => {
  const before = EventEmitter.captureRejections;
  EventEmitter.captureRejections = true;
  let setup: Awaited<ReturnType<typeof channel>>;
  try {
    setup = await channel();
  } finally {
    EventEmitter.captureRejections = before;
  }
  const { comm, peer } = setup;
  const captured: unknown[] = [];
  comm.on('error', (e: unknown) => captured.push(e));
  comm.on('data', async () => {
    throw new Error('listener failed');
  });
  comm.startReader();
  await peer.write({ seed: 43, count: 3, size: SIZE });
  await waitFor(() => captured.length === 3, 'the captured rejections');
  expect((captured[0] as Error).message).toBe('listener failed');
});
