import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Communicator, type Codec, type ShmError } from '@shmlink/core';

let counter = 0;
let name = '';
let peer: ChildProcess | undefined;
let comm: Communicator<unknown> | undefined;

function startPeer(codec: string): Promise<void> {
  peer = fork(path.join(__dirname, 'fixtures', 'codec-peer.js'), [name, codec]);
  return new Promise((resolve) => peer!.on('message', (m: { ready?: boolean }) => m.ready && resolve()));
}

function next<T>(c: Communicator<T>): Promise<T> {
  return new Promise((resolve) => c.once('data', resolve));
}

beforeEach(() => {
  name = `cod${process.pid}-${++counter}`;
});

afterEach(async () => {
  comm?.dispose();
  comm = undefined;
  if (peer !== undefined && peer.exitCode === null && peer.signalCode === null) {
    const exited = new Promise((r) => peer!.once('exit', r));
    peer.kill('SIGKILL');
    await exited;
  }
  peer = undefined;
  Communicator.unlink(name);
});

it('structured clone carries Map, Set, Date, typed arrays and BigInt across processes', async () => {
  comm = new Communicator<unknown>(name, 65536, { side: 'a', codec: 'structured' });
  comm.startReader();
  await startPeer('structured');
  const value = {
    map: new Map<string, number>([['one', 1], ['two', 2]]),
    set: new Set(['x', 'y']),
    when: new Date('2026-11-26T12:00:00Z'),
    floats: new Float64Array([1.5, -2.25]),
    big: 12345678901234567890n,
    nested: { text: 'héllo ✓', list: [1, null, 'three'] },
  };
  const echoed = next(comm);
  await comm.write(value);
  const back = (await echoed) as typeof value;
  // Deserialised values belong to Node's realm, not jest's: compare kinds and bytes, not prototypes.
  const kind = (v: unknown): string => Object.prototype.toString.call(v);
  expect([kind(back.map), kind(back.set), kind(back.when), kind(back.floats), typeof back.big]).toEqual([
    '[object Map]',
    '[object Set]',
    '[object Date]',
    '[object Float64Array]',
    'bigint',
  ]);
  expect(Array.from(back.map.entries())).toEqual([['one', 1], ['two', 2]]);
  expect(Array.from(back.set.values())).toEqual(['x', 'y']);
  expect(back.when.getTime()).toBe(value.when.getTime());
  expect(Array.from(back.floats)).toEqual([1.5, -2.25]);
  expect(back.big).toBe(value.big);
  expect(JSON.stringify(back.nested)).toBe(JSON.stringify(value.nested));
});

it('json and text codecs round-trip, and a message that fails to decode is ERR_CORRUPT while the stream goes on', async () => {
  comm = new Communicator<unknown>(name, 65536, { side: 'a', codec: 'json' });
  const errors: ShmError[] = [];
  comm.on('error', (e) => errors.push(e));
  comm.startReader();
  await startPeer('bytes');
  const first = next(comm);
  await comm.write({ a: 1, b: ['x', true] });
  expect(await first).toEqual({ a: 1, b: ['x', true] });

  // Bytes that are not JSON, written by the peer's plain bytes communicator.
  const bad = new Promise<ShmError>((resolve) => comm!.once('error', resolve));
  peer!.send({ say: '{not json' });
  expect((await bad).code).toBe('ERR_CORRUPT');
  const after = next(comm);
  peer!.send({ say: '[1,2,3]' });
  expect(await after).toEqual([1, 2, 3]);
  errors.length = 0;
  expect(errors).toEqual([]);
});

it('a custom codec is used both ways; its decode failure is reported and skipped', async () => {
  const upper: Codec<string> = {
    encode: (s) => Buffer.from(s.toUpperCase(), 'utf8'),
    decode: (b) => {
      const text = b.toString('utf8');
      if (text.startsWith('BAD')) throw new Error('refused');
      return text;
    },
  };
  const mine = new Communicator(name, 65536, { side: 'a', codec: upper });
  comm = mine as Communicator<unknown>;
  const errors: ShmError[] = [];
  const values: string[] = [];
  mine.on('error', (e) => errors.push(e));
  mine.on('data', (v) => values.push(v));
  mine.startReader();
  await startPeer('text');
  await mine.write('bad one');
  await mine.write('good one');
  const deadline = Date.now() + 5000;
  while (values.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(values).toEqual(['GOOD ONE']);
  expect(errors.map((e) => e.code)).toEqual(['ERR_CORRUPT']);
});

it('checks codec and values up front', async () => {
  expect(() => new Communicator(name, 65536, { codec: 'yaml' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  const text = new Communicator<string>(name, 65536, { side: 'a', codec: 'text' });
  try {
    await expect(text.write(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const json = new Communicator<unknown>(`${name}j`, 65536, { side: 'a', codec: 'json' });
    await expect(json.write(undefined)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    json.dispose();
    Communicator.unlink(`${name}j`);
  } finally {
    text.dispose();
  }
});
