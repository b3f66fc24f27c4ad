// The life of a channel: disposal with writes pending, use after dispose, write timeouts, sizes
// beyond maxMessageSize, bad arguments, and what disposal leaves in /dev/shm.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region, ShmError } from '@shmlink/native';
import { makeMessage } from './fixtures/messages';
import { FIXTURES, Peer, Racer, cleanup, filesOf, leftovers, open, record, rejection, sleep, uniqueName, waitFor, writeStream, type RaceOutcome } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

type Outcome = { ok: true } | { ok: false; code: string };

function settle(promises: Promise<void>[]): Promise<Outcome[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (): Outcome => ({ ok: true }),
        (err: ShmError): Outcome => ({ ok: false, code: err.code }),
      ),
    ),
  );
}

/** How many outcomes succeed, checking that they form a prefix (writes commit in call order). */
function committedPrefix(outcomes: Outcome[]): number {
  const n = outcomes.findIndex((o) => !o.ok);
  const committed = n < 0 ? outcomes.length : n;
  expect(outcomes.slice(committed).every((o) => !o.ok)).toBe(true);
  return committed;
}

describe('dispose()', () => {
  test('with writes pending: committed writes resolve, the rest reject ERR_CLOSED, a late reader gets exactly the committed ones', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = open(name, capacity, { side: 'a' });
    // 1000-byte messages are fragmented in a 1792-byte ring: the write cut by dispose() is half-written.
    const writes = Array.from({ length: 30 }, (_, seq) => me.comm.write(makeMessage(7, seq, 1000)));
    await sleep(20);
    // On Linux unread data keeps the name alive for a late reader. A Windows region goes with its
    // last handle (decisions §27; { path } is the way to outlive every process): there the late
    // reader can only come while someone holds it, which this handle does.
    const holder = process.platform === 'win32' ? Region.open(name) : undefined;
    me.comm.dispose();
    const outcomes = await settle(writes);
    const committed = committedPrefix(outcomes);
    expect(committed).toBeGreaterThanOrEqual(1);
    expect(committed).toBeLessThan(writes.length);
    for (const o of outcomes.slice(committed)) expect(o).toEqual({ ok: false, code: 'ERR_CLOSED' });

    expect(filesOf(name)).toContain(name);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 7, size: 1000 }, start: true });
    holder?.close();
    await peer.call('received', { count: committed });
    await sleep(300);
    let stats = await peer.stats();
    expect(stats.received).toBe(committed);
    expect(stats.firstProblem).toBeNull();

    // A new writer on side 'a': the half-written message of the old one is never delivered.
    const again = open(name, capacity, { side: 'a' });
    await writeStream(again.comm, { seed: 7, from: committed, count: 5, size: 1000 });
    await peer.call('received', { count: committed + 5 });
    stats = await peer.stats();
    expect(stats.received).toBe(committed + 5);
    expect(stats.firstProblem).toBeNull();
    expect(stats.errors).toBe(0);
  });

  test('use after dispose: write rejects ERR_CLOSED, startReader and writeSync throw ERR_CLOSED, dispose is idempotent', async () => {
    const name = uniqueName();
    const me = open(name, 4096, { side: 'a' });
    let closes = 0;
    me.comm.on('close', () => closes++);
    me.comm.startReader();
    await me.comm.write('before');
    me.comm.dispose();
    expect(me.comm.disposed).toBe(true);
    expect(me.comm.readerRunning).toBe(false);
    expect((await rejection(me.comm.write('after'))).code).toBe('ERR_CLOSED');
    expect((await rejection(me.comm.write(new Uint8Array(3)))).code).toBe('ERR_CLOSED');
    expect(() => me.comm.startReader()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => me.comm.writeSync('after')).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => {
      me.comm.readPosition = 0;
    }).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    me.comm.dispose();
    me.comm[Symbol.dispose]();
    await me.comm.disposeAsync();
    expect(closes).toBe(1);
  });

  test('Symbol.dispose and Symbol.asyncDispose dispose (in a plain Node process)', async () => {
    const names = [uniqueName(), uniqueName()];
    const child = fork(path.join(FIXTURES, 'dispose-symbols.js'), names, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const report = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    expect(report).toEqual({ afterSync: true, afterAsync: true, writeOutcome: 'resolved' });
    await new Promise((resolve) => child.once('exit', resolve));
    // Nobody else was there: the last side to leave removed everything.
    expect(filesOf(names[0]!)).toEqual([]);
  });

  test('disposeAsync() waits for pending writes to be committed', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = open(name, capacity, { side: 'a' });
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 8, size: 700 }, start: true });
    const writes = Array.from({ length: 50 }, (_, seq) => me.comm.write(makeMessage(8, seq, 700)));
    await me.comm.disposeAsync();
    expect((await settle(writes)).every((o) => o.ok)).toBe(true);
    await peer.call('received', { count: 50 });
    expect((await peer.stats()).firstProblem).toBeNull();
  });

  test.each([
    ['disposes', 'disconnected'],
    ['is killed', 'died'],
  ] as const)('when the peer %s, the survivor leaves nothing in /dev/shm as it disposes', async (how, event) => {
    const name = uniqueName();
    const me = open(name, 4096, { side: 'a' });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 4096, options: { side: 'b' }, echo: true, start: true });
    await me.comm.write('ping');
    await waitFor(() => me.data.length === 1, 'the echo');
    if (how === 'disposes') await peer.call('dispose');
    else await peer.kill('SIGKILL');
    await waitFor(() => me.peers.some((e) => e.type === event), `the peer's '${event}'`);
    me.comm.dispose();
    expect(filesOf(name)).toEqual([]);
  });
});

describe('write timeout', () => {
  test('with no reader, writes that cannot be committed in time reject ERR_TIMEOUT; nothing of them is delivered', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = open(name, capacity, { side: 'a', timeout: 200 });
    const started = performance.now();
    const writes = Array.from({ length: 20 }, (_, seq) => me.comm.write(makeMessage(9, seq, 300)));
    const outcomes = await settle(writes);
    const committed = committedPrefix(outcomes);
    // 304-byte frames in a 1792-byte ring: five fit.
    expect(committed).toBe(5);
    for (const o of outcomes.slice(committed)) expect(o).toEqual({ ok: false, code: 'ERR_TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(150); // loose: it did wait

    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 9, size: 300 }, start: true });
    await peer.call('received', { count: committed });
    // The channel still works, and continues the stream where the committed writes ended.
    await writeStream(me.comm, { seed: 9, from: committed, count: 10, size: 300 });
    await peer.call('received', { count: committed + 10 });
    await sleep(100);
    const stats = await peer.stats();
    expect(stats.received).toBe(committed + 10);
    expect(stats.firstProblem).toBeNull();
  });

  test('a message larger than the ring with no reader rejects ERR_TIMEOUT; its fragments are never delivered', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const me = open(name, capacity, { side: 'a', timeout: 200 });
    const ring = ringDescriptor.ringSizeFor(me.comm.readPosition - me.comm.writePosition);
    const big = me.comm.write(makeMessage(10, 0, 3 * ring));
    expect((await rejection(big)).code).toBe('ERR_TIMEOUT');

    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 10, size: 100 }, start: true });
    // The peer's stream restarts at seq 0 with 100-byte messages: a leftover fragment would fail the check.
    await writeStream(me.comm, { seed: 10, count: 30, size: 100 });
    await peer.call('received', { count: 30 });
    await sleep(100);
    const stats = await peer.stats();
    expect(stats.received).toBe(30);
    expect(stats.firstProblem).toBeNull();
  });
});

describe('message size limits', () => {
  test('a write beyond maxMessageSize rejects ERR_MESSAGE_TOO_LARGE; the limit itself is fine', async () => {
    const name = uniqueName();
    const me = open(name, 4096, { side: 'a', maxMessageSize: 5000 });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 4096, options: { side: 'b' }, echo: true, start: true });
    expect((await rejection(me.comm.write(Buffer.alloc(5001)))).code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect((await rejection(me.comm.write('é'.repeat(2501)))).code).toBe('ERR_MESSAGE_TOO_LARGE'); // 5002 bytes
    expect(() => me.comm.writeSync(Buffer.alloc(5001))).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }));
    await me.comm.write(Buffer.alloc(5000, 1));
    await waitFor(() => me.data.length === 1, 'the echo');
    expect(me.data[0]!.equals(Buffer.alloc(5000, 1))).toBe(true);
    expect((await peer.stats()).echoFailures).toEqual([]);
  });

  test('an incoming message beyond the reader’s maxMessageSize is skipped with an ERR_MESSAGE_TOO_LARGE error event', async () => {
    const name = uniqueName();
    const me = open(name, 4096, { side: 'a' });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 4096, options: { side: 'b', maxMessageSize: 3000 }, echo: true, start: true });
    await me.comm.write('first');
    await me.comm.write(Buffer.alloc(3001, 2));
    await me.comm.write(Buffer.alloc(3000, 3));
    await me.comm.write('last');
    await waitFor(() => me.data.length === 3, 'the echoes');
    expect(me.data.map((d) => d.length)).toEqual([5, 3000, 4]);
    expect(me.data[1]!.equals(Buffer.alloc(3000, 3))).toBe(true);
    expect(peer.events.filter((e) => e.event === 'error').map((e) => e.code)).toEqual(['ERR_MESSAGE_TOO_LARGE']);
  });
});

describe('what dispose() releases', () => {
  test('a region another process opened stays when its creator goes without starting; the two sides still meet there', async () => {
    const name = uniqueName();
    const creator = new Communicator(name, 4096);
    const peer = await Peer.start({ name, capacity: 0, options: { side: 'b' } }); // opens, does not start
    creator.dispose();
    expect(filesOf(name)).toEqual([name]);
    const again = open(name, 4096, { side: 'a' });
    again.comm.startReader();
    await peer.call('start');
    await peer.write({ seed: 3, count: 5, size: 100 });
    await waitFor(() => again.data.length === 5, 'the peer’s messages');
  });

  test('a creator going without starting at the instant another process joins: the joiner always ends up on the region its name leads to (300 rounds)', async () => {
    const { PRODUCER_PID_OFFSET, PRODUCER_STATE_OFFSET } = ringDescriptor;
    const capacity = 4096;
    const sideB = 2048; // side 'b' writes the upper half
    const racer = await Racer.start();
    const failures: string[] = [];
    for (let round = 0; round < 300; round++) {
      const name = uniqueName();
      const creator = new Communicator(name, capacity);
      const at = Date.now() + 15;
      const joined = racer.request<RaceOutcome>({ op: 'join', name, capacity, side: 'b', at });
      while (performance.timeOrigin + performance.now() < at) {
        // spin: dispose at the instant the other process opens
      }
      creator.dispose();
      const outcome = await joined;
      let found = 'no region under the name';
      try {
        const region = Region.open(name);
        if (region.load(sideB + PRODUCER_STATE_OFFSET) === 1 && region.load(sideB + PRODUCER_PID_OFFSET) === racer.child.pid) found = 'ok';
        else found = 'a region without the joiner';
        region.close();
      } catch (err) {
        found = (err as ShmError).code;
      }
      if (!outcome.won || found !== 'ok') failures.push(`round ${round}: ${JSON.stringify(outcome)}, ${found}`);
      await racer.request({ op: 'release' });
    }
    expect(failures).toEqual([]);
  });

  test('1,000 communicators created and disposed without starting, in one synchronous loop under ulimit -n 128: no name left, no descriptor or mapping kept', async () => {
    const prefix = `${uniqueName()}-`;
    const loop = path.join(FIXTURES, 'dispose-loop.js');
    // Windows has no ulimit: there the fixture counts the process's handles itself
    // (fixtures/dispose-loop.js), and a kept mapping would keep its name listed.
    const child =
      process.platform === 'win32'
        ? fork(loop, [prefix, '1000'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : spawn('sh', ['-c', `ulimit -n 128 && exec "${process.execPath}" "${loop}" ${prefix} 1000`], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
    let report: { before: { fds: number; mappings: number }; after: { fds: number; mappings: number }; done: number; error: string | null } | undefined;
    child.on('message', (m: typeof report) => (report = m));
    const [code] = (await once(child, 'exit')) as [number | null];
    const left = process.platform === 'win32' ? Region.list(prefix) : fs.readdirSync('/dev/shm').filter((f) => f.startsWith(prefix));
    if (process.platform !== 'win32') for (const f of left) fs.rmSync(path.join('/dev/shm', f), { force: true });
    expect({ code, error: report?.error }).toEqual({ code: 0, error: null });
    expect(report!.done).toBe(1000);
    expect(left).toEqual([]);
    if (process.platform !== 'win32') expect(report!.after.fds).toBeLessThanOrEqual(report!.before.fds);
    expect(report!.after.mappings).toBe(0);
  });

  test('the mapping goes at dispose(), though the writer and the reader worked through views of it', async () => {
    const name = uniqueName();
    // Linux: /proc/self/maps. Windows has no such list, but a mapped view keeps its section — and
    // so its name — alive: once the peer is gone, the name is listed exactly while this process
    // still maps the region.
    const mapped = (): boolean =>
      process.platform === 'win32' ? Region.list(name).includes(name) : fs.readFileSync('/proc/self/maps', 'utf8').includes(`/dev/shm/${name}`);
    const me = record(new Communicator(name, 65536, { side: 'a', receive: 'view' }));
    const peer = await Peer.start({ name, capacity: 65536, options: { side: 'b' }, echo: true, start: true });
    me.comm.startReader();
    let lent: Buffer | undefined;
    me.comm.on('data', (d) => {
      lent = d;
    });
    await me.comm.write('there and back');
    await waitFor(() => lent !== undefined, 'the echo');
    if (process.platform === 'win32') await peer.kill();
    expect(mapped()).toBe(true);
    me.comm.dispose();
    expect(lent!.length).toBe(0); // a lent view kept past dispose() is empty, not stale
    expect(mapped()).toBe(false); // before dispose() returned, not on a later tick
    await peer.kill();
  });
});

describe('bad arguments', () => {
  const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });

  test('constructor and options', () => {
    const name = uniqueName();
    const bad: [unknown, unknown][] = [
      ['4096', undefined],
      [100, undefined], // smaller than two minimal halves
      [4096.5, undefined],
      [-1, undefined],
      [4096, { side: 'c' }],
      [4096, { spin: -1 }],
      [4096, { poll: 1.5 }],
      [4096, { pollBusy: -1 }],
      [4096, { pollBusy: '2000' }],
      [4096, { timeout: -5 }],
      [4096, { maxMessageSize: 0 }],
      [4096, { peerCheckInterval: 0 }],
      [4096, { bogus: true }],
      [4096, 'options'],
    ];
    for (const [capacity, options] of bad) {
      expect(() => new Communicator(name, capacity as number, options as object)).toThrow(invalid);
    }
    expect(filesOf(name)).toEqual([]);
    expect(() => new Communicator('../etc/passwd', 4096)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
    expect(() => new Communicator('', 4096)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_NAME' }));
    expect(() => Communicator.open(uniqueName())).toThrow(expect.objectContaining({ code: 'ERR_SHM_NOT_FOUND' }));
  });

  test('write data and positions', async () => {
    const name = uniqueName();
    const me = open(name, 4096);
    for (const data of [123, null, undefined, {}, [1, 2, 3], new ArrayBuffer(4)]) {
      expect((await rejection(me.comm.write(data as unknown as string))).code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(() => {
      me.comm.readPosition = 3; // not a multiple of 8
    }).toThrow(invalid);
    expect(() => {
      me.comm.readPosition = 4096; // no room for a half
    }).toThrow(invalid);
    expect(() => {
      me.comm.writePosition = -8;
    }).toThrow(invalid);
    me.comm.readPosition = 1024;
    me.comm.writePosition = 1024;
    expect(() => me.comm.startReader()).toThrow(invalid);
    me.comm.writePosition = 16; // bytes 20-23 of the region are the joined word
    expect(() => me.comm.startReader()).toThrow(invalid);
    me.comm.writePosition = 0;
    me.comm.startReader();
    expect(() => {
      me.comm.readPosition = 2048; // the channel has started
    }).toThrow(ShmError);
    expect(() => me.comm.receiveSync()).toThrow(expect.objectContaining({ code: 'ERR_NOT_MAIN_THREAD_SAFE' }));
  });

  test('a region of another capacity or layout is refused with ERR_LAYOUT_MISMATCH', () => {
    const name = uniqueName();
    const me = open(name, 4096);
    me.comm.readPosition = 2000;
    me.comm.writePosition = 0;
    me.comm.startReader();
    const other = record(Communicator.open(name));
    other.comm.readPosition = 0;
    other.comm.writePosition = 2048; // the other side believes in 2048
    expect(() => other.comm.startReader()).toThrow(expect.objectContaining({ code: 'ERR_LAYOUT_MISMATCH' }));
    const region = Region.open(name);
    expect(region.size).toBe(4096);
    region.close();
    expect(() => record(new Communicator(name, 8192)).comm.startReader()).toThrow(ShmError);
  });

  test('a refused attach leaves the channel intact for the right peer', async () => {
    const name = uniqueName();
    const me = open(name, 4096);
    me.comm.readPosition = 2000;
    me.comm.writePosition = 0;
    me.comm.startReader();
    const wrong = record(Communicator.open(name));
    wrong.comm.readPosition = 0;
    wrong.comm.writePosition = 2048;
    expect(() => wrong.comm.startReader()).toThrow(expect.objectContaining({ code: 'ERR_LAYOUT_MISMATCH' }));
    wrong.comm.dispose();
    await sleep(400); // longer than the reader's peer check: it looks at the ring meanwhile
    expect(me.errors).toEqual([]);
    await Peer.start({ name, capacity: 4096, readPosition: 0, writePosition: 2000, echo: true, start: true });
    await me.comm.write('still fine');
    await waitFor(() => me.data.length === 1, 'the echo');
    expect(me.data[0]!.toString()).toBe('still fine');
    expect(me.errors).toEqual([]);
  });
});
