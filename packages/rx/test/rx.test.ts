import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { firstValueFrom, from, lastValueFrom, retry, take, toArray } from 'rxjs';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region, ShmError } from '@shmlink/native';
import { decodeJson, decodeText, encodeJson, fromCommunicator, openCommunicator, openMessages, writeTo } from '@shmlink/rx';

const CAPACITY = 64 * 1024;
let counter = 0;
let peer: ChildProcess | undefined;
let name = '';
const peerEvents: string[] = [];

function startPeer(): Promise<void> {
  peer = fork(path.join(__dirname, 'fixtures', 'echo-peer.js'), [name, String(CAPACITY)]);
  return new Promise((resolve) => {
    peer!.on('message', (msg: { ready?: boolean; peer?: string }) => {
      if (msg.ready) resolve();
      if (msg.peer !== undefined) peerEvents.push(msg.peer);
    });
  });
}

async function until(check: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  name = `rx${process.pid}-${++counter}`;
  peerEvents.length = 0;
  await startPeer();
});

afterEach(async () => {
  if (peer !== undefined && peer.exitCode === null) {
    peer.kill('SIGKILL');
    await new Promise((r) => peer!.once('exit', r));
  }
  Communicator.unlink(name);
});

afterAll(() => {
  expect(Region.list('rx' + process.pid)).toEqual([]);
});

describe('fromCommunicator', () => {
  it('delivers messages in order and writeTo writes in order', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    try {
      const received = firstValueFrom(fromCommunicator(comm).pipe(decodeText(), take(200), toArray()));
      const values = Array.from({ length: 200 }, (_, i) => `v${i}`);
      const written = await lastValueFrom(from(values).pipe(writeTo(comm), toArray()));
      expect(written).toEqual(values);
      expect(await received).toEqual(values);
    } finally {
      comm.dispose();
    }
  });

  it('adds listeners on subscribe, removes them on teardown, and does not dispose the communicator', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    try {
      const observable = fromCommunicator(comm);
      expect(comm.listenerCount('data')).toBe(0);
      const sub = observable.subscribe();
      expect(comm.listenerCount('data')).toBe(1);
      expect(comm.listenerCount('error')).toBe(1);
      expect(comm.listenerCount('close')).toBe(1);
      expect(comm.readerRunning).toBe(true);
      sub.unsubscribe();
      expect(comm.listenerCount('data')).toBe(0);
      expect(comm.listenerCount('error')).toBe(0);
      expect(comm.listenerCount('close')).toBe(0);
      expect(comm.disposed).toBe(false);
      await until(() => !comm.readerRunning);
      // Messages sent while nobody listens wait in the ring for the next subscriber.
      peer!.send({ send: 3 });
      await new Promise((r) => setTimeout(r, 200));
      const later = await firstValueFrom(fromCommunicator(comm).pipe(decodeText(), take(3), toArray()));
      expect(later).toEqual(['m0', 'm1', 'm2']);
    } finally {
      comm.dispose();
    }
  });

  it("works the same over reader: 'worker': in order, and what arrives between subscribers waits in the ring", async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a', reader: 'worker' });
    try {
      const received = firstValueFrom(fromCommunicator(comm).pipe(decodeText(), take(200), toArray()));
      const values = Array.from({ length: 200 }, (_, i) => `w${i}`);
      await lastValueFrom(from(values).pipe(writeTo(comm), toArray()));
      expect(await received).toEqual(values);
      await until(() => !comm.readerRunning);
      peer!.send({ send: 3 });
      await new Promise((r) => setTimeout(r, 200));
      const later = await firstValueFrom(fromCommunicator(comm).pipe(decodeText(), take(3), toArray()));
      expect(later).toEqual(['m0', 'm1', 'm2']);
    } finally {
      comm.dispose();
    }
  });

  it('sends ERR_CORRUPT from the ring to error', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    try {
      const result = firstValueFrom(fromCommunicator(comm)).catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 100));
      // Garbage in the cursor of the half this side reads (side 'b' writes the upper half).
      const region = Region.open(name);
      region.store(comm.readPosition + ringDescriptor.TAIL_OFFSET, 3);
      region.notify(comm.readPosition + ringDescriptor.TAIL_OFFSET);
      region.close();
      const err = await result;
      expect(err).toBeInstanceOf(ShmError);
      expect((err as ShmError).code).toBe('ERR_CORRUPT');
      expect(comm.disposed).toBe(false);
    } finally {
      comm.dispose();
    }
  });

  it('completes when the communicator is disposed, and at once if it already is', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    const done = lastValueFrom(fromCommunicator(comm).pipe(toArray()));
    comm.dispose();
    expect(await done).toEqual([]);
    expect(await lastValueFrom(fromCommunicator(comm).pipe(toArray()))).toEqual([]);
  });

  it('checks its arguments up front', () => {
    expect(() => fromCommunicator(null as unknown as Communicator)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    try {
      expect(() => fromCommunicator(comm, { bogus: 1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(() => writeTo(undefined as unknown as Communicator)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(() => decodeText('klingon' as BufferEncoding)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    } finally {
      comm.dispose();
    }
  });
});

it('goes on past a message the codec cannot decode when the caller retries', async () => {
  const comm = new Communicator<unknown>(name, CAPACITY, { side: 'a', codec: 'json' });
  try {
    const errors: string[] = [];
    const values = firstValueFrom(
      fromCommunicator(comm).pipe(
        retry({ delay: (err: ShmError) => (errors.push(err.code), Promise.resolve()) }),
        take(1),
      ),
    );
    await until(() => peerEvents.includes('connected'));
    peer!.send({ send: 1 }); // 'm0' is not JSON
    await until(() => errors.length === 1);
    await comm.write({ after: 'the bad one' });
    expect(await values).toEqual({ after: 'the bad one' });
    expect(errors).toEqual(['ERR_CORRUPT']);
  } finally {
    comm.dispose();
  }
});

describe('writeTo', () => {
  it('surfaces a failed write as an error', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    comm.dispose();
    const err = await lastValueFrom(from(['x']).pipe(writeTo(comm))).catch((e: unknown) => e);
    expect((err as ShmError).code).toBe('ERR_CLOSED');
  });

  it('round-trips JSON through encodeJson and decodeJson; non-JSON is ERR_CORRUPT', async () => {
    const comm = new Communicator(name, CAPACITY, { side: 'a' });
    try {
      const objects = [{ a: 1 }, { b: [1, 2, 'three'] }, null];
      const received = firstValueFrom(fromCommunicator(comm).pipe(decodeJson(), take(3), toArray()));
      await lastValueFrom(from(objects).pipe(encodeJson(), writeTo(comm)));
      expect(await received).toEqual(objects);
      const bad = firstValueFrom(fromCommunicator(comm).pipe(decodeJson())).catch((e: unknown) => e);
      await comm.write('{not json');
      expect(((await bad) as ShmError).code).toBe('ERR_CORRUPT');
    } finally {
      comm.dispose();
    }
  });
});

describe('openCommunicator and openMessages', () => {
  it('opens once for several subscribers and disposes after the last leaves', async () => {
    const comm$ = openCommunicator(name, CAPACITY, { side: 'a' });
    const seen: Communicator[] = [];
    const s1 = comm$.subscribe((c) => seen.push(c));
    const s2 = comm$.subscribe((c) => seen.push(c));
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    s1.unsubscribe();
    expect(seen[0]!.disposed).toBe(false);
    s2.unsubscribe();
    expect(seen[0]!.disposed).toBe(true);
  });

  it('shares the messages between subscribers and leaves the region after the last', async () => {
    const messages$ = openMessages(name, CAPACITY, { side: 'a' }).pipe(decodeText());
    const a: string[] = [];
    const b: string[] = [];
    const s1 = messages$.subscribe((m) => a.push(m));
    const s2 = messages$.subscribe((m) => b.push(m));
    await until(() => peerEvents.includes('connected'));
    peer!.send({ send: 5 });
    await until(() => a.length === 5 && b.length === 5);
    expect(a).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(b).toEqual(a);
    s1.unsubscribe();
    s2.unsubscribe();
    await until(() => peerEvents.includes('disconnected'));
  });

  it('sends an opening failure to error', async () => {
    const err = await firstValueFrom(openMessages('bad/name', CAPACITY)).catch((e: unknown) => e);
    expect((err as ShmError).code).toBe('ERR_INVALID_NAME');
  });
});
