import { NamedMutex } from '@shmlink/native';
import { Agent, leftovers, removeNames, sleep, stopAgents, thrown, uniqueName } from './helpers';

const open: NamedMutex[] = [];

function mutex(name: string): NamedMutex {
  const m = NamedMutex.createOrOpen(name);
  open.push(m);
  return m;
}

afterEach(async () => {
  for (const m of open.splice(0)) m.close();
  await stopAgents();
  removeNames();
});

afterAll(() => {
  expect(leftovers()).toEqual([]);
});

describe('NamedMutex across processes', () => {
  test('a process SIGKILLed while holding it: the next lock succeeds, reports abandoned, and the mutex stays usable', async () => {
    const name = uniqueName();
    const m = mutex(name);
    const owner = await Agent.process();
    await owner.callStatic('NamedMutex', 'createOrOpen', [name], 'm');
    expect(await owner.invoke('m', 'lockAsync', 10000)).toEqual({ abandoned: false });
    expect(m.tryLock()).toBeNull();

    // A waiter is already queued when the owner dies: nobody will ever unlock, the waiter must
    // notice the death by itself.
    const next = m.lockAsync(30000);
    await sleep(20);
    await owner.stop(); // SIGKILL
    expect((await owner.exited).signal).toBe('SIGKILL');
    expect(await next).toEqual({ abandoned: true });
    expect(m.isLocked).toBe(true);
    m.unlock();

    // Usable afterwards, and no longer reported as abandoned.
    expect(m.tryLock()).toEqual({ abandoned: false });
    m.unlock();
    const other = await Agent.process();
    await other.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await other.invoke('m', 'lockAsync', 10000)).toEqual({ abandoned: false });
    expect(m.tryLock()).toBeNull();
    await other.invoke('m', 'unlock');
    expect(await m.lockAsync(10000)).toEqual({ abandoned: false });
    m.unlock();
  });

  test('a SIGKILLed owner is noticed by a later tryLock and by a blocking lock() in a worker', async () => {
    const name = uniqueName();
    const m = mutex(name);
    const owner = await Agent.process();
    await owner.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await owner.invoke('m', 'tryLock')).toEqual({ abandoned: false });
    await owner.stop();
    expect(m.tryLock()).toEqual({ abandoned: true });
    m.unlock();

    const owner2 = await Agent.process();
    await owner2.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await owner2.invoke('m', 'lockAsync', 10000)).toEqual({ abandoned: false });
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    const locked = worker.invoke('m', 'lock', 30000);
    await sleep(20);
    await owner2.stop();
    expect(await locked).toEqual({ abandoned: true });
    await worker.invoke('m', 'unlock');
  });

  test('unlock in one process hands the lock to a waiter in another', async () => {
    const name = uniqueName();
    const m = mutex(name);
    expect(m.tryLock()).toEqual({ abandoned: false });
    const peer = await Agent.process();
    await peer.callStatic('NamedMutex', 'open', [name], 'm');
    let acquired = false;
    const waiting = peer.invoke('m', 'lockAsync', 30000).then((r) => {
      acquired = true;
      return r;
    });
    await sleep(30);
    expect(acquired).toBe(false);
    m.unlock();
    expect(await waiting).toEqual({ abandoned: false });
    expect(m.tryLock()).toBeNull();
    await peer.invoke('m', 'unlock');
    expect(m.tryLock()).toEqual({ abandoned: false });
    m.unlock();
  });

  test('lock timeout: ERR_TIMEOUT (async here, blocking in a worker); tryLock returns null', async () => {
    const name = uniqueName();
    mutex(name);
    const peer = await Agent.process();
    await peer.callStatic('NamedMutex', 'open', [name], 'm');
    await peer.invoke('m', 'lockAsync', 10000);
    const m = mutex(name);
    await expect(m.lockAsync(30)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await expect(m.lockAsync(0)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(m.tryLock()).toBeNull();
    expect(m.isLocked).toBe(false);
    // A timeout of millennia is a long wait, not an overflow into the past.
    const long = m.lockAsync(1e17);
    await sleep(20);
    await peer.invoke('m', 'unlock');
    expect(await long).toEqual({ abandoned: false });
    m.unlock();
    await peer.invoke('m', 'lockAsync', 10000);
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    await expect(worker.invoke('m', 'lock', 30)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  test('a process that exits normally while holding it releases it as abandoned at once', async () => {
    const name = uniqueName();
    const m = mutex(name);
    const peer = await Agent.process();
    await peer.callStatic('NamedMutex', 'open', [name], 'm');
    await peer.invoke('m', 'lockAsync', 10000);
    peer.exit(0);
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(m.tryLock()).toEqual({ abandoned: true });
    m.unlock();
  });
});

describe('NamedMutex in one process', () => {
  // On Windows a mutex belongs to the thread whose wait took it, while lockAsync waits off the JS
  // thread and unlock() runs in whatever callback comes later: each handle's waits and releases
  // run on a thread of its own (decisions §32). Two handles hand the lock back and forth.
  test('lockAsync, then unlock() from a later callback: 200 rounds between two handles, each excluded while the other holds', async () => {
    const name = uniqueName();
    const a = mutex(name);
    const b = mutex(name);
    for (let round = 0; round < 200; round++) {
      const [holder, other] = round % 2 === 0 ? [a, b] : [b, a];
      expect(await holder.lockAsync(10000)).toEqual({ abandoned: false });
      await new Promise((resolve) => setImmediate(resolve));
      expect(other.tryLock()).toBeNull();
      const waiting = other.lockAsync(10000);
      holder.unlock();
      expect(holder.isLocked).toBe(false);
      expect(await waiting).toEqual({ abandoned: false });
      expect(holder.tryLock()).toBeNull();
      other.unlock();
    }
    // A peer process sees it free, and the handles see the peer's lock.
    const peer = await Agent.process();
    await peer.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await peer.invoke('m', 'lockAsync', 10000)).toEqual({ abandoned: false });
    expect(a.tryLock()).toBeNull();
    await peer.invoke('m', 'unlock');
    expect(a.tryLock()).toEqual({ abandoned: false });
    a.unlock();
  });

  test("a handle's tryLock is answered while its own lockAsync waits (100 rounds)", async () => {
    const name = uniqueName();
    const a = mutex(name);
    const b = mutex(name);
    for (let round = 0; round < 100; round++) {
      a.tryLock();
      const waiting = b.lockAsync(10000);
      if (round % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
      expect(b.tryLock()).toBeNull();
      a.unlock();
      expect(await waiting).toEqual({ abandoned: false });
      expect(b.isLocked).toBe(true);
      b.unlock();
    }
  });

  test('a blocking lock() in a worker thread excludes the main thread until the worker unlocks', async () => {
    const name = uniqueName();
    const m = mutex(name);
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await worker.invoke('m', 'lock', 10000)).toEqual({ abandoned: false });
    expect(await worker.get('m', 'isLocked')).toBe(true);
    expect(m.tryLock()).toBeNull();
    const waiting = m.lockAsync(30000);
    await sleep(20);
    await worker.invoke('m', 'unlock');
    expect(await waiting).toEqual({ abandoned: false });
    await expect(worker.invoke('m', 'lock', 20)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    m.unlock();
    expect(await worker.invoke('m', 'lock', 10000)).toEqual({ abandoned: false });
    await worker.invoke('m', 'unlock');
  });

  test('close() while lockAsync is pending rejects ERR_CLOSED and leaves the mutex untaken', async () => {
    const name = uniqueName();
    const a = mutex(name);
    const b = mutex(name);
    a.tryLock();
    const pending = b.lockAsync(30000);
    await sleep(20);
    b.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    a.unlock();
    // The closed handle did not take it on its way out (that would be an abandoned lock).
    const c = mutex(name);
    expect(c.tryLock()).toEqual({ abandoned: false });
    c.unlock();
  });

  test('a worker terminated while its lockAsync is pending: no crash, and the mutex is not taken', async () => {
    const name = uniqueName();
    const m = mutex(name);
    m.tryLock();
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    worker.invoke('m', 'lockAsync', 30000).catch(() => {});
    await sleep(20);
    await worker.stop();
    m.unlock();
    const other = mutex(name);
    expect(other.tryLock()).toEqual({ abandoned: false });
    other.unlock();
  });

  test('the owner is the handle: a second handle of the same process is excluded', async () => {
    const name = uniqueName();
    const a = mutex(name);
    const b = mutex(name);
    expect(a.tryLock()).toEqual({ abandoned: false });
    expect(a.isLocked).toBe(true);
    expect(b.tryLock()).toBeNull();
    const waiting = b.lockAsync(30000);
    a.unlock();
    expect(await waiting).toEqual({ abandoned: false });
    expect(b.isLocked).toBe(true);
    b.unlock();
  });

  test('close() while holding releases the lock as abandoned', async () => {
    const name = uniqueName();
    const a = mutex(name);
    const b = mutex(name);
    await a.lockAsync(1000);
    const waiting = b.lockAsync(30000);
    a.close();
    expect(await waiting).toEqual({ abandoned: true });
    b.unlock();
  });

  test('unlock when not held: ERR_INVALID_STATE; locking a held handle again: ERR_INVALID_STATE', async () => {
    const m = mutex(uniqueName());
    expect(thrown(() => m.unlock()).code).toBe('ERR_INVALID_STATE');
    m.tryLock();
    expect(thrown(() => m.tryLock()).code).toBe('ERR_INVALID_STATE');
    await expect(m.lockAsync(0)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    m.unlock();
    expect(thrown(() => m.unlock()).code).toBe('ERR_INVALID_STATE');
    // Another handle cannot unlock what it does not hold.
    m.tryLock();
    const other = mutex(m.name);
    expect(thrown(() => other.unlock()).code).toBe('ERR_INVALID_STATE');
    m.unlock();
  });

  // A POSIX object keeps its name until unlinked; a Windows kernel object has no name apart from its
  // handles and goes with the last one, so unlink() has nothing to do there (decisions §32).
  test('lifetime of the name: until unlink() on Linux, until the last handle on Windows', async () => {
    const name = uniqueName();
    const m = NamedMutex.createOrOpen(name);
    if (process.platform === 'win32') {
      expect(NamedMutex.unlink(name)).toBe(false);
      const again = NamedMutex.open(name);
      m.close();
      again.close();
    } else {
      m.close();
      const again = NamedMutex.open(name);
      again.close();
      expect(NamedMutex.unlink(name)).toBe(true);
      expect(NamedMutex.unlink(name)).toBe(false);
    }
    expect(thrown(() => NamedMutex.open(name)).code).toBe('ERR_SHM_NOT_FOUND');
    expect(thrown(() => NamedMutex.unlink('../x')).code).toBe('ERR_INVALID_NAME');
  });

  test('use after close: ERR_CLOSED', async () => {
    const m = NamedMutex.createOrOpen(uniqueName());
    m.close();
    m.close();
    expect(m.closed).toBe(true);
    expect(thrown(() => m.tryLock()).code).toBe('ERR_CLOSED');
    await expect(m.lockAsync(10)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  test('bad timeouts: ERR_INVALID_ARGUMENT', async () => {
    const m = mutex(uniqueName());
    await expect(m.lockAsync(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(m.lockAsync(NaN)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(m.isLocked).toBe(false);
  });
});
