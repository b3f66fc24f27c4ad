import { fork } from 'node:child_process';
import path from 'node:path';
import { Region } from '@shmlink/native';
import { Agent, FIXTURES, leftovers, notifyUntilWoken, removeNames, sleep, stopAgents, uniqueName } from './helpers';

const open: Region[] = [];

function create(size = 4096): Region {
  const region = Region.create(uniqueName(), size);
  open.push(region);
  return region;
}

afterEach(async () => {
  for (const r of open.splice(0)) r.close();
  await stopAgents();
  removeNames();
});

afterAll(() => {
  expect(leftovers()).toEqual([]);
});

describe('wait/notify on a region word across processes', () => {
  test("another process's waitAsync is woken by notify here ('ok')", async () => {
    const region = create();
    const peer = await Agent.process();
    await peer.callStatic('Region', 'open', [region.name], 'r');
    const outcome = peer.invoke('r', 'waitAsync', 64, 0, 30000);
    // notify() returns 1 only once the peer sleeps on the word: a cross-process futex wake.
    expect(await notifyUntilWoken(region, 64)).toBe(1);
    expect(await outcome).toBe('ok');
  });

  test("a blocking wait in a worker of another process is woken by notify here ('ok')", async () => {
    const region = create();
    const peer = await Agent.process();
    const outcome = peer.waitInWorker(region.name, 128, 0, 30000);
    expect(await notifyUntilWoken(region, 128)).toBe(1);
    expect(await outcome).toBe('ok');
  });

  test('store + notify in another process wakes a waitAsync here; the new value is visible', async () => {
    const region = create();
    const peer = await Agent.process();
    await peer.callStatic('Region', 'open', [region.name], 'r');
    const waiting = region.waitAsync(8, 0, 30000);
    // The peer cannot know when this process sleeps; it stores first, so a late wait sees 'not-equal'.
    await peer.invoke('r', 'store', 8, 5);
    await peer.invoke('r', 'notify', 8);
    expect(['ok', 'not-equal']).toContain(await waiting);
    expect(region.load(8)).toBe(5);
  });

  test('notify(offset, 1) wakes one waiter at a time, across processes', async () => {
    const region = create();
    const a = await Agent.process();
    const b = await Agent.process();
    await a.callStatic('Region', 'open', [region.name], 'r');
    await b.callStatic('Region', 'open', [region.name], 'r');
    const waitA = a.invoke('r', 'waitAsync', 0, 0, 30000);
    const waitB = b.invoke('r', 'waitAsync', 0, 0, 30000);
    // One wake at a time: each notify(…, 1) wakes one sleeper, never both.
    expect(await notifyUntilWoken(region, 0, 1)).toBe(1);
    expect(await notifyUntilWoken(region, 0, 1)).toBe(1);
    expect(await Promise.all([waitA, waitB])).toEqual(['ok', 'ok']);
    expect(region.notify(0)).toBe(0);
  });

  test("'not-equal' when the word differs, 'timed-out' after the timeout", async () => {
    const region = create();
    region.store(4, 3);
    const peer = await Agent.process();
    await peer.callStatic('Region', 'open', [region.name], 'r');
    expect(await peer.invoke('r', 'waitAsync', 4, 0, 30000)).toBe('not-equal');
    expect(await peer.invoke('r', 'waitAsync', 4, 3, 20)).toBe('timed-out');
    expect(await peer.waitInWorker(region.name, 4, 0, 30000)).toBe('not-equal');
    expect(await peer.waitInWorker(region.name, 4, 3, 20)).toBe('timed-out');
    expect(await region.waitAsync(4, 3, 0)).toBe('timed-out');
    expect(await region.waitAsync(4, 3, 10, 100)).toBe('timed-out'); // with a spin first
  });

  test("a spinning waitAsync ends when another process stores", async () => {
    const region = create();
    const peer = await Agent.process();
    await peer.callStatic('Region', 'open', [region.name], 'r');
    const waiting = region.waitAsync(0, 0, 30000, 1_000_000);
    await peer.invoke('r', 'store', 0, 1);
    // Within the spin the change is seen by polling ('not-equal'); should the store come only
    // after the spin, the notifier wakes the sleeper instead of letting the test hang.
    const notifier = setInterval(() => region.notify(0), 50);
    try {
      expect(['ok', 'not-equal']).toContain(await waiting);
    } finally {
      clearInterval(notifier);
    }
  });
});

describe('waitAsync in this process', () => {
  // Windows keeps one wait slot per waited-on word in the region's metadata page (decisions §26);
  // POSIX has no such limit.
  (process.platform === 'win32' ? test : test.skip)('Windows: more distinct waited-on words than wait slots: ERR_NO_SPACE, the rest keep working', async () => {
    const region = create();
    // A wait that finds the word changed still takes its word's slot.
    for (let i = 0; i < 252; i++) expect(await region.waitAsync(i * 4, 1, 0)).toBe('not-equal');
    await expect(region.waitAsync(252 * 4, 1, 0)).rejects.toMatchObject({ code: 'ERR_NO_SPACE' });
    expect(region.notify(252 * 4)).toBe(0);
    const waiting = region.waitAsync(100 * 4, 0, 30000);
    expect(await notifyUntilWoken(region, 100 * 4)).toBe(1);
    expect(await waiting).toBe('ok');
  });

  test('a notify racing a timeout leaves no wake behind: the next wait on the word still times out', async () => {
    // On Windows a wake is a semaphore token for a counted sleeper (decisions, "Windows: wait and
    // wake across processes"); a sleeper that times out while being woken must take its token, or
    // a later sleeper would wake for nothing. The notify lands before, during or after the timeout.
    const region = create();
    for (let round = 0; round < 300; round++) {
      const racing = region.waitAsync(0, 0, 1);
      if (round % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
      if (round % 3 === 2) await sleep(1);
      region.notify(0);
      const outcome = await racing;
      expect({ round, outcome }).toEqual({ round, outcome: expect.stringMatching(/^(ok|timed-out)$/) });
      expect({ round, next: await region.waitAsync(0, 0, 2) }).toEqual({ round, next: 'timed-out' });
    }
  });

  test('leaves the event loop running while it waits', async () => {
    const region = create();
    let ticks = 0;
    const outcome = region.waitAsync(0, 0, 30000);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (++ticks === 3) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    expect(ticks).toBe(3); // three timer callbacks ran while the wait was pending
    expect(region.notify(0)).toBe(1);
    expect(await outcome).toBe('ok');
  });

  test('a pending waitAsync alone keeps a process alive until it settles', async () => {
    const region = create();
    const child = fork(path.join(FIXTURES, 'wait-alone.js'), [region.name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise((resolve) => child.once('message', resolve));
      await sleep(300);
      expect(child.exitCode).toBeNull(); // nothing but the wait holds it
      expect(await notifyUntilWoken(region, 0)).toBe(1);
      expect(await exited).toBe(0);
      expect(region.load(4)).toBe(1); // its outcome: 'ok'
    } finally {
      child.kill();
    }
  });

  test("close() while waitAsync is pending rejects ERR_CLOSED; another handle's wait is not rejected", async () => {
    const region = create();
    const other = Region.open(region.name);
    open.push(other);
    const pending = region.waitAsync(0, 0);
    const elsewhere = other.waitAsync(0, 0, 200);
    await sleep(20); // most likely asleep by now; the next test covers the other case
    region.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    // close() wakes the word to cancel its own waits: others may see a spurious 'ok'.
    expect(['ok', 'timed-out']).toContain(await elsewhere);
    expect(other.load(0)).toBe(0);
  });

  test('close() right after waitAsync, before the wait has started, rejects ERR_CLOSED', async () => {
    // Each round's wait is the first on its word (on Windows it opens the word's semaphore before
    // it sleeps), so close() lands while the wait is still getting there.
    for (let i = 0; i < 200; i++) {
      const region = Region.create(uniqueName(), 64);
      const pending = region.waitAsync(0, 0);
      region.close();
      await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      // On Windows the region went with its last handle; on POSIX its name is still there.
      Region.unlinkIfExists(region.name);
    }
  });

  test('many concurrent waits settle, each with its own outcome', async () => {
    const region = create();
    const waits = Array.from({ length: 32 }, (_, i) => region.waitAsync(i * 4, 0, i % 2 === 0 ? 30000 : 5));
    for (let i = 0; i < 32; i += 2) {
      region.store(i * 4, 1);
      region.notify(i * 4);
    }
    const outcomes = await Promise.all(waits);
    outcomes.forEach((o, i) => expect(i % 2 === 0 ? ['ok', 'not-equal'] : ['timed-out']).toContain(o));
  });
});
