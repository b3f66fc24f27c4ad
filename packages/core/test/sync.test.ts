// The synchronous paths: receiveSync() and writeSync() in a worker thread, their refusal or
// limits on the main thread; and an idle reader costs no CPU.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { StreamChecker, makeMessage } from './fixtures/messages';
import { FIXTURES, Peer, cleanup, leftovers, open, record, sleep, uniqueName, waitFor, writeStream } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

interface WorkerReport {
  received: number;
  nulls: number;
  errors: string[];
  refusals: string[];
  firstProblem: string | null;
  bad: number;
  failure?: { code?: string; message: string };
}

function startWorker(workerData: object): { worker: Worker; ready: Promise<void>; report: Promise<WorkerReport> } {
  const worker = new Worker(path.join(FIXTURES, 'receive-worker.js'), { workerData });
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    worker.on('message', (msg: { type: string; report?: WorkerReport }) => {
      if (msg.type === 'ready') onReady();
      if (msg.type === 'report') resolve(msg.report!);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before its report`)));
  });
  return { worker, ready, report };
}

describe('receiveSync', () => {
  test('in a worker thread: receives every message intact and in order, answers with writeSync', async () => {
    const name = uniqueName();
    const capacity = 8192;
    const count = 2000;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const maxSize = 2 * (me.comm.readPosition - me.comm.writePosition); // some fragmented
    const echoes = new StreamChecker(12, { maxSize });
    me.comm.on('data', (d) => echoes.push(d));
    me.comm.startReader();
    const { worker, ready, report } = startWorker({ name, capacity, side: 'b', seed: 12, count, maxSize, echo: true });
    try {
      await ready;
      await writeStream(me.comm, { seed: 12, count, maxSize, window: 16 });
      const r = await report;
      expect(r.failure).toBeUndefined();
      expect(r.received).toBe(count);
      expect(r.firstProblem).toBeNull();
      expect(r.nulls).toBe(1); // the deliberate short timeout before anything was sent
      expect(r.errors).toEqual([]);
      // With the event reader running it refuses; after dispose, ERR_CLOSED.
      expect(r.refusals).toEqual(['ERR_INVALID_STATE', 'ERR_CLOSED']);
      await waitFor(() => echoes.next === count, 'the echoes');
      expect(echoes.firstProblem).toBeNull();
    } finally {
      await worker.terminate();
    }
  });

  test('on the main thread it is refused with ERR_NOT_MAIN_THREAD_SAFE', () => {
    const me = open(uniqueName(), 4096, { side: 'a' });
    expect(() => me.comm.receiveSync()).toThrow(expect.objectContaining({ code: 'ERR_NOT_MAIN_THREAD_SAFE' }));
    expect(() => me.comm.receiveSync({ timeout: 0 })).toThrow(expect.objectContaining({ code: 'ERR_NOT_MAIN_THREAD_SAFE' }));
  });
});

describe('stopping workers that are inside receiveSync/writeSync', () => {
  // bench/README.md once said this aborts the process (FATAL ERROR … napi_throw); it does not.
  for (const how of ['terminate', 'exit'] as const) {
    test(`${how === 'terminate' ? 'worker.terminate()' : 'process.exit()'} during traffic: the process ends cleanly, four times in four`, async () => {
      for (let round = 0; round < 4; round++) {
        const name = uniqueName();
        const { code, signal, stdout, stderr } = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, [path.join(FIXTURES, 'sync-stop.js'), name, how, String(40 + 60 * round)], (err, stdout, stderr) => {
            const failed = err as (Error & { code?: number; signal?: string }) | null;
            resolve({ code: failed === null ? 0 : (failed.code ?? null), signal: failed?.signal ?? null, stdout, stderr });
          });
        });
        expect({ round, code, signal, stderr }).toEqual({ round, code: 0, signal: null, stderr: '' });
        expect(Number(/stopped after (\d+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(100); // during traffic
      }
    });
  }
});

describe('writeSync on the main thread', () => {
  test('commits at once when there is room; a message that does not fit throws ERR_TIMEOUT and is never delivered', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = open(name, capacity, { side: 'a' });
    const ring = ringDescriptor.ringSizeFor(me.comm.readPosition - me.comm.writePosition);
    me.comm.writeSync(makeMessage(13, 0, 100));
    me.comm.writeSync(makeMessage(13, 1, 100));
    // Larger than the ring: it cannot be committed without waiting, and the main thread does not wait.
    expect(() => me.comm.writeSync(Buffer.alloc(2 * ring, 9))).toThrow(expect.objectContaining({ code: 'ERR_TIMEOUT' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 13, size: 100 }, start: true });
    await peer.call('received', { count: 2 });
    await me.comm.write(makeMessage(13, 2, 100));
    await peer.call('received', { count: 3 });
    await sleep(200);
    const stats = await peer.stats();
    expect(stats.received).toBe(3);
    expect(stats.firstProblem).toBeNull();
  });
});

describe('idle cost', () => {
  test("an idle reader's CPU time over 2.5 s is near zero", async () => {
    const name = uniqueName();
    const me = open(name, 8192, { side: 'a' });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' }, start: true });
    await me.comm.write('wake up once');
    await peer.call('received', { count: 1 });
    const { user, system, wallMicros } = await peer.call<{ user: number; system: number; wallMicros: number }>('cpu', { ms: 2500 });
    const share = (user + system) / wallMicros;
    console.log(`idle reader: ${((user + system) / 1000).toFixed(1)} ms CPU over ${(wallMicros / 1e6).toFixed(2)} s (${(share * 100).toFixed(2)}%)`);
    expect(share).toBeLessThan(0.05);
    // And it is still awake to data.
    await me.comm.write('still there');
    await peer.call('received', { count: 2 });
  });

  test('after a dense request-reply exchange the wide poll window ends: the reader sleeps again', async () => {
    const name = uniqueName();
    const me = open(name, 8192, { side: 'a' });
    let replies = 0;
    me.comm.on('data', () => {
      // The next request leaves from the reply's handler: a dense stream on both sides.
      if (++replies < 2000) void me.comm.write('ping');
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' }, echo: true, start: true });
    await me.comm.write('ping');
    await waitFor(() => replies === 2000, 'the exchange');
    const { user, system, wallMicros } = await peer.call<{ user: number; system: number; wallMicros: number }>('cpu', { ms: 2500 });
    expect((user + system) / wallMicros).toBeLessThan(0.05);
    await me.comm.write('still there');
    await waitFor(() => replies === 2001, 'the echo after the pause');
  });
});
