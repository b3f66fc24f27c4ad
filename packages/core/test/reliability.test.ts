// No message lost when a reader goes away: in the middle of a fragmented message (killed or
// disposed), or in the middle of a batch. Real processes over real shared memory; the reader
// records what its listener got (fixtures/logging-reader.js) and is killed at chosen points.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { makeMessage } from './fixtures/messages';
import { Peer, cleanup, killReader, leftovers, logged, record, startLoggingReader, uniqueName, waitFor, type LoggingReader } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-reliability-'));

afterEach(cleanup);
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(leftovers()).toEqual([]);
});

async function dispose(reader: LoggingReader): Promise<void> {
  await new Promise<void>((resolve) => {
    reader.child.on('message', (m: { disposed?: boolean }) => m.disposed === true && resolve());
    reader.child.send({ op: 'dispose' });
  });
  reader.child.kill('SIGKILL');
  await reader.exited;
}

describe('a reader that goes away in the middle of a fragmented message', () => {
  test.each(['killed', 'disposed'] as const)('%s: the next reader gets the message whole, and the messages after it, in order', async (how) => {
    // A persisted 64 KiB channel: halves of 32 KiB, so a 40,000-byte message takes two laps.
    const name = uniqueName();
    const file = path.join(tmp, `${name}.shm`);
    const capacity = 64 * 1024;
    const size = 40_000;
    const writer = await Peer.start({ name, capacity, options: { side: 'a', path: file } });
    const region = Region.open(name, { path: file });
    try {
      const TAIL = ringDescriptor.TAIL_OFFSET;
      const HEAD = ringDescriptor.HEAD_OFFSET;
      const writing = writer.write({ seed: 21, count: 4, size });
      // The first commit fills the ring with the first fragments; then the writer waits for space.
      await waitFor(() => region.load(TAIL) > 30_000, 'the first fragments');
      await writer.pause();
      const first = await startLoggingReader({ name, capacity, options: { side: 'b', path: file }, seed: 21, size }, path.join(tmp, `${name}-1.log`));
      // It takes every fragment published and gives their space back (the writer needs it).
      await waitFor(() => region.load(HEAD) !== 0, "the first reader's head");
      if (how === 'killed') await killReader(first);
      else await dispose(first);
      writer.resume();
      const second = await startLoggingReader({ name, capacity, options: { side: 'b', path: file }, seed: 21, size }, path.join(tmp, `${name}-2.log`));
      await waitFor(() => logged(second.log).length >= 4, 'four messages at the second reader', 20_000);
      expect(logged(first.log)).toEqual([]);
      expect(logged(second.log)).toEqual([
        [0, true],
        [1, true],
        [2, true],
        [3, true],
      ]);
      expect((await writing).committed).toBe(4);
      await killReader(second);
    } finally {
      writer.resume();
      // Before the unlink: Windows cannot delete a file some process still maps (decisions §27).
      await writer.kill();
      region.close();
      Communicator.unlink(name, { path: file });
    }
  });
});

describe('a reader killed in the middle of a batch', () => {
  test('the next reader starts at the message the first one had in hand or the one after it: nothing lost, at most one repeated', async () => {
    const name = uniqueName();
    const capacity = 1024 * 1024;
    const count = 400;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    // All of them in the ring before anyone reads: the first reader's first batch holds them all.
    for (let seq = 0; seq < count; seq++) await me.comm.write(makeMessage(22, seq, 64));
    const config = { name, capacity, options: { side: 'b' }, seed: 22, size: 64 };
    const first = await startLoggingReader({ ...config, delayUs: 2000 }, path.join(tmp, `${name}-1.log`));
    await waitFor(() => logged(first.log).length >= 30, 'thirty messages at the first reader');
    await killReader(first);
    const before = logged(first.log);
    const second = await startLoggingReader(config, path.join(tmp, `${name}-2.log`));
    const last = before[before.length - 1]![0];
    await waitFor(() => logged(second.log).some(([seq]) => seq === count - 1), 'the last message at the second reader');
    const after = logged(second.log);
    expect(before.every(([seq, ok], i) => seq === i && ok)).toBe(true);
    // The message in the listener's hands when it was killed may come again; nothing else does.
    expect([last, last + 1]).toContain(after[0]![0]);
    expect(after.every(([seq, ok], i) => seq === after[0]![0] + i && ok)).toBe(true);
    await killReader(second);
  });
});
