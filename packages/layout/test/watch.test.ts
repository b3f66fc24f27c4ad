// Change notifications: OnPropertyUpdated of seed 002 (the C# article, docs/seeds.md), within a
// process and across processes.
import { fork } from 'node:child_process';
import path from 'node:path';
import { Controller, FIXTURES, cleanup, leftovers, open, sleep, uniqueName, until } from './helpers';

interface Seen {
  field: string;
  value: unknown;
  previous: unknown;
}

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

describe('watch() in one process', () => {
  it('reports each changed field with its new and previous value', async () => {
    const s = open(Controller.create(uniqueName()));
    s.paused = 1;
    const seen: Seen[] = [];
    const watcher = s.watch(({ field, value, previous }) => seen.push({ field, value, previous }));
    s.paused = 0;
    await until(() => seen.length === 1, 'paused');
    s.update({ muted: 1, timestamp: 2.5 });
    await until(() => seen.length === 3, 'muted and timestamp');
    expect(seen).toEqual([
      { field: 'paused', value: 0, previous: 1 },
      { field: 'timestamp', value: 2.5, previous: 0 },
      { field: 'muted', value: 1, previous: 0 },
    ]);
    watcher.close();
  });

  it('does not report a write of the value already there; changeCount still moves', async () => {
    const s = open(Controller.create(uniqueName()));
    const seen: string[] = [];
    s.watch((c) => seen.push(c.field));
    s.heartbeat = 0;
    expect(s.changeCount).toBe(1);
    s.heartbeat = 4;
    await until(() => seen.length > 0, 'heartbeat');
    await sleep(50);
    expect(seen).toEqual(['heartbeat']);
    expect(s.changeCount).toBe(2);
  });

  it('close() stops reporting and emits close; closing the handle closes its watchers', async () => {
    const s = Controller.create(uniqueName());
    const seen: string[] = [];
    const first = s.watch((c) => seen.push(c.field));
    const second = s.watch();
    const closed = new Promise<void>((resolve) => first.once('close', resolve));
    first.close();
    await closed;
    s.muted = 1;
    await sleep(50);
    expect(seen).toEqual([]);
    s.close();
    expect(second.closed).toBe(true);
  });

  it("a listener's exception becomes an 'error' event and ends the watch", async () => {
    const s = open(Controller.create(uniqueName()));
    const watcher = s.watch(() => {
      throw new Error('listener failed');
    });
    const error = new Promise<Error>((resolve) => watcher.once('error', resolve));
    s.paused = 1;
    expect((await error).message).toBe('listener failed');
    expect(watcher.closed).toBe(true);
  });
});

describe('watch() across processes', () => {
  it("reports properties another process sets, without blocking this process's event loop", async () => {
    const name = uniqueName();
    const s = open(Controller.create(name));
    const seen: Seen[] = [];
    s.watch(({ field, value, previous }) => seen.push({ field, value, previous }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const values = { heartbeat: 7, messageBuffer: `base64:${Buffer.from('hello world!').toString('base64')}`, dataLength: 12 };
      const child = fork(path.join(FIXTURES, 'set-fields.js'), [name, JSON.stringify(values)]);
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      await until(() => seen.length === 3, 'three fields');
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    // Writes that land before the watcher wakes coalesce into one snapshot, reported in field
    // order: the set of changes is certain, their order only within a wake-up.
    const byField = new Map(seen.map((c) => [c.field, c]));
    expect([...byField.keys()].sort()).toEqual(['dataLength', 'heartbeat', 'messageBuffer']);
    expect(byField.get('heartbeat')).toEqual({ field: 'heartbeat', value: 7, previous: 0 });
    expect((byField.get('messageBuffer')!.value as Buffer).subarray(0, 13)).toEqual(Buffer.from('hello world!\0'));
    expect(byField.get('dataLength')).toEqual({ field: 'dataLength', value: 12, previous: 0 });
  });

  it('reports to a watcher in another process, which exits on its own once it closes', async () => {
    const name = uniqueName();
    const s = open(Controller.create(name));
    const child = fork(path.join(FIXTURES, 'watch-once.js'), [name]);
    const messages: Record<string, unknown>[] = [];
    child.on('message', (m: Record<string, unknown>) => messages.push(m));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await until(() => messages.length === 1, 'the child to watch');
    s.controlFlags = 5;
    // No kill: the child exits only if its closed watcher left nothing pending.
    expect(await exited).toBe(0);
    expect(messages[1]).toEqual({ field: 'controlFlags', value: 5, previous: 0 });
  });
});

describe('Symbol.dispose', () => {
  it('closes a watcher and a struct handle (in a plain Node process), which then exits on its own', async () => {
    const name = uniqueName();
    const child = fork(path.join(FIXTURES, 'dispose-symbols.js'), [name]);
    const report = new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before reporting`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(await report).toEqual({ symbol: 'symbol', watcherClosed: true, structOpenAfterWatcher: true, structClosed: true });
    expect(await exited).toBe(0);
  });
});
