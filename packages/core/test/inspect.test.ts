// inspectChannel() and countMessages(): a channel's headers read from outside (read-only), against
// a channel a real peer process writes into — fragments, a wrapped ring with padding, explicit
// positions — and the verdicts healthy, stale and corrupt.
import { Communicator, countMessages, inspectChannel, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { sizeFor } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, uniqueName } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const { align, FRAME_HEADER, BEGIN_PREFIX, maxFramePayload } = ringDescriptor;

/** Ring bytes a message of `size` takes (frames of at most maxFramePayload, fragments lead with BEGIN_PREFIX). */
function ringBytes(size: number, ringSize: number): number {
  const max = maxFramePayload(ringSize);
  if (size <= max) return align(FRAME_HEADER + size);
  // A fragmented message into an empty-enough ring: BEGIN carries max - 8 bytes, then full frames.
  let left = size - (max - BEGIN_PREFIX);
  let bytes = align(FRAME_HEADER + max);
  while (left > 0) {
    const piece = Math.min(left, max);
    bytes += align(FRAME_HEADER + piece);
    left -= piece;
  }
  return bytes;
}

function inspect(name: string): ReturnType<typeof inspectChannel> {
  const region = Region.open(name, { access: 'read' });
  try {
    return inspectChannel(region);
  } finally {
    region.close();
  }
}

test('a live channel: both halves decoded, bytes and messages waiting counted, healthy', async () => {
  const name = uniqueName();
  const capacity = 65536;
  const me = record(new Communicator(name, capacity, { side: 'a' }), false);
  me.comm.startReader();
  await me.comm.stopReader();
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  const ringSize = ringDescriptor.ringSizeFor(capacity / 2);
  // Mixed sizes: whole frames and one message in fragments (over half the ring).
  const sizes = [0, 1, 100, 5000, maxFramePayload(ringSize) + 3000];
  for (const [seq, size] of sizes.entries()) await peer.write({ seed: 31, from: seq, count: 1, size });
  const channel = inspect(name)!;
  expect(channel.health).toBe('healthy');
  expect(channel.problems).toEqual([]);
  expect(channel.livePids.sort()).toEqual([process.pid, peer.pid].sort());
  const [ab, ba] = channel.halves;
  expect(ab!).toMatchObject({ base: 0, writtenBy: 'a', version: ringDescriptor.VERSION, headerSize: 256, ringSize, halfSize: capacity / 2, used: 0 });
  expect(ba!).toMatchObject({ base: capacity / 2, writtenBy: 'b', ringSize });
  expect(ba!.producer).toMatchObject({ pid: peer.pid, state: 'attached', alive: true });
  expect(ba!.consumer).toMatchObject({ pid: process.pid, state: 'attached', alive: true });
  expect(ba!.used).toBe(sizes.reduce((sum, size) => sum + ringBytes(size, ringSize), 0));

  const region = Region.open(name, { access: 'read' });
  try {
    expect(countMessages(region, ba!, ba!.head, ba!.tail)).toEqual({ messages: sizes.length, walked: ba!.used, complete: true });
  } finally {
    region.close();
  }
});

test('countMessages across the ring wrap (padding) counts what went by, and says when a lap was overwritten', async () => {
  const name = uniqueName();
  const capacity = 8192;
  const me = record(new Communicator(name, capacity, { side: 'a' }), false);
  me.comm.startReader();
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  const region = Region.open(name, { access: 'read' });
  try {
    // Move the cursors into the ring, then send less than a ring's worth that crosses its end.
    await peer.write({ seed: 32, count: 25, size: 100 });
    const before = inspectChannel(region)!.halves[1]!;
    const ringSize = before.ringSize;
    let count = 0;
    let total = 0;
    while (total + align(FRAME_HEADER + sizeFor(34, count, 150)) + 256 < ringSize) total += align(FRAME_HEADER + sizeFor(34, count++, 150));
    expect((before.tail % ringSize) + total).toBeGreaterThan(ringSize); // it wraps
    await peer.write({ seed: 34, count, maxSize: 150 });
    const after = inspectChannel(region)!.halves[1]!;
    const counted = countMessages(region, after, before.tail, after.tail);
    expect(counted).toMatchObject({ messages: count, complete: true });
    expect(counted.walked).toBeGreaterThan(total); // the padding frame at the wrap
    // Then many rings' worth: the count is partial, never out of bounds.
    const mid = inspectChannel(region)!.halves[1]!;
    await peer.write({ seed: 33, count: 400, maxSize: 150 });
    const end = inspectChannel(region)!.halves[1]!;
    const partial = countMessages(region, end, mid.tail, end.tail);
    expect(partial.complete).toBe(false);
    expect(partial.messages).toBe(0);
    // From the oldest frame still in the ring: frames of one lap, exactly.
    const recent = countMessages(region, end, end.head, end.tail);
    expect(recent.complete).toBe(true);
  } finally {
    region.close();
  }
});

test('explicit positions: halves found where they are, even off 0', async () => {
  const name = uniqueName();
  const me = record(new Communicator(name, 4096), false);
  me.comm.writePosition = 24;
  me.comm.readPosition = 2000;
  me.comm.startReader();
  await me.comm.stopReader();
  const channel = inspect(name)!;
  expect(channel.problems).toEqual([]);
  expect(channel.halves.map((h) => [h.base, h.halfSize])).toEqual([
    [24, 1976],
    [2000, 2096],
  ]);
});

test('stale once its processes are gone, corrupt with each broken field named, null for a region that is no channel', async () => {
  const name = uniqueName();
  const capacity = 8192;
  const peerA = await Peer.start({ name, capacity, options: { side: 'a' }, start: true });
  const peerB = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
  expect(inspect(name)!.health).toBe('healthy');
  // Held here, so that the region outlives its processes on Windows too (there it goes with its
  // last handle, decisions §27); it attaches nothing, so it is no live party.
  const holder = Region.open(name);
  await peerA.kill();
  await peerB.kill();
  const stale = inspect(name)!;
  expect(stale.health).toBe('stale');
  expect(stale.livePids).toEqual([]);
  expect(stale.halves[0]!.producer).toMatchObject({ state: 'attached', alive: false });

  holder.store(capacity / 2 + 12, 999); // ringSize of half b
  holder.store(64, 8); // tail of half a: ahead of head by 8 — fine
  holder.store(128, 16); // head of half a: past the tail, so used wraps to more than a ring
  holder.store(76, 7); // producerState of half a
  const corrupt = inspect(name)!;
  expect(corrupt.health).toBe('corrupt');
  expect(corrupt.problems).toEqual([
    expect.stringMatching(/^half at 0: tail=8 is \d+ bytes past head=16, more than ringSize=\d+$/),
    'half at 0: producerState=7 expected 0, 1, 2 or CLAIMING | pid',
    expect.stringMatching(/^half at 4096: ringSize=999 expected=\d+ for halfSize=4096$/),
  ]);

  const plain = uniqueName();
  const plainRegion = Region.create(plain, 4096);
  expect(inspect(plain)).toBeNull();
  plainRegion.close();
  Region.unlinkIfExists(plain);
  holder.close();
});
