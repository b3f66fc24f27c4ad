// The in-flight window for large messages (docs/decisions.md §43): write() and send() keep at most
// about IN_FLIGHT_BYTES of large messages unread in the ring, so that what follows a bulk stream
// waits behind that much and not behind the whole ring. Checked across real processes: a writer
// held by the window while its reader is stopped is woken when the reader starts, and every
// message arrives once, in order, intact — small ones among large ones included.
import { Communicator } from '@shmlink/core';
import { IN_FLIGHT_BYTES } from '../src/framer';
import { makeMessage, sizeFor } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, sleep, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const MiB = 1024 * 1024;
// A 32 MiB ring each way: it could hold every message below, the window cannot.
const CAPACITY = 64 * MiB;

test('a writer held by the window is woken as its reader takes messages; nothing is lost or reordered', async () => {
  const name = uniqueName();
  const me = record(new Communicator(name, CAPACITY, { side: 'a' }), false);
  const maxSize = 256 * 1024; // sizes 0..256 KiB: large and small messages mixed
  const count = 160; // ≈ 20 MiB: the ring could take them all
  const peer = await Peer.start({ name, capacity: CAPACITY, options: { side: 'b' }, verify: { seed: 41, maxSize } });
  let committed = 0;
  const writes: Promise<void>[] = [];
  let bytes = 0;
  for (let seq = 0; seq < count; seq++) {
    const message = makeMessage(41, seq, sizeFor(41, seq, maxSize));
    bytes += message.length;
    writes.push(me.comm.write(message).then(() => void committed++));
  }
  expect(bytes).toBeGreaterThan(4 * IN_FLIGHT_BYTES);
  expect(bytes).toBeLessThan(CAPACITY / 2 - count * 64);
  // Nobody reads yet: the writer commits up to the window and then waits, though the ring has room.
  await waitFor(() => committed > 0, 'the first commits');
  await sleep(200);
  const held = committed;
  expect(held).toBeLessThan(count);
  await sleep(200);
  expect(committed).toBe(held);

  await peer.call('start');
  await Promise.all(writes);
  await peer.call('received', { count });
  const stats = await peer.stats();
  expect(stats.received).toBe(count);
  expect(stats.bad).toBe(0);
  expect(stats.firstProblem).toBeNull();
  expect(stats.errorCodes).toEqual([]);
}, 60_000);

test('messages send() queued behind the window all arrive once the reader starts, and disposeAsync() waits for them', async () => {
  const name = uniqueName();
  const size = 512 * 1024;
  const count = 48; // 24 MiB
  const me = record(new Communicator(name, CAPACITY, { side: 'a' }), false);
  const peer = await Peer.start({ name, capacity: CAPACITY, options: { side: 'b' }, verify: { seed: 42, size } });
  for (let seq = 0; seq < count; seq++) me.comm.send(makeMessage(42, seq, size));
  await sleep(200);
  await peer.call('start');
  await me.comm.disposeAsync();
  await peer.call('received', { count });
  const stats = await peer.stats();
  expect(stats.received).toBe(count);
  expect(stats.bad).toBe(0);
}, 60_000);

test('writeSync is not held by the window: it commits whatever the ring takes', () => {
  const name = uniqueName();
  const me = record(new Communicator(name, CAPACITY, { side: 'a' }), false);
  const size = 512 * 1024;
  // On the main thread writeSync never waits: it throws ERR_TIMEOUT when the ring cannot take the message now.
  for (let seq = 0; seq < (3 * IN_FLIGHT_BYTES) / size; seq++) me.comm.writeSync(makeMessage(43, seq, size));
});
