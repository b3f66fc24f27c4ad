// The sleeping side of docs/protocol.md §4 (WaitStrategy) against a real mapping, a real futex and
// a real doorbell FIFO, with the interleaving that lost wake-ups (issue 12, item 6) forced: the
// waker's flag check runs late — after the sleeper announced and while it re-checks, before it
// sleeps. The waker runs inside the sleeper's re-check, so the order is exact, not a matter of
// luck. A lost wake shows as a sleep of the whole slice; a late wake must only make the sleep end
// at once (a spurious wake, which the caller's loop absorbs). Blocking waits are refused on the
// main thread, so the futex cases run in a worker thread over the compiled modules.
// The same race across processes, with delays injected into the C peer: c-peer.test.ts,
// "no lost wake-up".
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import { Region, type ShmError } from '@shmlink/native';
import { Doorbell, DoorbellRinger } from '@shmlink/native/internal';
import { Half } from '../src/half';
import { PollWindow } from '../src/poll-window';
import { CONSUMER_SLEEPING_OFFSET, PRODUCER_WAITING_OFFSET, Sleep, VERSION, VERSION_OFFSET } from '../src/ring-descriptor';
import { WaitStrategy } from '../src/wait-strategy';
import { Peer, cleanup, leftovers, uniqueName, writeStream } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const SIZE = 4096;
const SLICE_MS = 3_000; // a lost wake-up sleeps this long; a late one must cost nearly nothing
const PROMPT_MS = 500; // "at once", with room for a loaded machine

interface SyncReport {
  took: number;
  ready: boolean;
  rechecks: number;
  flagAfter: number;
  failure?: string;
}

/**
 * In a worker: a WaitStrategy of `role` on the half at 0 of region `name` calls waitSync(ready,
 * SLICE_MS); its `ready()` — the re-check after the announcement — plays the peer whose check of
 * the flag comes late: it finds the announcement, swaps it to 0 and wakes (Half.wakeIfSleeping),
 * then reports nothing new.
 */
function lateWakeInWorker(name: string, role: 'consumer' | 'producer'): Promise<SyncReport> {
  const dist = path.dirname(require.resolve('@shmlink/core'));
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const { Region } = require('@shmlink/native');
    const { Half } = require(workerData.dist + '/half.js');
    const { WaitStrategy } = require(workerData.dist + '/wait-strategy.js');
    const { Doorbell, DoorbellRinger } = require('@shmlink/native/internal');
    const { PollWindow } = require(workerData.dist + '/poll-window.js');
    const { name, size, role, flag, slice } = workerData;
    const region = Region.open(name);
    const bell = new Doorbell(name, 0);
    const ringer = new DoorbellRinger(name, 0);
    const report = { took: 0, ready: false, rechecks: 0, flagAfter: -1 };
    try {
      const half = new Half(region, 0, size);
      const wait = new WaitStrategy(half, role, bell, new PollWindow(0, 0));
      const start = performance.now();
      report.ready = wait.waitSync(() => {
        report.rechecks++;
        half.wakeIfSleeping(flag, ringer); // the peer's late check, between re-check and sleep
        return false;
      }, slice);
      report.took = performance.now() - start;
      report.flagAfter = half.load(flag);
    } catch (err) {
      report.failure = String((err && err.stack) || err);
    }
    ringer.close();
    bell.close();
    region.close();
    parentPort.postMessage(report);
    `,
    {
      eval: true,
      workerData: { dist, name, size: SIZE, role, flag: role === 'consumer' ? CONSUMER_SLEEPING_OFFSET : PRODUCER_WAITING_OFFSET, slice: SLICE_MS },
    },
  );
  return new Promise<SyncReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => void worker.terminate());
}

describe('a wake-up whose flag check comes late (docs/protocol.md §4)', () => {
  for (const role of ['consumer', 'producer'] as const) {
    test(`futex (${role === 'consumer' ? 'receiveSync' : 'writeSync'}): the sleep ends at once instead of lasting the slice`, async () => {
      const name = uniqueName();
      const region = Region.create(name, SIZE);
      try {
        const report = await lateWakeInWorker(name, role);
        expect(report.failure).toBeUndefined();
        expect(report.rechecks).toBe(1);
        expect(report.ready).toBe(false); // nothing arrived: the caller loops and announces again
        expect(report.took).toBeLessThan(PROMPT_MS);
        expect(report.flagAfter).toBe(Sleep.Awake);
      } finally {
        region.close();
      }
    });
  }

  test('doorbell (event reader): the late ring stays in the FIFO and ends the next sleep at once', async () => {
    const name = uniqueName();
    const region = Region.create(name, SIZE);
    const bell = new Doorbell(name, 0);
    const ringer = new DoorbellRinger(name, 0);
    try {
      const half = new Half(region, 0, SIZE);
      const wait = new WaitStrategy(half, 'consumer', bell, new PollWindow(0, 0));
      let rechecks = 0;
      const start = performance.now();
      await wait.wait(
        () => {
          rechecks++;
          half.wakeIfSleeping(CONSUMER_SLEEPING_OFFSET, ringer);
          return false;
        },
        SLICE_MS,
        () => true,
      );
      expect(rechecks).toBe(1);
      expect(performance.now() - start).toBeLessThan(PROMPT_MS);
      expect(half.load(CONSUMER_SLEEPING_OFFSET)).toBe(Sleep.Awake);
    } finally {
      ringer.close();
      bell.close();
      region.close();
    }
  });
});

describe('peers of the old handshake (layout version 2) are refused, not left asleep', () => {
  test('a half initialised by a version-2 peer: ERR_LAYOUT_MISMATCH naming both versions', () => {
    const name = uniqueName();
    const capacity = 4096;
    const region = Region.create(name, capacity);
    try {
      // What a version-2 side leaves: a complete descriptor of the half it writes (side 'b').
      const half = new Half(region, capacity / 2, capacity / 2);
      half.initialize();
      half.store(VERSION_OFFSET, 2);
      expect(VERSION).toBe(3);
      const comm = new Communicator(name, capacity, { side: 'a' });
      let error: ShmError | undefined;
      try {
        comm.startReader(); // joins the channel: checks both halves
      } catch (err) {
        error = err as ShmError;
      } finally {
        comm.dispose();
      }
      expect(error?.code).toBe('ERR_LAYOUT_MISMATCH');
      expect(error?.message).toMatch(/version=2 expected=3/);
    } finally {
      region.close();
    }
  });
});

describe('a writer keeping a begun fragmented message is woken to confirm it', () => {
  // A message larger than the free ring that its reader began is kept until the consumer's head
  // passes its end. When the head was already there as the writer framed the last fragment, the
  // consumer stores no other head: the writer must confirm at once, not sleep its slice. Without
  // a poll window nothing else ends that sleep, and the slice here (peerCheckInterval) is 60 s,
  // so each message it caught would outlast the test.
  test('poll 0: 300 messages of three half-rings each arrive, none waiting out a sleep slice', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const options = { poll: 0, pollBusy: 0, peerCheckInterval: 60_000 };
    const me = new Communicator(name, capacity, { side: 'a', ...options });
    const size = 3 * (me.readPosition - me.writePosition);
    const peer = await Peer.start({ name, capacity, options: { side: 'b', ...options }, verify: { seed: 31, size }, start: true });
    try {
      await writeStream(me, { seed: 31, count: 300, size });
      await peer.call('received', { count: 300 });
      const stats = await peer.stats();
      expect(stats.firstProblem).toBeNull();
      expect(stats.received).toBe(300);
    } finally {
      me.dispose();
    }
  }, 50_000);
});
