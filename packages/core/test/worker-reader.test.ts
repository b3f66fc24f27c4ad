// reader: 'worker' — the ring read by a worker thread that hands batches to the event loop. The
// same promises as the event reader, over real processes and real shared memory: order and
// integrity with fragments, backpressure (the ring fills, the writer waits), peer events,
// dispose() and a kill with batches in flight between the threads (nothing lost beyond the one
// message a listener holds), garbage in the ring (ERR_CORRUPT), codecs, and the option's checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Communicator, ringDescriptor, type Codec } from '@shmlink/core';
import { Region, type ShmError } from '@shmlink/native';
import { StreamChecker, checkMessage, makeMessage, seqOf } from './fixtures/messages';
import { Peer, cleanup, killReader, leftovers, logged, record, sleep, startLoggingReader, uniqueName, waitFor, writeStream } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-worker-reader-'));

afterEach(cleanup);
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(leftovers()).toEqual([]);
});

describe('order and integrity', () => {
  test('20,000 messages each way at once, sizes 0 B to four halves (fragments), both sides reading in worker threads', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const count = 20_000;
    const me = record(new Communicator(name, capacity, { side: 'a', reader: 'worker' }), false);
    const maxSize = 4 * (me.comm.readPosition - me.comm.writePosition);
    const incoming = new StreamChecker(2, { maxSize });
    me.comm.on('data', (d) => incoming.push(d));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b', reader: 'worker' }, verify: { seed: 1, maxSize }, start: true });

    const [, theirs] = await Promise.all([writeStream(me.comm, { seed: 1, count, maxSize }), peer.write({ seed: 2, count, maxSize })]);
    await peer.call('received', { count });
    await waitFor(() => incoming.next >= count, 'the peer messages', 120_000);
    await sleep(100);

    expect(theirs.failures).toEqual([]);
    expect(incoming.firstProblem).toBeNull();
    expect(incoming.next).toBe(count);
    const stats = await peer.stats();
    expect(stats.firstProblem).toBeNull();
    expect(stats.received).toBe(count);
    expect(stats.errors).toBe(0);
    expect(me.errors).toEqual([]);
  }, 300_000);
});

describe('backpressure', () => {
  test('a slow reader that stops itself from its listener: the writer waits, nothing is lost or repeated', async () => {
    const name = uniqueName();
    const capacity = 65536;
    const size = 16000;
    const count = 2000;
    const me = record(new Communicator(name, capacity, { side: 'a', reader: 'worker' }), false);
    const ring = ringDescriptor.ringSizeFor(capacity - me.comm.readPosition);
    const perRing = Math.floor(ring / ringDescriptor.align(ringDescriptor.FRAME_HEADER + size));
    const checker = new StreamChecker(14, { size });
    let longPause = false;
    me.comm.on('data', (d) => {
      checker.push(d);
      const until = performance.now() + 0.05;
      while (performance.now() < until); // a slow consumer
      if (checker.next % 250 === 0 && checker.next < count) {
        void me.comm.stopReader();
        if (checker.next === 1000) longPause = true;
        else setTimeout(() => me.comm.startReader(), 20);
      }
    });
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const writing = peer.write({ seed: 14, count, size, window: 1 });

    // While the reader is stopped the writer can only fill the ring, then it waits.
    await waitFor(() => longPause, 'the long pause', 30_000);
    await sleep(300);
    const before = (await peer.stats()).committed;
    await sleep(300);
    const after = (await peer.stats()).committed;
    expect(after).toBe(before);
    expect(after - checker.next).toBeLessThanOrEqual(perRing + 1);
    expect(me.comm.incomingBytes).toBeGreaterThan(0);
    me.comm.startReader();

    const result = await writing;
    await waitFor(() => checker.next >= count, 'every message', 60_000);
    await sleep(100);
    expect(result.failures).toEqual([]);
    expect(checker.next).toBe(count);
    expect(checker.firstProblem).toBeNull();
    expect(me.errors).toEqual([]);
  }, 90_000);

});

describe('peer events', () => {
  test("'connected' comes before the first message of a peer that only writes", async () => {
    const name = uniqueName();
    const capacity = 8192;
    const me = record(new Communicator(name, capacity, { side: 'a', reader: 'worker' }));
    const order: string[] = [];
    me.comm.on('peer', (e) => order.push(e.type));
    me.comm.on('data', () => order.push('data'));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    await peer.write({ seed: 1, count: 3, size: 10 });
    await waitFor(() => me.data.length === 3, 'the messages');
    expect(order).toEqual(['connected', 'data', 'data', 'data']);
  });
});

describe('batches in flight between the threads', () => {
  // Everything fits in the ring at once (20,000 frames of 72 bytes), so the thread parses batch
  // after batch ahead of the slow listener and posts them; dispose() and kills land among them.
  const capacity = 4 * 1024 * 1024;
  const count = 20_000;
  const size = 64;

  /** Writes `count` messages, all committed before anyone reads: the reader thread parses far ahead of the slow listener. */
  async function fill(name: string): Promise<Communicator> {
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    for (let seq = 0; seq < count; seq++) await me.comm.write(makeMessage(22, seq, size));
    return me.comm;
  }

  /** The second reader got everything after what the first delivered, at most the last one again, intact and in order. */
  async function expectRestFrom(first: [number, boolean][], name: string, label: string): Promise<void> {
    expect(first.every(([seq, ok], i) => seq === i && ok)).toBe(true);
    const last = first[first.length - 1]![0];
    const second = await startLoggingReader({ name, capacity, options: { side: 'b', reader: 'worker' }, seed: 22, size }, path.join(tmp, `${name}-${label}.log`));
    await waitFor(() => logged(second.log).some(([seq]) => seq === count - 1), 'the last message at the second reader', 30_000);
    const after = logged(second.log);
    expect([last, last + 1]).toContain(after[0]![0]);
    expect(after.every(([seq, ok], i) => seq === after[0]![0] + i && ok)).toBe(true);
    await killReader(second);
  }

  test('dispose() mid-stream: the process ends by itself, and the next reader gets every message the first did not deliver', async () => {
    const name = uniqueName();
    await fill(name);
    const first = await startLoggingReader({ name, capacity, options: { side: 'b', reader: 'worker' }, seed: 22, size, delayUs: 100 }, path.join(tmp, `${name}-1.log`));
    await waitFor(() => logged(first.log).length >= 50, 'fifty messages at the first reader');
    await new Promise<void>((resolve) => {
      first.child.on('message', (m: { disposed?: boolean }) => m.disposed === true && resolve());
      first.child.send({ op: 'dispose', exit: true });
    });
    // No reader thread, doorbell or timer holds the process: it ends without being killed.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([first.exited, new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 15_000)))]);
    clearTimeout(timer);
    expect(outcome).toEqual({ code: 0, signal: null });
    const delivered = logged(first.log);
    expect(delivered.length).toBeLessThan(count);
    await expectRestFrom(delivered, name, '2');
  }, 60_000);

  test('SIGKILL mid-stream: nothing in flight is lost, at most the message in the listener repeats', async () => {
    const name = uniqueName();
    await fill(name);
    const first = await startLoggingReader({ name, capacity, options: { side: 'b', reader: 'worker' }, seed: 22, size, delayUs: 100 }, path.join(tmp, `${name}-1.log`));
    await waitFor(() => logged(first.log).length >= 50, 'fifty messages at the first reader');
    await killReader(first);
    await expectRestFrom(logged(first.log), name, '2');
  }, 60_000);

  test('dispose() in this process with the thread asleep: disposeAsync() resolves once the thread has exited, no name is left', async () => {
    const name = uniqueName();
    const me = record(new Communicator(name, 8192, { side: 'a', reader: 'worker' }));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' } });
    await peer.write({ seed: 1, count: 10, size: 10 });
    await waitFor(() => me.data.length === 10, 'the messages');
    await sleep(50); // the thread sleeps on the futex now
    const started = performance.now();
    await me.comm.disposeAsync();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(me.comm.readerRunning).toBe(false);
    expect(me.errors).toEqual([]);
  });
});

describe('a persisted channel', () => {
  test('{ path }: the thread maps the file too; what was written before the reader started arrives, in order', async () => {
    const name = uniqueName();
    const file = path.join(tmp, `${name}.shm`);
    try {
      const writer = new Communicator(name, 16384, { side: 'b', path: file });
      for (let seq = 0; seq < 50; seq++) await writer.write(makeMessage(9, seq, 100));
      const me = record(new Communicator(name, 16384, { side: 'a', path: file, reader: 'worker' }), false);
      const checker = new StreamChecker(9, { size: 100 });
      me.comm.on('data', (d) => checker.push(d));
      me.comm.startReader();
      await waitFor(() => checker.next === 50, 'the messages');
      for (let seq = 50; seq < 100; seq++) await writer.write(makeMessage(9, seq, 100));
      await waitFor(() => checker.next === 100, 'the later messages');
      expect(checker.firstProblem).toBeNull();
      expect(me.errors).toEqual([]);
      writer.dispose();
      // disposeAsync: the thread's mapping of the file goes only once the thread has exited, and
      // Windows refuses to delete a mapped file (the unlink below failed with EPERM now and then).
      await me.comm.disposeAsync();
    } finally {
      Communicator.unlink(name, { path: file });
    }
  });
});

describe('garbage in the ring', () => {
  test('random bytes over unread frames: ERR_CORRUPT from the thread as an error event, later messages arrive', async () => {
    const name = uniqueName();
    const capacity = 4096;
    const size = 100;
    const me = record(new Communicator(name, capacity, { side: 'a', reader: 'worker' }));
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const region = Region.open(name);
    try {
      const base = me.comm.readPosition;
      const ring = ringDescriptor.ringSizeFor(capacity - base);
      await peer.write({ seed: 1, count: 5, size });
      const head = region.load(base + ringDescriptor.HEAD_OFFSET);
      const tail = region.load(base + ringDescriptor.TAIL_OFFSET);
      const ringStart = base + ringDescriptor.HEADER_SIZE;
      region.write(ringStart + (head % ring), Buffer.alloc(tail - head, 0xa5));
      region.store(ringStart + (head % ring), 0xfffffff0);
      expect(ring).toBeGreaterThan(tail - head);

      me.comm.startReader();
      await waitFor(() => me.errors.length > 0, 'an error event');
      expect(me.errors.map((e) => e.code)).toEqual(['ERR_CORRUPT']);
      expect(me.data).toEqual([]);

      await peer.write({ seed: 1, from: 5, count: 3, size });
      await waitFor(() => me.data.length === 3, 'the later messages');
      expect(me.data.map((d) => seqOf(d))).toEqual([5, 6, 7]);
      for (const d of me.data) expect(checkMessage(d, 1, seqOf(d), size)).toBeNull();
      expect(me.errors).toHaveLength(1);
    } finally {
      region.close();
    }
  });
});

describe('codecs', () => {
  test('json is decoded in the thread; a message that fails to decode is ERR_CORRUPT and the stream goes on', async () => {
    const name = uniqueName();
    const comm = new Communicator<unknown>(name, 8192, { side: 'a', reader: 'worker', codec: 'json' });
    const rec = record(comm as unknown as Communicator);
    comm.startReader();
    const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' } });
    await peer.call('writeRaw', { texts: ['{"a":[1,"x",null]}', 'not json', '"text"', '{"__proto__":{"b":2}}'] });
    await waitFor(() => rec.data.length === 3, 'the good messages');
    expect(rec.data.slice(0, 2)).toEqual([{ a: [1, 'x', null] }, 'text']);
    // A clone keeps an own "__proto__" key as JSON.parse made it (no prototype change).
    expect(Object.getOwnPropertyDescriptor(rec.data[2], '__proto__')?.value).toEqual({ b: 2 });
    expect(rec.errors.map((e) => e.code)).toEqual(['ERR_CORRUPT']);
  });

  test('text in the thread; a custom codec and structured clone on the event loop, from the bytes', async () => {
    const upper: Codec<string> = { encode: (s) => Buffer.from(s), decode: (b) => b.toString('latin1').toUpperCase() };
    const results: Record<string, unknown[]> = {};
    const cases: [string, 'text' | Codec<string>, string[]][] = [
      ['text', 'text', ['grüße', '', 'x'.repeat(5000)]],
      ['custom', upper, ['abc', 'def']],
    ];
    for (const [label, codec, texts] of cases) {
      const name = uniqueName();
      const comm = new Communicator<string>(name, 8192, { side: 'a', reader: 'worker', codec });
      const got: unknown[] = [];
      comm.on('data', (v) => got.push(v));
      record(comm as unknown as Communicator, false);
      comm.startReader();
      const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' } });
      await peer.call('writeRaw', { texts });
      await waitFor(() => got.length === texts.length, `the ${label} messages`);
      results[label] = got;
      await peer.kill();
    }
    expect(results.text).toEqual(['grüße', '', 'x'.repeat(5000)]);
    expect(results.custom).toEqual(['ABC', 'DEF']);

    const name = uniqueName();
    const comm = new Communicator<unknown>(name, 8192, { side: 'a', reader: 'worker', codec: 'structured' });
    const got: unknown[] = [];
    comm.on('data', (v) => got.push(v));
    record(comm as unknown as Communicator, false);
    comm.startReader();
    const writer = new Communicator<unknown>(name, 8192, { side: 'b', codec: 'structured' });
    try {
      const value = { when: new Date(5), map: new Map([[1, 'one']]), big: 2n ** 70n };
      await writer.write(value);
      await waitFor(() => got.length === 1, 'the structured message');
      // Compared field by field: jest's toEqual cannot walk a Map made outside its sandbox.
      const received = got[0] as typeof value;
      expect(received.when.getTime()).toBe(5);
      expect([...received.map.entries()]).toEqual([[1, 'one']]);
      expect(received.big).toBe(2n ** 70n);
    } finally {
      writer.dispose();
    }
  });
});

describe('the option', () => {
  test("bad values and receive: 'view' are refused with ERR_INVALID_ARGUMENT; nothing is left behind", () => {
    const name = uniqueName();
    for (const reader of ['thread', 'Worker', 1, null, true]) {
      let error: ShmError | undefined;
      try {
        new Communicator(name, 8192, { reader } as never);
      } catch (err) {
        error = err as ShmError;
      }
      expect(error?.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error?.message).toContain('reader=');
    }
    let error: ShmError | undefined;
    try {
      new Communicator(name, 8192, { reader: 'worker', receive: 'view' });
    } catch (err) {
      error = err as ShmError;
    }
    expect(error?.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error?.message).toContain("receive: 'view'");
    expect(leftovers()).toEqual([]);
  });

  test("'event-loop' is accepted; a worker reader stopped and started again delivers what came meanwhile, in order", async () => {
    const name = uniqueName();
    new Communicator(uniqueName(), 8192, { reader: 'event-loop' }).dispose();
    const me = record(new Communicator(name, 8192, { side: 'a', reader: 'worker' }), false);
    const checker = new StreamChecker(5, { size: 30 });
    me.comm.on('data', (d) => checker.push(d));
    me.comm.startReader();
    const peer = await Peer.start({ name, capacity: 8192, options: { side: 'b' } });
    await peer.write({ seed: 5, count: 20, size: 30 });
    await waitFor(() => checker.next === 20, 'the first messages');
    await me.comm.stopReader();
    expect(me.comm.readerRunning).toBe(false);
    await peer.write({ seed: 5, from: 20, count: 20, size: 30 });
    await sleep(200);
    expect(checker.next).toBe(20);
    expect(me.comm.incomingBytes).toBeGreaterThan(0);
    me.comm.startReader();
    await waitFor(() => checker.next === 40, 'the rest');
    await sleep(100);
    expect(checker.next).toBe(40);
    expect(checker.firstProblem).toBeNull();
    expect(me.comm.incomingBytes).toBe(0);
  });
});
