// receiveSync() and writeSync() one message at a time — what a request-reply exchange does, and
// what their fast paths serve (a lone whole message copied straight out of the ring; a message
// framed straight into it): the head still moves only after delivery, fragments and padding
// still arrive whole, a bad frame header is still ERR_CORRUPT with recovery, and writeSync still
// keeps its place behind queued writes.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { StreamChecker, makeMessage, sizeFor } from './fixtures/messages';
import { FIXTURES, cleanup, leftovers, open, record, uniqueName, waitFor } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

interface Answer {
  data?: Uint8Array | null;
  incoming?: number;
  errors: string[];
  failure?: { code?: string; message: string };
}

/** A worker thread (fixtures/sync-receiver.js) that calls receiveSync/writeSync when asked. */
class SyncReceiver {
  readonly #worker: Worker;
  readonly #answers: Answer[] = [];
  readonly #waiting: ((answer: Answer) => void)[] = [];
  readonly ready: Promise<void>;

  constructor(workerData: { name: string; capacity: number; side: 'a' | 'b' }) {
    this.#worker = new Worker(path.join(FIXTURES, 'sync-receiver.js'), { workerData });
    let onReady: () => void;
    this.ready = new Promise<void>((resolve) => (onReady = resolve));
    // A worker that fails answers everything still waiting with its failure.
    this.#worker.on('error', (err: Error) => {
      for (const waiter of this.#waiting.splice(0)) waiter({ errors: [], failure: { message: err.message } });
    });
    this.#worker.on('message', (msg: Answer & { ready?: boolean }) => {
      if (msg.ready === true) return onReady();
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) waiter(msg);
      else this.#answers.push(msg);
    });
  }

  #ask(request: object): Promise<Answer> {
    const answer = new Promise<Answer>((resolve) => this.#waiting.push(resolve));
    this.#worker.postMessage(request);
    return answer;
  }

  receive(timeout: number): Promise<Answer> {
    return this.#ask({ op: 'receive', timeout });
  }

  write(data: Uint8Array): Promise<Answer> {
    return this.#ask({ op: 'write', data });
  }

  async close(): Promise<void> {
    await this.#ask({ op: 'dispose' });
    await this.#worker.terminate();
  }
}

/** This process writes side b (its half is the worker's to read); the worker takes side a. */
async function channel(capacity = 4096): Promise<{ name: string; comm: Communicator; receiver: SyncReceiver; region: Region; base: number; ring: number }> {
  const name = uniqueName();
  const comm = open(name, capacity, { side: 'b' }).comm;
  const receiver = new SyncReceiver({ name, capacity, side: 'a' });
  await receiver.ready;
  const region = Region.open(name);
  const base = comm.writePosition;
  const ring = ringDescriptor.ringSizeFor(capacity - base);
  return { name, comm, receiver, region, base, ring };
}

const frameOf = (size: number): number => ringDescriptor.align(ringDescriptor.FRAME_HEADER + size);

describe('receiveSync, one message in the ring', () => {
  test('the message is returned whole, and its space goes back only at the next call', async () => {
    const { comm, receiver, region, base } = await channel();
    try {
      const head = region.load(base + ringDescriptor.HEAD_OFFSET);
      await comm.write(makeMessage(3, 0, 100));
      const first = await receiver.receive(1000);
      expect(Buffer.from(first.data!)).toEqual(makeMessage(3, 0, 100));
      // Held while the caller may still be using it: a kill now repeats it to the next reader.
      expect(first.incoming).toBe(frameOf(100));
      expect(region.load(base + ringDescriptor.HEAD_OFFSET)).toBe(head);
      const second = await receiver.receive(0);
      expect(second.data).toBeNull();
      expect(second.incoming).toBe(0);
      expect(region.load(base + ringDescriptor.HEAD_OFFSET)).toBe(head + frameOf(100));
      expect([...first.errors, ...second.errors]).toEqual([]);
    } finally {
      region.close();
      await receiver.close();
    }
  });

  test('an empty message, and one that ends exactly at the ring end, are returned as they were sent', async () => {
    const { comm, receiver, region, base, ring } = await channel();
    try {
      await comm.write(Buffer.alloc(0));
      expect((await receiver.receive(1000)).data).toHaveLength(0);
      // Fill to the ring's end exactly (in one frame): the next frame starts a new lap at index 0.
      const toEndOf = (): number => ring - (region.load(base + ringDescriptor.TAIL_OFFSET) % ring);
      for (let seq = 10; toEndOf() > ringDescriptor.maxFramePayload(ring) + ringDescriptor.FRAME_HEADER; seq++) {
        await comm.write(makeMessage(4, seq, 200));
        expect(Buffer.from((await receiver.receive(1000)).data!)).toEqual(makeMessage(4, seq, 200));
      }
      const toEnd = toEndOf();
      const last = makeMessage(4, 0, toEnd - ringDescriptor.FRAME_HEADER);
      await comm.write(last);
      expect(Buffer.from((await receiver.receive(1000)).data!)).toEqual(last);
      expect(region.load(base + ringDescriptor.TAIL_OFFSET) % ring).toBe(0);
      await comm.write(makeMessage(4, 1, 40));
      const next = await receiver.receive(1000);
      expect(Buffer.from(next.data!)).toEqual(makeMessage(4, 1, 40));
      expect(next.errors).toEqual([]);
    } finally {
      region.close();
      await receiver.close();
    }
  });

  // Each corruption of the lone frame's header: the message is not delivered, one ERR_CORRUPT,
  // and the next message arrives (the defined recovery of a garbage frame).
  const corruptions: [string, (region: Region, at: number, word: number) => void][] = [
    ['an unknown frame type', (region, at, word) => region.store(at + 4, (word & ~0xffff) | 77)],
    ['a length running past the published tail', (region, at) => region.store(at, region.load(at) + 64)],
    ['a length beyond the largest frame', (region, at) => region.store(at, 0xfffffff0)],
    ['a frame of another lap', (region, at, word) => region.store(at + 4, (word + 0x10000) >>> 0)],
  ];
  for (const [what, corrupt] of corruptions) {
    test(`${what}: ERR_CORRUPT, nothing delivered from it, and the next message arrives`, async () => {
      const { comm, receiver, region, base, ring } = await channel();
      try {
        const tail = region.load(base + ringDescriptor.TAIL_OFFSET);
        await comm.write(makeMessage(5, 0, 100));
        const at = base + ringDescriptor.HEADER_SIZE + (tail % ring);
        corrupt(region, at, region.load(at + 4));
        const bad = await receiver.receive(100);
        expect(bad.failure).toBeUndefined();
        expect(bad.data).toBeNull();
        expect(bad.errors).toEqual(['ERR_CORRUPT']);
        await comm.write(makeMessage(5, 1, 100));
        const good = await receiver.receive(1000);
        expect(Buffer.from(good.data!)).toEqual(makeMessage(5, 1, 100));
        expect(good.errors).toEqual([]);
      } finally {
        region.close();
        await receiver.close();
      }
    });
  }
});

describe('request-reply through receiveSync and writeSync', () => {
  test('every size from empty to fragmented, one at a time through many ring wraps: each arrives whole and in order, both ways', async () => {
    const name = uniqueName();
    const capacity = 8192;
    const count = 600;
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const maxSize = 2 * (me.comm.readPosition - me.comm.writePosition); // some fragmented
    const echoes = new StreamChecker(21, { maxSize });
    // The next message leaves only once the echo of the last is back: the ring holds one at a time.
    me.comm.on('data', (d) => {
      echoes.push(d);
      if (echoes.next < count) void me.comm.write(makeMessage(21, echoes.next, sizeFor(21, echoes.next, maxSize)));
    });
    me.comm.startReader();
    const worker = new Worker(path.join(FIXTURES, 'receive-worker.js'), { workerData: { name, capacity, side: 'b', seed: 21, count, maxSize, echo: true } });
    const report = new Promise<{ received: number; firstProblem: string | null; errors: string[]; failure?: object }>((resolve, reject) => {
      worker.on('message', (msg: { type: string; report?: never }) => {
        if (msg.type === 'ready') void me.comm.write(makeMessage(21, 0, sizeFor(21, 0, maxSize)));
        if (msg.type === 'report') resolve(msg.report!);
      });
      worker.once('error', reject);
    });
    try {
      const r = await report;
      expect(r.failure).toBeUndefined();
      expect(r.received).toBe(count);
      expect(r.firstProblem).toBeNull();
      expect(r.errors).toEqual([]);
      await waitFor(() => echoes.next === count, 'the echoes');
      expect(echoes.firstProblem).toBeNull();
      expect(me.errors).toEqual([]);
    } finally {
      await worker.terminate();
    }
  });
});

describe('writeSync next to queued writes', () => {
  test('a writeSync after write() and send() of the same tick goes after them', async () => {
    const { comm, receiver } = await channel();
    try {
      void comm.write(makeMessage(6, 0, 50));
      comm.send(makeMessage(6, 1, 50));
      comm.writeSync(makeMessage(6, 2, 50));
      comm.writeSync(makeMessage(6, 3, 50));
      for (let seq = 0; seq < 4; seq++) {
        const got = await receiver.receive(1000);
        expect(Buffer.from(got.data!)).toEqual(makeMessage(6, seq, 50));
      }
      expect((await receiver.receive(0)).data).toBeNull();
    } finally {
      await receiver.close();
    }
  });

  test('with the ring full, writeSync on the main thread throws ERR_TIMEOUT and that message is never delivered', async () => {
    const { comm, receiver, ring } = await channel();
    try {
      let committed = 0;
      let failure: unknown;
      for (; committed < ring; committed++) {
        try {
          comm.writeSync(makeMessage(7, committed, 200));
        } catch (err) {
          failure = err;
          break;
        }
      }
      expect(failure).toEqual(expect.objectContaining({ code: 'ERR_TIMEOUT' }));
      expect(committed).toBe(Math.floor(ring / frameOf(200)));
      for (let seq = 0; seq < committed; seq++) {
        expect(Buffer.from((await receiver.receive(1000)).data!)).toEqual(makeMessage(7, seq, 200));
      }
      // Room again: the next one goes at once and is the next delivered.
      comm.writeSync(makeMessage(7, committed + 1, 200));
      expect(Buffer.from((await receiver.receive(1000)).data!)).toEqual(makeMessage(7, committed + 1, 200));
      expect((await receiver.receive(0)).data).toBeNull();
    } finally {
      await receiver.close();
    }
  });
});
