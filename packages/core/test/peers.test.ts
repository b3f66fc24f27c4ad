// Peer events over real processes: connect, orderly leave, SIGKILL, restart — and a restart that
// neither replays what the old incarnation received nor loses what it left unread.
import { Communicator } from '@shmlink/core';
import { StreamChecker } from './fixtures/messages';
import { Peer, cleanup, leftovers, record, sleep, uniqueName, waitFor, writeStream, type Recorded } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const capacity = 8192;

function types(rec: Recorded): string[] {
  return rec.peers.map((e) => e.type);
}

test.each(['event-loop', 'worker'] as const)('reader %s: connected, disconnected after dispose(), connected again, died after SIGKILL, restarted; peerPid follows', async (reader) => {
  const name = uniqueName();
  const me = record(new Communicator(name, capacity, { side: 'a', reader }));
  me.comm.startReader();
  expect(me.comm.peerPid).toBeNull();

  const first = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
  await waitFor(() => me.peers.length === 1, "the first peer's arrival");
  expect(me.peers[0]).toEqual({ type: 'connected', pid: first.pid });
  expect(me.comm.peerPid).toBe(first.pid);
  // The peer sees us too.
  await waitFor(() => first.peerEvents().length === 1, 'our arrival, seen by the peer');
  expect(first.events[0]).toMatchObject({ event: 'peer', type: 'connected', pid: process.pid });
  await first.write({ seed: 3, count: 5, size: 20 });
  await waitFor(() => me.data.length === 5, 'its messages');

  await first.call('dispose');
  await waitFor(() => me.peers.length === 2, "the first peer's leave");
  expect(me.peers[1]).toEqual({ type: 'disconnected', pid: first.pid });
  expect(me.comm.peerPid).toBeNull();
  await first.kill();

  const second = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
  await waitFor(() => me.peers.length === 3, "the second peer's arrival");
  expect(me.peers[2]).toEqual({ type: 'connected', pid: second.pid });

  await second.kill('SIGKILL');
  await waitFor(() => me.peers.length === 4, "the second peer's death");
  expect(me.peers[3]).toEqual({ type: 'died', pid: second.pid });

  const third = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
  await waitFor(() => me.peers.length === 5, 'the restart');
  expect(me.peers[4]).toEqual({ type: 'restarted', pid: third.pid });
  expect(me.comm.peerPid).toBe(third.pid);
  await sleep(300);
  expect(types(me)).toEqual(['connected', 'disconnected', 'connected', 'died', 'restarted']);
  expect(me.errors).toEqual([]);
});

test('a peer that only writes is seen as well (its reader never started)', async () => {
  const name = uniqueName();
  const me = record(new Communicator(name, capacity, { side: 'a' }));
  me.comm.startReader();
  const peer = await Peer.start({ name, capacity, options: { side: 'b' } });
  await sleep(300);
  expect(me.peers).toEqual([]); // not attached until it starts reading or writes
  await peer.write({ seed: 1, count: 1, size: 10 });
  await waitFor(() => me.data.length === 1, 'the message');
  expect(me.peers).toEqual([{ type: 'connected', pid: peer.pid }]);
});

test('a second process cannot take a side that a live process holds', async () => {
  const name = uniqueName();
  const me = record(new Communicator(name, capacity, { side: 'a' }));
  me.comm.startReader();
  const peer = await Peer.start({ name, capacity, options: { side: 'b' }, start: true });
  // Side 'b' is held by the live peer; a third party asking for it is refused.
  await expect(Peer.start({ name, capacity, options: { side: 'b' }, start: true })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  // Without a side, a third party finds both sides taken.
  await expect(Peer.start({ name, capacity, start: true })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  // In this process too.
  const third = record(new Communicator(name, capacity, { side: 'b' }));
  expect(() => third.comm.startReader()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));

  expect(peer.alive).toBe(true);
});

describe('restart without replay', () => {
  test('a restarted reader gets exactly the unread messages, none of those its predecessor received', async () => {
    const name = uniqueName();
    const me = record(new Communicator(name, capacity, { side: 'a' }));
    me.comm.startReader();
    const old = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 3, size: 200 }, start: true });
    await writeStream(me.comm, { seed: 3, count: 10, size: 200 });
    await old.call('received', { count: 10 });
    expect((await old.stats()).firstProblem).toBeNull();
    await old.kill('SIGKILL');
    await waitFor(() => types(me).includes('died'), 'the death');

    // Written while nobody reads: they wait in the ring for the next incarnation.
    await writeStream(me.comm, { seed: 3, from: 10, count: 15, size: 200 });
    // The new incarnation expects seq 10 first: a replay of 0..9 would fail its check.
    const next = await Peer.start({ name, capacity, options: { side: 'b' }, verify: { seed: 3, size: 200, from: 10 }, start: true });
    await waitFor(() => types(me).includes('restarted'), 'the restart');
    await next.call('received', { count: 15 });
    await writeStream(me.comm, { seed: 3, from: 25, count: 5, size: 200 });
    await next.call('received', { count: 20 });
    await sleep(200);
    const stats = await next.stats();
    expect(stats.received).toBe(20);
    expect(stats.firstProblem).toBeNull();
    expect(types(me)).toEqual(['connected', 'died', 'restarted']);
  });

  test('a restarted writer continues after what its predecessor committed: nothing overwritten, nothing twice', async () => {
    const name = uniqueName();
    const me = record(new Communicator(name, capacity, { side: 'a' }), false);
    const checker = new StreamChecker(4, { size: 300 });
    me.comm.on('data', (d) => checker.push(d));
    const old = await Peer.start({ name, capacity, options: { side: 'b' } });
    await old.write({ seed: 4, count: 10, size: 300 }); // unread: our reader has not started
    await old.kill('SIGKILL');
    const next = await Peer.start({ name, capacity, options: { side: 'b' } });
    // Behind the unread ones; most wait for space until our reader starts.
    const writing = next.write({ seed: 4, from: 10, count: 10, size: 300 });
    await sleep(100);
    me.comm.startReader();
    await writing;
    await waitFor(() => checker.next >= 20, 'both incarnations\' messages');
    await next.write({ seed: 4, from: 20, count: 5, size: 300 });
    await waitFor(() => checker.next >= 25, 'the last messages');
    await sleep(200);
    expect(checker.next).toBe(25);
    expect(checker.firstProblem).toBeNull();
    expect(me.peers).toEqual([{ type: 'connected', pid: next.pid }]);
  });
});
