import { NamedEvent } from '@shmlink/native';
import { Agent, leftovers, removeNames, sleep, stopAgents, thrown, uniqueName } from './helpers';

const open: NamedEvent[] = [];

function event(name: string, options?: { manualReset?: boolean; initialState?: boolean }): NamedEvent {
  const ev = NamedEvent.createOrOpen(name, options);
  open.push(ev);
  return ev;
}

afterEach(async () => {
  for (const ev of open.splice(0)) ev.close();
  await stopAgents();
  removeNames();
});

afterAll(() => {
  expect(leftovers()).toEqual([]);
});

/** Resolves after `n` ticks of a 5 ms interval timer. */
function ticks(n: number): Promise<number> {
  let count = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (++count === n) {
        clearInterval(timer);
        resolve(count);
      }
    }, 5);
  });
}

describe('NamedEvent across processes', () => {
  test('set() in one process wakes a waitAsync in another', async () => {
    const name = uniqueName();
    const ev = event(name);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    const woken = peer.invoke('e', 'waitAsync', 30000);
    await sleep(20); // the peer is most likely asleep by now; an auto-reset set() is kept otherwise
    ev.set();
    expect(await woken).toBe(true);
    expect(ev.isSet).toBe(false); // auto reset: the waiter consumed the signal
  });

  test('set() in another process wakes a blocking wait() in a worker thread of this process', async () => {
    const name = uniqueName();
    event(name);
    const worker = await Agent.worker();
    await worker.callStatic('NamedEvent', 'open', [name], 'e');
    const woken = worker.invoke('e', 'wait', 30000);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    await peer.invoke('e', 'set');
    expect(await woken).toBe(true);
  });

  test('waitAsync leaves the event loop running: a timer keeps firing while it waits', async () => {
    const name = uniqueName();
    const ev = event(name);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    let settled = false;
    const woken = ev.waitAsync(30000).finally(() => {
      settled = true;
    });
    expect(await ticks(3)).toBe(3);
    expect(settled).toBe(false); // three timer callbacks ran while the wait was pending
    await peer.invoke('e', 'set');
    expect(await woken).toBe(true);
  });

  test('timeouts return false, in this process and in another', async () => {
    const name = uniqueName();
    const ev = event(name);
    expect(await ev.waitAsync(0)).toBe(false);
    expect(await ev.waitAsync(20)).toBe(false);
    // A timeout of millennia is a long wait, not an overflow into the past.
    const long = ev.waitAsync(1e17);
    await sleep(20);
    ev.set();
    expect(await long).toBe(true);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    expect(await peer.invoke('e', 'waitAsync', 20)).toBe(false);
    const worker = await Agent.worker();
    await worker.callStatic('NamedEvent', 'open', [name], 'e');
    expect(await worker.invoke('e', 'wait', 20)).toBe(false);
  });

  test('manual reset: one set() releases waiters in two processes, and stays set until reset()', async () => {
    const name = uniqueName();
    const ev = event(name, { manualReset: true });
    expect(ev.manualReset).toBe(true);
    const a = await Agent.process();
    const b = await Agent.process();
    await a.callStatic('NamedEvent', 'open', [name], 'e');
    await b.callStatic('NamedEvent', 'open', [name], 'e');
    expect(await a.get('e', 'manualReset')).toBe(true);
    const woken = [a.invoke('e', 'waitAsync', 30000), b.invoke('e', 'waitAsync', 30000)];
    await sleep(20);
    ev.set();
    expect(await Promise.all(woken)).toEqual([true, true]);
    // Still set: every later wait returns at once.
    expect(ev.isSet).toBe(true);
    expect(await ev.waitAsync(0)).toBe(true);
    expect(await a.invoke('e', 'waitAsync', 0)).toBe(true);
    ev.reset();
    expect(ev.isSet).toBe(false);
    expect(await a.invoke('e', 'waitAsync', 10)).toBe(false);
  });

  test('auto reset: one set() releases exactly one waiter', async () => {
    const name = uniqueName();
    const ev = event(name);
    expect(ev.manualReset).toBe(false);
    const a = await Agent.process();
    const b = await Agent.process();
    await a.callStatic('NamedEvent', 'open', [name], 'e');
    await b.callStatic('NamedEvent', 'open', [name], 'e');
    const results: boolean[] = [];
    const waits = [a, b].map((p) => p.invoke('e', 'waitAsync', 30000).then((v) => results.push(v as boolean)));
    await sleep(20);
    ev.set();
    // One waiter returns; the other keeps waiting until a second set().
    while (results.length === 0) await sleep(5);
    await sleep(50);
    expect(results).toEqual([true]);
    expect(ev.isSet).toBe(false);
    ev.set();
    await Promise.all(waits);
    expect(results).toEqual([true, true]);
  });

  test('auto reset: a set() with nobody waiting is kept for the next waiter, once', async () => {
    const name = uniqueName();
    const ev = event(name);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    await peer.invoke('e', 'set');
    expect(ev.isSet).toBe(true);
    expect(await ev.waitAsync(0)).toBe(true);
    expect(await ev.waitAsync(0)).toBe(false);
    expect(await peer.invoke('e', 'waitAsync', 0)).toBe(false);
  });
});

describe('NamedEvent in one process', () => {
  test('initialState, and createOrOpen of an existing event keeps its kind', async () => {
    const name = uniqueName();
    const ev = event(name, { manualReset: true, initialState: true });
    expect(ev.isSet).toBe(true);
    const again = event(name, { manualReset: false, initialState: false });
    expect(again.manualReset).toBe(true);
    expect(again.isSet).toBe(true);
    const opened = NamedEvent.open(name);
    open.push(opened);
    expect(opened.manualReset).toBe(true);
  });

  test('close() while waitAsync is pending rejects ERR_CLOSED; later use fails ERR_CLOSED', async () => {
    const ev = event(uniqueName());
    const pending = ev.waitAsync(30000);
    await sleep(10);
    ev.close();
    ev.close(); // idempotent
    expect(ev.closed).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(ev.waitAsync(0)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(thrown(() => ev.set()).code).toBe('ERR_CLOSED');
    expect(thrown(() => ev.reset()).code).toBe('ERR_CLOSED');
  });

  test('bad arguments: ERR_INVALID_ARGUMENT', async () => {
    const ev = event(uniqueName());
    await expect(ev.waitAsync(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(ev.waitAsync('1' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(thrown(() => NamedEvent.createOrOpen(uniqueName(), { manual: true } as never)).code).toBe('ERR_INVALID_ARGUMENT');
  });

  // A POSIX object keeps its name until unlinked; a Windows kernel object has no name apart from its
  // handles and goes with the last one, so unlink() has nothing to do there (decisions §32).
  test('lifetime of the name: unlink() removes it on Linux (open handles keep working); on Windows it goes with the last handle', async () => {
    const name = uniqueName();
    const ev = event(name);
    if (process.platform === 'win32') {
      expect(NamedEvent.unlink(name)).toBe(false);
      const again = NamedEvent.open(name);
      again.set();
      again.close();
      expect(await ev.waitAsync(0)).toBe(true);
      ev.close();
    } else {
      expect(NamedEvent.unlink(name)).toBe(true);
      expect(NamedEvent.unlink(name)).toBe(false);
      ev.set();
      expect(await ev.waitAsync(0)).toBe(true);
    }
    expect(thrown(() => NamedEvent.open(name)).code).toBe('ERR_SHM_NOT_FOUND');
    expect(thrown(() => NamedEvent.unlink('../x')).code).toBe('ERR_INVALID_NAME');
  });

  test('several waitAsync calls on one handle: each auto-reset set() releases one of them', async () => {
    const name = uniqueName();
    const ev = event(name);
    const results: boolean[] = [];
    const waits = [0, 1, 2].map(() => ev.waitAsync(30000).then((v) => results.push(v)));
    await sleep(20);
    const peer = await Agent.process();
    await peer.callStatic('NamedEvent', 'open', [name], 'e');
    for (let n = 1; n <= 3; n++) {
      await peer.invoke('e', 'set');
      while (results.length < n) await sleep(2);
      await sleep(20);
      expect(results.length).toBe(n);
    }
    await Promise.all(waits);
    expect(ev.isSet).toBe(false);
  });

  test('waitAsync then set() from another handle, 200 rounds: every set() wakes exactly one wait, none is lost', async () => {
    const name = uniqueName();
    const waiter = event(name);
    const setter = event(name);
    for (let round = 0; round < 200; round++) {
      const woken = waiter.waitAsync(10000);
      if (round % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
      setter.set();
      expect(await woken).toBe(true);
    }
    expect(waiter.isSet).toBe(false);
    expect(await waiter.waitAsync(0)).toBe(false);
  });

  test('close() while waitAsync is pending: a later set() is kept for a live waiter, not eaten by the closed one', async () => {
    const name = uniqueName();
    const ev = event(name);
    const doomed = NamedEvent.open(name);
    const pending = doomed.waitAsync(30000);
    await sleep(20);
    doomed.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    ev.set();
    expect(ev.isSet).toBe(true);
    expect(await ev.waitAsync(0)).toBe(true);
  });

  test('a worker terminated while its waitAsync is pending: no crash, and the next set() reaches a live waiter', async () => {
    const name = uniqueName();
    const ev = event(name);
    const worker = await Agent.worker();
    await worker.callStatic('NamedEvent', 'open', [name], 'e');
    worker.invoke('e', 'waitAsync', 30000).catch(() => {});
    await sleep(20);
    await worker.stop();
    const woken = ev.waitAsync(30000);
    await sleep(20);
    ev.set();
    expect(await woken).toBe(true);
  });
});
