// A persisted channel ({ path }): unread messages outlive every process, even SIGKILLed ones, and
// are delivered once, in order, to the next reader; a write torn by a kill is never delivered.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Communicator } from '@shmlink/core';

interface Received {
  i: number;
  ok: boolean;
}

let counter = 0;
let name = '';
let file = '';
const children = new Set<ChildProcess>();

function start(side: string, ...args: string[]): ChildProcess {
  const child = fork(path.join(__dirname, 'fixtures', 'persisted-peer.js'), [name, file, side, ...args]);
  children.add(child);
  return child;
}

function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m[key] as T);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before '${key}'`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

beforeEach(() => {
  name = `per${process.pid}-${++counter}`;
  file = path.join(os.tmpdir(), `${name}.shm`);
});

afterEach(async () => {
  await Promise.all([...children].map(kill));
  children.clear();
  Communicator.unlink(name, { path: file });
});

test('SIGKILL both sides with messages unread: a restarted reader gets every message once, in order', async () => {
  const writer = start('a', 'write', '0', '300');
  expect(await message<number>(writer, 'committed')).toBe(300);
  const reader = start('b', 'read', '300');
  const first = await message<Received[]>(reader, 'received');
  await kill(reader);
  // 700 more that nobody reads, then both sides die.
  writer.send({ write: [300, 700] });
  expect(await message<number>(writer, 'committed')).toBe(700);
  await kill(writer);
  expect(fs.existsSync(file)).toBe(true);

  const writer2 = start('a', 'write', '1000', '10');
  expect(await message<number>(writer2, 'committed')).toBe(10);
  await kill(writer2);
  const reader2 = start('b', 'read', '710');
  const rest = await message<Received[]>(reader2, 'received');
  const all = [...first, ...rest];
  expect(all.every((m) => m.ok)).toBe(true);
  expect(all.map((m) => m.i)).toEqual(Array.from({ length: 1010 }, (_, i) => i));
});

test('a writer killed mid-stream leaves only whole messages; its torn last write is discarded', async () => {
  // The reader consumes while the writer streams, so the kill lands during writes, not in a wait.
  const reader = new Communicator(name, 64 * 1024, { side: 'b', path: file });
  const got: Buffer[] = [];
  reader.on('data', (d) => got.push(Buffer.from(d)));
  reader.startReader();
  const writer = start('a', 'stream', '3000');
  await message(writer, 'streaming');
  await new Promise((r) => setTimeout(r, 100));
  await kill(writer);
  await new Promise((r) => setTimeout(r, 300));
  reader.dispose();
  expect(got.length).toBeGreaterThanOrEqual(20);
  got.forEach((d, index) => {
    expect(d.readUInt32LE(0)).toBe(index);
    expect(d.length).toBe(3000);
    const sum = d.subarray(12).reduce((x, y) => (x * 31 + y) >>> 0, 7);
    expect(sum).toBe(d.readUInt32LE(8));
  });
});

test('the file outlives every side, flush() writes it to disk, and open() reads the capacity from it', async () => {
  const a = new Communicator(name, 64 * 1024, { side: 'a', path: file });
  await a.write('kept on disk');
  a.flush();
  a.dispose();
  expect(fs.statSync(file).size).toBe(64 * 1024);
  const b = Communicator.open(name, { side: 'b', path: file });
  const text = await new Promise<string>((resolve) => {
    b.once('data', (d) => resolve(d.toString()));
    b.startReader();
  });
  expect(text).toBe('kept on disk');
  expect(b.capacity).toBe(64 * 1024);
  b.dispose();
  expect(fs.existsSync(file)).toBe(true);
  expect(Communicator.unlink(name, { path: file })).toBe(true);
  expect(fs.existsSync(file)).toBe(false);
});
