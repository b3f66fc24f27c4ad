import { fork } from 'node:child_process';
import path from 'node:path';
import { NamedMutex, Region } from '@shmlink/native';
import { Agent, FIXTURES, leftovers, notifyUntilWoken, removeNames, sleep, stopAgents, uniqueName } from './helpers';

const open: { close(): void }[] = [];

function track<T extends { close(): void }>(handle: T): T {
  open.push(handle);
  return handle;
}

afterEach(async () => {
  for (const h of open.splice(0)) h.close();
  await stopAgents();
  removeNames();
});

afterAll(() => {
  expect(leftovers()).toEqual([]);
});

describe('the API in a worker thread', () => {
  test('a worker creates, writes and reads a region the main thread also uses', async () => {
    const name = uniqueName();
    const worker = await Agent.worker();
    expect(await worker.callStatic('Region', 'create', [name, 4096], 'r')).toEqual({ $object: 'Region' });
    await worker.invoke('r', 'write', 0, Buffer.from('from the worker'));
    const region = track(Region.open(name));
    expect(region.read(0, 15).toString()).toBe('from the worker');
    region.store(8, 3);
    expect(await worker.invoke('r', 'add', 8, 1)).toBe(3);
    expect(region.load(8)).toBe(4);
  });

  test("a blocking wait() in a worker is woken by the main thread's notify", async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const worker = await Agent.worker();
    await worker.callStatic('Region', 'open', [region.name], 'r');
    const outcome = worker.invoke('r', 'wait', 32, 0, 30000);
    expect(await notifyUntilWoken(region, 32)).toBe(1);
    expect(await outcome).toBe('ok');
    expect(await worker.invoke('r', 'wait', 32, 1, 30000)).toBe('not-equal');
    expect(await worker.invoke('r', 'wait', 32, 0, 10)).toBe('timed-out');
  });

  test('waitAsync in a worker is woken by another process', async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const worker = await Agent.worker();
    await worker.callStatic('Region', 'open', [region.name], 'r');
    const outcome = worker.invoke('r', 'waitAsync', 16, 0, 30000);
    const peer = await Agent.process();
    await peer.callStatic('Region', 'open', [region.name], 'r');
    await sleep(10);
    await peer.invoke('r', 'store', 16, 1);
    await peer.invoke('r', 'notify', 16);
    expect(['ok', 'not-equal']).toContain(await outcome);
  });

  test('close() in a worker while its waitAsync is pending rejects ERR_CLOSED', async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const worker = await Agent.worker();
    await worker.callStatic('Region', 'open', [region.name], 'r');
    const pending = worker.invoke('r', 'waitAsync', 0, 0);
    await worker.invoke('r', 'close');
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(worker.invoke('r', 'load', 0)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  test('a worker that exits by itself with handles open and waits pending: no crash, nothing broken here', async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const worker = await Agent.worker();
    await worker.callStatic('Region', 'open', [region.name], 'r');
    void worker.invoke('r', 'waitAsync', 0, 0).catch(() => {});
    worker.exit(3);
    expect(await worker.exited).toEqual({ code: 3, signal: null });
    region.store(0, 1);
    expect(await region.waitAsync(0, 1, 5)).toBe('timed-out');
  });

  test('worker.terminate() while a waitAsync is pending: no crash, nothing broken here', async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const worker = await Agent.worker();
    await worker.callStatic('Region', 'open', [region.name], 'r');
    const pending = worker.invoke('r', 'waitAsync', 0, 0);
    await sleep(10);
    await worker.stop(); // terminate()
    await expect(pending).rejects.toThrow(/exited/);
    expect(region.notify(0)).toBe(0); // the worker's native wait is gone too
    const again = region.waitAsync(0, 0, 30000);
    expect(await notifyUntilWoken(region, 0)).toBe(1);
    expect(await again).toBe('ok');
  });

  test('a worker terminated while holding a NamedMutex: the next lock reports abandoned', async () => {
    const name = uniqueName();
    const m = track(NamedMutex.createOrOpen(name));
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    expect(await worker.invoke('m', 'tryLock')).toEqual({ abandoned: false });
    expect(m.tryLock()).toBeNull();
    const next = m.lockAsync(30000);
    await worker.stop();
    expect(await next).toEqual({ abandoned: true });
    m.unlock();
  });

  test('a worker exiting by itself while holding a NamedMutex releases it as abandoned', async () => {
    const name = uniqueName();
    const m = track(NamedMutex.createOrOpen(name));
    const worker = await Agent.worker();
    await worker.callStatic('NamedMutex', 'open', [name], 'm');
    await worker.invoke('m', 'lock', 1000);
    worker.exit(0);
    await worker.exited;
    expect(m.tryLock()).toEqual({ abandoned: true });
    m.unlock();
  });

  test('in a process of its own: workers terminated / exiting / closing with waits pending, then the process exits with waits pending', async () => {
    const region = track(Region.create(uniqueName(), 4096));
    const child = fork(path.join(FIXTURES, 'worker-teardown.js'), [region.name, '6'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    // A hang would be a bug too: kill the child rather than wait for jest's timeout.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30000);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    clearTimeout(killer);
    expect(exit).toEqual({ code: 0, signal: null });
    const report = JSON.parse(out);
    expect(report.results).toEqual([
      { how: 'terminate', code: 1 },
      { how: 'exit', code: 7 },
      { how: 'close', code: 1, report: ['ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED'] },
      { how: 'terminate', code: 1 },
      { how: 'exit', code: 7 },
      { how: 'close', code: 1, report: ['ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED'] },
    ]);
    expect(report.stillWorks).toBe('timed-out');
    expect(region.load(12)).toBe(99);
  });
});
