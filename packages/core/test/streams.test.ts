// Streams and async iteration over a Communicator, across real processes: a file copied byte for
// byte through pipeline() in one process and its reverse in another, backpressure through both
// ends (a slow consumer keeps both processes' memory bounded), and ends and errors as Node's
// stream conventions have them.
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Communicator, toDuplex, toReadableStream, toWritableStream, type ShmError } from '@shmlink/core';
import { StreamChecker, seqOf } from './fixtures/messages';
import { FIXTURES, Peer, cleanup, leftovers, record, sleep, uniqueName, waitFor } from './helpers';

const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await cleanup();
});
afterAll(() => expect(leftovers()).toEqual([]));

const MiB = 1024 * 1024;

interface EndResult {
  bytes?: number;
  hash?: string;
  memory: { maxRssGrowth: number; maxQueued: number };
}

interface StreamPeerConfig {
  name: string;
  capacity: number;
  side: 'a' | 'b';
  role: 'send' | 'receive';
  file?: string;
  total?: number;
  stallMs?: number;
  delayEvery?: number;
  delayMs?: number;
  web?: boolean;
  options?: object;
}

/** Starts fixtures/stream-peer.js; resolves `ready` once it has joined, `done` with its result. */
function streamPeer(config: StreamPeerConfig): { child: ChildProcess; ready: Promise<void>; done: Promise<EndResult> } {
  const child = fork(path.join(FIXTURES, 'stream-peer.js'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let readyResolve: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const done = new Promise<EndResult>((resolve, reject) => {
    child.on('message', (msg: { ready?: true; done?: EndResult; failed?: { code?: string; message: string } }) => {
      if (msg.ready) readyResolve();
      if (msg.done !== undefined) resolve(msg.done);
      if (msg.failed !== undefined) reject(Object.assign(new Error(`${config.role}: ${msg.failed.message}`), { code: msg.failed.code }));
    });
    child.once('exit', (code, signal) => setTimeout(() => reject(new Error(`${config.role} exited (${code ?? signal})`)), 100));
  });
  done.catch(() => undefined);
  children.add(child);
  return { child, ready, done };
}

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

describe('byte streams between two processes', () => {
  test('a 200 MiB file through pipeline() arrives byte for byte', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-streams-'));
    try {
      const input = path.join(dir, 'in.bin');
      const output = path.join(dir, 'out.bin');
      const out = fs.openSync(input, 'w');
      // Random bytes, and an odd size: the last chunk is short.
      for (let left = 200 * MiB + 12345; left > 0; left -= MiB) fs.writeSync(out, crypto.randomBytes(Math.min(MiB, left)));
      fs.closeSync(out);

      const name = uniqueName();
      const capacity = 2 * MiB;
      const receiver = streamPeer({ name, capacity, side: 'b', role: 'receive', file: output });
      await receiver.ready;
      const sender = streamPeer({ name, capacity, side: 'a', role: 'send', file: input });
      await Promise.all([sender.done, receiver.done]);
      expect(fs.statSync(output).size).toBe(fs.statSync(input).size);
      expect(await sha256(output)).toBe(await sha256(input));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  test('a consumer that stalls and then lags keeps memory bounded on both sides, and loses nothing', async () => {
    const name = uniqueName();
    const capacity = 256 * 1024;
    const total = 160 * MiB;
    const receiver = streamPeer({ name, capacity, side: 'b', role: 'receive', total, stallMs: 1500, delayEvery: 16, delayMs: 2 });
    await receiver.ready;
    const sender = streamPeer({ name, capacity, side: 'a', role: 'send', total });
    const [sent, received] = await Promise.all([sender.done, receiver.done]);
    expect(received.bytes).toBe(total);
    expect(received.hash).toBe(sent.hash);
    // Unbounded buffering would hold most of the 160 MiB in the sender during the stall. Both
    // streams hold about their highWaterMarks (16 × 64 KiB chunks at most, in the sender's
    // source); the bound on RSS is generous for the garbage collector's own slack.
    expect(sent.memory.maxQueued).toBeLessThan(2 * MiB);
    expect(received.memory.maxQueued).toBeLessThan(2 * MiB);
    expect(sent.memory.maxRssGrowth).toBeLessThan(64 * MiB);
    expect(received.memory.maxRssGrowth).toBeLessThan(64 * MiB);
  }, 120_000);

  test('a sender SIGKILLed mid-stream fails the receiving stream with ERR_PEER_GONE once its bytes are read, instead of hanging', async () => {
    const capacity = 256 * 1024;
    for (const web of [false, true]) {
      const name = uniqueName();
      const receiver = streamPeer({ name, capacity, side: 'b', role: 'receive', total: 1, delayEvery: 4, delayMs: 5, web });
      await receiver.ready;
      const sender = streamPeer({ name, capacity, side: 'a', role: 'send', total: 1024 * MiB, web });
      // Mid-stream: a sender that never joined is no peer of the receiver, so it cannot "die".
      await sender.ready;
      await sleep(300);
      sender.child.kill('SIGKILL');
      await expect(receiver.done).rejects.toMatchObject({ code: 'ERR_PEER_GONE' });
    }
  }, 60_000);

  test("reader: 'worker' on both ends: a stalling, lagging consumer gets every byte, memory stays bounded; a killed sender fails it ERR_PEER_GONE", async () => {
    const options = { reader: 'worker' };
    const name = uniqueName();
    const capacity = 256 * 1024;
    const total = 24 * MiB + 7;
    const receiver = streamPeer({ name, capacity, side: 'b', role: 'receive', total, stallMs: 500, delayEvery: 16, delayMs: 2, options });
    await receiver.ready;
    const sender = streamPeer({ name, capacity, side: 'a', role: 'send', total, options });
    const [sent, received] = await Promise.all([sender.done, receiver.done]);
    expect(received.bytes).toBe(total);
    expect(received.hash).toBe(sent.hash);
    expect(received.memory.maxQueued).toBeLessThan(2 * MiB);
    expect(received.memory.maxRssGrowth).toBeLessThan(64 * MiB);

    const second = uniqueName();
    const lonely = streamPeer({ name: second, capacity, side: 'b', role: 'receive', total: 1, delayEvery: 4, delayMs: 5, options });
    await lonely.ready;
    const killed = streamPeer({ name: second, capacity, side: 'a', role: 'send', total: 1024 * MiB, options });
    await killed.ready;
    await sleep(300);
    killed.child.kill('SIGKILL');
    await expect(lonely.done).rejects.toMatchObject({ code: 'ERR_PEER_GONE' });
  }, 90_000);

  test('Web Streams: WritableStream in one process, ReadableStream in the other', async () => {
    const name = uniqueName();
    const capacity = 256 * 1024;
    const total = 24 * MiB + 7;
    const receiver = streamPeer({ name, capacity, side: 'b', role: 'receive', total, stallMs: 500, web: true });
    await receiver.ready;
    const sender = streamPeer({ name, capacity, side: 'a', role: 'send', total, web: true });
    const [sent, received] = await Promise.all([sender.done, receiver.done]);
    expect(received.bytes).toBe(total);
    expect(received.hash).toBe(sent.hash);
    expect(sent.memory.maxRssGrowth).toBeLessThan(64 * MiB);
  }, 60_000);
});

describe('async iteration', () => {
  test.each(['event-loop', 'worker'] as const)('reader %s: for await receives every message in order, a slow loop pauses the reader, and the loop ends at dispose()', async (reader) => {
    const name = uniqueName();
    const capacity = 16384;
    const count = 3000;
    const size = 700;
    const me = record(new Communicator(name, capacity, { side: 'a', reader }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const writing = peer.write({ seed: 21, count, size, window: 1 });
    const checker = new StreamChecker(21, { size });
    let paused = false;
    for await (const message of me.comm) {
      checker.push(message);
      if (checker.next === 1000) {
        // The loop holds still: the reader must pause (the ring fills, the writer waits).
        await sleep(300);
        paused = !me.comm.readerRunning;
        const before = (await peer.stats()).committed;
        await sleep(200);
        expect((await peer.stats()).committed).toBe(before);
        expect(before).toBeLessThan(count);
      }
      if (checker.next === count) setTimeout(() => me.comm.dispose(), 50);
    }
    await writing;
    expect(paused).toBe(true);
    expect(checker.bad).toBe(0);
    expect(checker.next).toBe(count);
    expect(me.comm.disposed).toBe(true);
  });

  test('leaving the loop stops the reader; a new loop goes on with the messages after it, in order', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const size = 100;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    await peer.write({ seed: 22, count: 50, size });
    const checker = new StreamChecker(22, { size });
    for await (const message of me.comm.messages({ highWaterMark: 1 })) {
      checker.push(message);
      if (checker.next === 20) break;
    }
    expect(me.comm.readerRunning).toBe(false);
    // At most the one message the iterator held ahead of the loop is gone with it.
    const seen: number[] = [];
    for await (const message of me.comm.messages()) {
      seen.push(seqOf(message));
      if (seen.at(-1) === 49) break;
    }
    expect(seen[0]).toBeGreaterThanOrEqual(20);
    expect(seen[0]).toBeLessThanOrEqual(21);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! + i));
    expect(checker.bad).toBe(0);
  });

  test("the communicator's error ends the loop by throwing it", async () => {
    const name = uniqueName();
    const capacity = 16384;
    const me = record(new Communicator(name, capacity, { side: 'a', maxMessageSize: 5000 }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    // Larger than a frame (half the ring): it comes in fragments, and the reader refuses it whole.
    await peer.write({ seed: 23, count: 1, size: 6000 });
    const received: Buffer[] = [];
    let error: ShmError | undefined;
    try {
      for await (const message of me.comm) received.push(message);
    } catch (err) {
      error = err as ShmError;
    }
    expect(error?.code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect(received).toEqual([]);
    expect(me.comm.readerRunning).toBe(false);
  });

  test("with receive: 'view' the iterator hands out copies: messages kept past the loop stay intact", async () => {
    const name = uniqueName();
    const capacity = 8192;
    const count = 300;
    const me = record(new Communicator(name, capacity, { side: 'a', receive: 'view' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const writing = peer.write({ seed: 25, count, maxSize: 300 });
    const kept: Buffer[] = [];
    for await (const message of me.comm) {
      kept.push(message);
      if (kept.length === count) break;
    }
    await writing;
    // Many rings went by: a kept view of the ring would now show later messages.
    const checker = new StreamChecker(25, { maxSize: 300 });
    for (const message of kept) checker.push(message);
    expect(checker.firstProblem).toBeNull();
    expect(checker.next).toBe(count);
  });

  test('a disposed communicator yields nothing', async () => {
    const comm = new Communicator(uniqueName(), 4096);
    comm.dispose();
    const received: Buffer[] = [];
    for await (const message of comm) received.push(message);
    expect(received).toEqual([]);
  });
});

describe('Node and Web streams: ends, errors, arguments', () => {
  test('object mode carries messages both ways; the readable side ends at dispose(), later writes fail ERR_CLOSED', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, echo: true, start: true });
    const duplex = toDuplex(me.comm);
    const received: string[] = [];
    duplex.on('data', (m: Buffer) => received.push(m.toString()));
    const ended = new Promise<void>((resolve) => duplex.once('end', resolve));
    for (let i = 0; i < 100; i++) duplex.write(`message ${i}`);
    await waitFor(() => received.length === 100, 'the echoes');
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i}`));
    me.comm.dispose();
    await ended;
    const failed = new Promise<ShmError>((resolve) => duplex.once('error', resolve));
    duplex.write('too late');
    expect((await failed).code).toBe('ERR_CLOSED');
    expect((await peer.stats()).received).toBe(100);
  });

  test("the communicator's error destroys the Duplex and errors the ReadableStream with it", async () => {
    const name = uniqueName();
    const capacity = 16384;
    const me = record(new Communicator(name, capacity, { side: 'a', maxMessageSize: 5000 }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const duplex = toDuplex(me.comm);
    const web = toReadableStream(me.comm).getReader();
    const destroyed = new Promise<ShmError>((resolve) => duplex.once('error', resolve));
    duplex.resume();
    const read = expect(web.read()).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' });
    await peer.write({ seed: 24, count: 1, size: 6000 });
    expect((await destroyed).code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect(duplex.destroyed).toBe(true);
    await read;
  });

  test('a ReadableStream closes at dispose(); a WritableStream write then fails ERR_CLOSED', async () => {
    const name = uniqueName();
    const capacity = 16384;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' }, echo: true, start: true });
    const reader = toReadableStream(me.comm).getReader();
    const writer = toWritableStream(me.comm).getWriter();
    await writer.write('ping');
    expect((await reader.read()).value?.toString()).toBe('ping');
    me.comm.dispose();
    expect(await reader.read()).toEqual({ value: undefined, done: true });
    await expect(writer.write('late')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect((await peer.stats()).received).toBe(1);
  });

  test("a byte stream ends at the peer's end marker; what follows stays in the ring", async () => {
    const name = uniqueName();
    const capacity = 16384;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    // Over the peer's own protocol: two chunks, the end marker (an empty message), then one more message.
    await peer.call('writeRaw', { texts: ['hello ', 'world', '', 'after'] });
    const chunks: Buffer[] = [];
    await pipeline(
      toDuplex(me.comm, { mode: 'bytes' }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
    expect(me.comm.readerRunning).toBe(false);
    const next = await me.comm.messages().next();
    expect(next.value?.toString()).toBe('after');
  });

  test("bytes mode on a communicator with another codec fails ERR_INVALID_STATE instead of guessing", async () => {
    const name = uniqueName();
    const capacity = 16384;
    const comm = new Communicator<unknown>(name, capacity, { side: 'a', codec: 'json' });
    record(comm as Communicator, false);
    const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
    const duplex = toDuplex(comm, { mode: 'bytes' });
    const failed = new Promise<ShmError>((resolve) => duplex.once('error', resolve));
    duplex.resume();
    await peer.call('writeRaw', { texts: ['{"a":1}'] });
    expect((await failed).code).toBe('ERR_INVALID_STATE');
  });

  test('arguments are checked', () => {
    const comm = record(new Communicator(uniqueName(), 4096)).comm;
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return (err as ShmError).code;
      }
      return undefined;
    };
    expect(code(() => toDuplex({} as Communicator))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => toReadableStream(null as unknown as Communicator))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => toDuplex(comm, { mode: 'lines' as 'bytes' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => toDuplex(comm, { chunkSize: 10 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => toWritableStream(comm, { mode: 'bytes', chunkSize: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => toDuplex(comm, { highWaterMark: -1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => comm.messages({ highWaterMark: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => comm.messages({ size: 1 } as object))).toBe('ERR_INVALID_ARGUMENT');
  });
});
