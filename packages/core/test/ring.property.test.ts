// Properties of the ring protocol's algorithms — framing, parsing, reassembly, the stored head and
// the resend of a message whose reader went away — checked with fast-check against a plain
// in-memory region over random message sizes, wrap points, fragment boundaries, drain budgets and
// reader deaths. The same code runs across processes in exchange, robustness and reliability tests.
import fc from 'fast-check';
import { RingFramer } from '../src/framer';
import { Half } from '../src/half';
import { HEADER_SIZE, HEAD_OFFSET, TAIL_OFFSET, wrapFor } from '../src/ring-descriptor';
import { RingReader } from '../src/ring-reader';
import { SendQueue } from '../src/send-queue';
import type { WaitStrategy } from '../src/wait-strategy';
import { makeMessage } from './fixtures/messages';
import { MemoryRegion } from './memory-region';

const RING = 1024;
const HALF = HEADER_SIZE + RING;

function fail(err: Error): never {
  throw err;
}

/** A producer and a consumer of one half in memory, the cursors starting at `start`. */
function channel(start: number): { half: Half; queue: SendQueue; reader: () => RingReader } {
  const half = new Half(new MemoryRegion(HALF), 0, HALF);
  half.initialize();
  half.store(TAIL_OFFSET, start);
  half.store(HEAD_OFFSET, start);
  const framer = new RingFramer(half, { ringView: null, onCorrupt: fail, onPublish: () => {} });
  // flushSync() commits synchronously; the pump that would wait for space is never started.
  const queue = new SendQueue(framer, { timeoutMs: Infinity, sleepSliceMs: 1, space: {} as WaitStrategy, onSendFailure: fail, onDrain: () => {} });
  return { half, queue, reader: () => new RingReader(half, 1 << 24, null, () => {}) };
}

const sizes = fc.array(fc.oneof(fc.nat(120), fc.nat(3 * RING)), { minLength: 1, maxLength: 40 });
// Cursors that start anywhere, including a few laps before the wrap.
const start = fc.oneof(fc.constant(0), fc.nat(wrapFor(RING) / 8 - 1).map((n) => n * 8), fc.nat(8).map((n) => wrapFor(RING) - (n + 1) * RING));

test('whatever the sizes, wrap point and drain budgets, every message arrives once, in order, intact', () => {
  fc.assert(
    fc.property(sizes, start, fc.array(fc.integer({ min: 1, max: 2 * RING }), { minLength: 1, maxLength: 8 }), (lengths, at, budgets) => {
      const { queue, reader: makeReader } = channel(at);
      const reader = makeReader();
      const sent = lengths.map((n, i) => makeMessage(11, i, n));
      for (const m of sent) queue.enqueueSync(m, fail);
      const received: Buffer[] = [];
      for (let round = 0; received.length < sent.length; round++) {
        if (round > 10_000) throw new Error(`no progress: ${received.length} of ${sent.length}`);
        queue.flushSync(sent[sent.length - 1]!);
        const { messages, error } = reader.drain(budgets[round % budgets.length]!);
        if (error !== undefined) throw error;
        received.push(...messages);
        reader.commitAll();
      }
      expect(received).toEqual(sent);
    }),
    { numRuns: 300 },
  );
});

test('a reader that stops or dies at any point between handing messages over leaves exactly the rest to the next one', () => {
  fc.assert(
    fc.property(sizes, start, fc.nat(120), fc.boolean(), fc.integer({ min: 1, max: 2 * RING }), (lengths, at, stopAt, dies, budget) => {
      const { queue, reader: makeReader } = channel(at);
      const sent = lengths.map((n, i) => makeMessage(12, i, n));
      for (const m of sent) queue.enqueueSync(m, fail);
      const last = sent[sent.length - 1]!;
      const received: Buffer[] = [];
      // The first reader hands messages over one by one, storing the head past each, and past the
      // rest of the batch at its end (as the event reader does). It stops at its `stopAt`-th store:
      // after a message, or between batches while it holds part of a message.
      let first: RingReader | null = makeReader();
      let stores = 0;
      const stop = () => {
        if (!dies) first!.rewind(); // stopped: it would parse the rest again at its next start
        first = null;
      };
      for (let round = 0; first !== null && received.length < sent.length; round++) {
        if (round > 10_000) throw new Error('no progress before the stop');
        queue.flushSync(last);
        const { messages, ends, error } = first.drain(budget);
        if (error !== undefined) throw error;
        for (let i = 0; i < messages.length && first !== null; i++) {
          received.push(messages[i]!);
          if (i < messages.length - 1) {
            first.commit(ends[i]!);
            if (++stores === stopAt) stop();
          }
        }
        if (first === null) break;
        first.commitAll();
        if (++stores === stopAt) stop();
      }
      // Dead or stopped, the next reader (a new process, or the same one restarted) starts at the
      // stored head with nothing in memory.
      const next = makeReader();
      for (let round = 0; received.length < sent.length; round++) {
        if (round > 10_000) throw new Error(`no progress after the stop: ${received.length} of ${sent.length}`);
        queue.flushSync(last);
        const { messages, error } = next.drain(budget);
        if (error !== undefined) throw error;
        received.push(...messages);
        next.commitAll();
      }
      queue.flushSync(last);
      expect(received).toEqual(sent);
      expect(queue.pending).toBe(0);
    }),
    { numRuns: 500 },
  );
});
