// The doorbell that wakes a sleeping event loop from another process (lib/doorbell.ts), rung by a
// forked process over the real FIFO.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Doorbell, DoorbellRinger, removeDoorbells } from '@shmlink/native/internal';
import { FIXTURES, uniqueName } from './helpers';

const linux = process.platform === 'linux';
const windows = process.platform === 'win32';

function ringFromChild(name: string, key: number, count: number): Promise<number | null> {
  const child = fork(path.join(FIXTURES, 'ring.js'), [name, String(key), String(count)], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Resolves with how the wait ended: 'rung' before `limitMs`, otherwise 'timed-out'. */
async function waitOutcome(bell: Doorbell, limitMs: number): Promise<'rung' | 'timed-out'> {
  const started = Date.now();
  await bell.wait(limitMs);
  return Date.now() - started < limitMs - 50 ? 'rung' : 'timed-out';
}

// A FIFO on Linux, a named auto-reset event on Windows (docs/decisions.md §22); the FIFO's own
// cases (a path left behind, something else at the path) run on Linux only.
(linux || windows ? describe : describe.skip)('doorbell', () => {
  const bells: Doorbell[] = [];
  afterEach(() => {
    for (const bell of bells.splice(0)) bell.close();
  });

  function listen(name: string, key: number): Doorbell {
    const bell = new Doorbell(name, key);
    bells.push(bell);
    return bell;
  }

  test('a ring from another process wakes a waiting listener', async () => {
    const name = uniqueName();
    const bell = listen(name, 64);
    const woken = waitOutcome(bell, 20000);
    expect(await ringFromChild(name, 64, 1)).toBe(0);
    expect(await woken).toBe('rung');
  });

  test('a wait without a ring times out', async () => {
    const bell = listen(uniqueName(), 0);
    expect(await waitOutcome(bell, 200)).toBe('timed-out');
  });

  test('ringing a doorbell nobody listens on does nothing', () => {
    const ringer = new DoorbellRinger(uniqueName(), 128);
    expect(() => ringer.ring()).not.toThrow();
    ringer.close();
  });

  test('one ring wakes every wait pending on the listener (a reader and a writer of one side)', async () => {
    const name = uniqueName();
    const bell = listen(name, 16);
    const both = Promise.all([waitOutcome(bell, 20000), waitOutcome(bell, 20000)]);
    expect(await ringFromChild(name, 16, 1)).toBe(0);
    expect(await both).toEqual(['rung', 'rung']);
  });

  test('close() ends the waits (and on Linux removes the FIFO)', async () => {
    const name = uniqueName();
    const bell = new Doorbell(name, 8);
    if (linux) expect(fs.existsSync(bell.path)).toBe(true);
    const waiting = waitOutcome(bell, 20000);
    bell.close();
    expect(await waiting).toBe('rung');
    if (linux) expect(fs.existsSync(bell.path)).toBe(false);
    expect(removeDoorbells(name)).toBe(false);
  });

  (windows ? test : test.skip)('Windows: a ring while no wait is pending wakes the next wait at once (the event stays set)', async () => {
    const name = uniqueName();
    const bell = listen(name, 32);
    expect(await ringFromChild(name, 32, 1)).toBe(0);
    expect(await waitOutcome(bell, 20000)).toBe('rung');
    expect(await waitOutcome(bell, 300)).toBe('timed-out');
  });

  (linux ? test : test.skip)('removeDoorbells removes every bell of a channel and no other', () => {
    const name = uniqueName();
    const other = uniqueName();
    const a = listen(name, 0);
    const b = listen(name, 4096);
    const c = listen(other, 0);
    expect(removeDoorbells(name)).toBe(true);
    expect(fs.existsSync(a.path) || fs.existsSync(b.path)).toBe(false);
    expect(fs.existsSync(c.path)).toBe(true);
  });

  (linux ? test : test.skip)('a FIFO left by an owner killed with SIGKILL: ringing it is a no-op, and the next owner takes it over and is woken', async () => {
    const name = uniqueName();
    const owner = fork(path.join(FIXTURES, 'listen.js'), [name, '0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise((resolve) => owner.once('message', resolve));
    const gone = new Promise((resolve) => owner.once('exit', resolve));
    owner.kill('SIGKILL');
    await gone;
    expect(fs.existsSync(`/dev/shm/${name}@0.bell`)).toBe(true);
    const ringer = new DoorbellRinger(name, 0);
    try {
      ringer.ring(); // nobody listens: open fails (ENXIO), nothing happens
      const bell = listen(name, 0);
      const woken = waitOutcome(bell, 20000);
      ringer.ring();
      expect(await woken).toBe('rung');
    } finally {
      ringer.close();
    }
  });

  (linux ? test : test.skip)('anything else at a doorbell path: the owner refuses it (ERR_SHM_EXISTS), a ringer never writes into it', () => {
    const name = uniqueName();
    const bellPath = `/dev/shm/${name}@0.bell`;
    fs.writeFileSync(bellPath, '');
    try {
      const ringer = new DoorbellRinger(name, 0);
      ringer.ring();
      ringer.close();
      expect(fs.statSync(bellPath).size).toBe(0);
      expect(() => new Doorbell(name, 0)).toThrow(expect.objectContaining({ code: 'ERR_SHM_EXISTS' }));
    } finally {
      fs.rmSync(bellPath);
    }
  });

  (linux ? test : test.skip)("a listener's FIFO closed in a Worker is not closed again at the Worker's exit (the fd number may be another thread's file by then)", async () => {
    // Node closes at a Worker's exit the fds the Worker opened through fs and did not close
    // through fs; the FIFO's socket closes its fd through libuv. Opened through fs, the FIFO's
    // number was closed a second time at exit: here, the main thread's file that took it.
    const name = uniqueName();
    const worker = new Worker(
      `
      const fs = require('node:fs');
      const { parentPort, workerData } = require('node:worker_threads');
      const { Doorbell } = require('@shmlink/native/internal');
      const probe = fs.openSync('/dev/null', 'r'); // the lowest free number: the FIFO's next
      fs.closeSync(probe);
      const bell = new Doorbell(workerData.name, 0);
      bell.close();
      parentPort.postMessage(probe);
      parentPort.once('message', () => parentPort.close());
      `,
      { eval: true, workerData: { name } },
    );
    const fifoFd = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const file = path.join(os.tmpdir(), `${name}.txt`);
    fs.writeFileSync(file, 'mine');
    const fd = fs.openSync(file, 'r');
    try {
      expect(fd).toBe(fifoFd); // the number the Worker's FIFO had
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('exit');
      await exited;
      expect(fs.fstatSync(fd).ino).toBe(fs.statSync(file).ino);
      expect(fs.readFileSync(fd, 'utf8')).toBe('mine');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(file);
      removeDoorbells(name);
    }
  });

  test('bad names and keys are refused with a code', () => {
    expect(() => new Doorbell('a/b', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
    expect(() => new DoorbellRinger('', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
    expect(() => new Doorbell(uniqueName(), -1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Doorbell(uniqueName(), 1.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => removeDoorbells('../x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
  });
});

(linux || windows ? test.skip : test)('without a doorbell backend (neither Linux nor Windows): ERR_UNSUPPORTED_PLATFORM, after the names are checked', () => {
  expect(() => new Doorbell(uniqueName(), 0)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM' }));
  expect(() => new DoorbellRinger(uniqueName(), 0)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM' }));
  expect(() => new Doorbell('a/b', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
});
