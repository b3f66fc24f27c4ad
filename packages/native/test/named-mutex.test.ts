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
