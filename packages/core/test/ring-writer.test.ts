// The writer's two ways of assembling frames — in place through a view of the ring, or in a
// staging buffer copied in (where the runtime forbids external memory, as in Electron) — must lay
// out the same frames. One process, one region per way, a reader draining as it goes.
import { Region } from '@shmlink/native';
import { Doorbell, DoorbellRinger } from '../src/doorbell';
import { Half } from '../src/half';
import { HEADER_SIZE, TAIL_OFFSET } from '../src/layout';
import { RingReader } from '../src/ring-reader';
import { RingWriter } from '../src/ring-writer';
import { makeMessage, sizeFor } from './fixtures/messages';
import { cleanup, leftovers, uniqueName } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const HALF = 256 * 1024;

function run(inPlace: boolean): { tail: number; received: Buffer[] } {
  const name = uniqueName();
  const region = Region.create(name, HALF);
  const doorbell = new Doorbell(`/dev/shm/${name}@writer.bell`);
  try {
    const half = new Half(region, 0, HALF);
    half.initialize();
    const ring = region.view(HEADER_SIZE, half.ringSize);
    const writer = new RingWriter(half, {
      timeoutMs: Infinity,
      sleepSliceMs: 250,
      pollMs: 0,
      onError: (err) => {
        throw err;
      },
      doorbell,
      consumerBell: new DoorbellRinger(`/dev/shm/${name}@nobody.bell`),
      ringView: inPlace ? ring : null,
      onSendFailure: (err) => {
        throw err;
      },
      onDrain: () => {},
    });
    const reader = new RingReader(half, 1 << 20, new DoorbellRinger(`/dev/shm/${name}@nobody.bell`));
    const received: Buffer[] = [];
    // Groups of messages from 0 B to 40 KiB (frames beyond the 16 KiB direct threshold, beyond the
    // 64 KiB staging size per group, and fragments beyond half the ring), wrapping the ring often.
    for (let seq = 0; seq < 600; ) {
      for (const end = Math.min(600, seq + 1 + (seq % 7)); seq < end; seq++) {
        writer.enqueueSync(makeMessage(1, seq, sizeFor(1, seq, 40 * 1024)), (err) => {
          throw err;
        });
      }
      while (!writer.flushSync()) received.push(...reader.drain(1 << 20).messages);
      received.push(...reader.drain(1 << 20).messages);
    }
    return { tail: half.load(TAIL_OFFSET), received };
  } finally {
    doorbell.close();
    region.close();
  }
}

test('in place and staged, the writer lays out the same frames and every message arrives intact', () => {
  const inPlace = run(true);
  const staged = run(false);
  for (const { received } of [inPlace, staged]) {
    expect(received).toHaveLength(600);
    received.forEach((m, seq) => expect(m.equals(makeMessage(1, seq, sizeFor(1, seq, 40 * 1024)))).toBe(true));
  }
  // The same frame sizes, paddings and fragments put the tail at the same place.
  expect(staged.tail).toBe(inPlace.tail);
});
