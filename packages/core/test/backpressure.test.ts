// Backpressure: a writer faster than its reader waits for space instead of buffering or dropping;
// its memory stays bounded however much it writes; the reader loses nothing while it pauses.
import { Communicator, ringDescriptor } from '@shmlink/core';
import { StreamChecker } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, sleep, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const MiB = 1024 * 1024;

test('a fast writer and a slow reader: nothing lost, the writer waits, its memory stays bounded', async () => {
  const name = uniqueName();
  const capacity = 65536;
  const size = 16000; // one frame each; 96 MB in all, far more than the writer may hold
  const count = 6000;
  const me = record(new Communicator(name, capacity, { side: 'a' }), false);
  const ring = ringDescriptor.ringSizeFor(capacity - me.comm.readPosition);
  const perRing = Math.floor(ring / ringDescriptor.align(ringDescriptor.FRAME_HEADER + size));
  const checker = new StreamChecker(14, { size });

  // The reader is slow: it stops itself (from inside its listener) every 250 messages for a
  // while, and burns time on every message.
  let pauses = 0;
  let longPause: Promise<void> | undefined;
  me.comm.on('data', (d) => {
    checker.push(d);
    const until = performance.now() + 0.05;
    while (performance.now() < until); // a slow consumer
    if (checker.next % 250 === 0 && checker.next < count) {
      void me.comm.stopReader();
      pauses++;
      if (checker.next === 2500) {
        longPause = Promise.resolve(); // resumed by the test body below
      } else {
        setTimeout(() => me.comm.startReader(), 20);
      }
    }
  });
  me.comm.startReader();
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } }, ['--expose-gc']);
  const writing = peer.write({ seed: 14, count, size, window: 1, sampleEvery: 25 });

  // During the long pause the writer can only fill the ring, then it waits.
  await waitFor(() => longPause !== undefined, 'the long pause', 30_000);
  await sleep(300);
  const before = (await peer.stats()).committed;
  await sleep(300);
  const after = (await peer.stats()).committed;
  expect(after).toBe(before);
  expect(after - checker.next).toBeLessThanOrEqual(perRing + 1);
  me.comm.startReader();

  const result = await writing;
  await waitFor(() => checker.next >= count, 'every message', 60_000);
  await sleep(100);
  expect(result.failures).toEqual([]);
  expect(checker.next).toBe(count);
  expect(checker.firstProblem).toBeNull();
  expect(pauses).toBe(count / 250 - 1);

  const m = result.memory!;
  const growth = { rss: (m.maxRss - m.baseRss) / MiB, heapUsed: (m.maxHeapUsed - m.baseHeapUsed) / MiB, external: m.maxExternal / MiB };
  console.log(`writer memory growth while writing ${(count * size) / MiB} MiB: ${JSON.stringify(growth)}`);
  expect(growth.heapUsed).toBeLessThan(16);
  expect(growth.rss).toBeLessThan(48);
}, 90_000);

test('stopReader() from a listener leaves the rest of the batch in the ring for the next startReader()', async () => {
  const name = uniqueName();
  const capacity = 16384;
  const me = record(new Communicator(name, capacity, { side: 'a' }), false);
  const checker = new StreamChecker(15, { size: 50 });
  me.comm.on('data', (d) => {
    checker.push(d);
    if (checker.next === 10) void me.comm.stopReader();
  });
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  await peer.write({ seed: 15, count: 100, size: 50 }); // all in the ring: one batch
  me.comm.startReader();
  await waitFor(() => !me.comm.readerRunning, 'the stop');
  await sleep(100);
  expect(checker.next).toBe(10);
  me.comm.startReader();
  await waitFor(() => checker.next >= 100, 'the rest');
  await sleep(100);
  expect(checker.next).toBe(100);
  expect(checker.firstProblem).toBeNull();
});

test.each(['event-loop', 'worker'] as const)('reader %s: stopReader() and startReader() from the same listener call: every message once, in order', async (reader) => {
  const name = uniqueName();
  const capacity = 16384;
  const me = record(new Communicator(name, capacity, { side: 'a', reader }), false);
  const checker = new StreamChecker(16, { size: 50 });
  me.comm.on('data', (d) => {
    checker.push(d);
    if (checker.next % 10 === 0) {
      void me.comm.stopReader();
      me.comm.startReader();
    }
  });
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  await peer.write({ seed: 16, count: 100, size: 50 });
  me.comm.startReader();
  await peer.write({ seed: 16, from: 100, count: 100, size: 50 });
  await waitFor(() => checker.next >= 200, 'every message');
  await sleep(100);
  expect(checker.next).toBe(200);
  expect(checker.firstProblem).toBeNull();
});
