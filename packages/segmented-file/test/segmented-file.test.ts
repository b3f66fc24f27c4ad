// SegmentedFile (MmFile of seed 004, a .NET memory-mapped-file article; docs/seeds.md): create/open error cases, segment order and capacity, corrupt
// headers and lengths, the mutex, a persisted file reopened by another process, and the seed's
// MmfSource / MmfDestination flow across real processes. uniqueName() names everything here.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { NamedMutex, Region, ShmError, isShmError, maxNameLength } from '@shmlink/native';
import { SegmentedFile, SegmentedFileError, uniqueName, type SegmentedFileErrorCode, type SegmentedFileOptions } from '@shmlink/segmented-file';

const DESTINATION = path.join(__dirname, 'fixtures', 'mmf-destination.js');
const HEADER = 64;
const SHM_DIR = '/dev/shm';

const names = new Set<string>();
const handles = new Set<{ close(): void }>();
const dirs = new Set<string>();

/** A fresh name that afterEach removes (the file, its mutex, stray raw regions). */
function fresh(): string {
  const name = uniqueName('sft');
  names.add(name);
  return name;
}

function track<T extends { close(): void }>(handle: T): T {
  handles.add(handle);
  return handle;
}

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-sf-'));
  dirs.add(dir);
  return path.join(dir, 'file.sf');
}

/**
 * What exists for `name`: its region and its mutex, as /dev/shm names them. Windows has no such
 * directory: Region.list() reports the live regions, and the (kernel) mutex exists if it opens.
 */
function shmObjectsOf(name: string): string[] {
  if (process.platform !== 'win32') return fs.readdirSync(SHM_DIR).filter((f) => f === name || f === `shmlink.mx.${name}`);
  const found = Region.list(name).filter((f) => f === name);
  try {
    NamedMutex.open(name).close();
    found.push(`shmlink.mx.${name}`);
  } catch (err) {
    if (!(err instanceof ShmError && err.code === 'ERR_SHM_NOT_FOUND')) throw err;
  }
  return found;
}

/** What `fn` throws (undefined when it returns). */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function codeOf(fn: () => unknown): string | undefined {
  const err = errorOf(fn);
  if (err === undefined) return undefined;
  expect(err).toBeInstanceOf(ShmError);
  return (err as ShmError).code;
}

async function codeOfAsync(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ShmError);
    return (err as ShmError).code;
  }
  return undefined;
}

/** Runs fixtures/mmf-destination.js in a new process; resolves with its exit code and stderr. */
function runDestination(name: string, options?: SegmentedFileOptions): Promise<{ code: number | null; stderr: string }> {
  const args = options === undefined ? [name] : [name, JSON.stringify(options)];
  const child = fork(DESTINATION, args, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': the exit can come before the last of stderr is read.
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

afterEach(() => {
  for (const handle of handles) handle.close();
  handles.clear();
  for (const name of names) {
    SegmentedFile.unlinkIfExists(name);
    NamedMutex.unlink(name);
    Region.unlinkIfExists(name);
  }
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs.clear();
});

afterAll(() => {
  const left = [...names].flatMap(shmObjectsOf);
  expect(left).toEqual([]);
});

describe('uniqueName()', () => {
  test('letters and digits only, distinct, short enough for macOS with the mutex prefix', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const name = uniqueName();
      expect(name).toMatch(/^sl[A-Za-z0-9]{12}$/);
      seen.add(name);
    }
    expect(seen.size).toBe(2000);
    // macOS: 31 bytes including '/' and 'shmlink.mx.'.
    expect(1 + 'shmlink.mx.'.length + uniqueName().length).toBeLessThanOrEqual(31);
    expect(uniqueName('run7')).toMatch(/^run7[A-Za-z0-9]{12}$/);
    expect(uniqueName('')).toMatch(/^[A-Za-z0-9]{12}$/);
  });

  test('refuses a prefix with other characters or without room for the random part', () => {
    expect(codeOf(() => uniqueName('a.b'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => uniqueName('a-b'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => uniqueName(42 as unknown as string))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => uniqueName('x'.repeat(maxNameLength - 11)))).toBe('ERR_INVALID_ARGUMENT');
    expect(uniqueName('x'.repeat(maxNameLength - 12))).toHaveLength(maxNameLength);
  });
});

describe('create / open', () => {
  test('create is CreateNew (ERR_SHM_EXISTS), open is OpenExisting (ERR_SHM_NOT_FOUND)', () => {
    const name = fresh();
    expect(codeOf(() => SegmentedFile.open(name))).toBe('ERR_SHM_NOT_FOUND');
    const file = track(SegmentedFile.create(name, 1024));
    expect(file.created).toBe(true);
    expect(file.capacity).toBe(1024);
    expect(file.count).toBe(0);
    expect(file.synchronized).toBe(true);
    expect(file.persisted).toBe(false);
    expect(codeOf(() => SegmentedFile.create(name, 1024))).toBe('ERR_SHM_EXISTS');
    const other = track(SegmentedFile.open(name));
    expect(other.created).toBe(false);
    expect(other.capacity).toBe(1024);
    // The region and the mutex named after it, nothing else.
    expect(shmObjectsOf(name).sort()).toEqual([name, `shmlink.mx.${name}`]);
  });

  test('createOrOpen creates, then opens; a different capacity is ERR_LAYOUT_MISMATCH', () => {
    const name = fresh();
    const a = track(SegmentedFile.createOrOpen(name, 256));
    a.write(0, 'first');
    const b = track(SegmentedFile.createOrOpen(name, 256));
    expect([a.created, b.created]).toEqual([true, false]);
    expect(b.readText(0)).toBe('first');
    expect(codeOf(() => SegmentedFile.createOrOpen(name, 512))).toBe('ERR_LAYOUT_MISMATCH');
  });

  test('bad arguments fail before anything is created', () => {
    const name = fresh();
    expect(codeOf(() => SegmentedFile.create(name, -1))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create(name, 1.5))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create(name, 2 ** 31))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create(name, 64, { size: 3 } as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create(name, 64, { synchronize: 'yes' } as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create(name, 64, { lockTimeoutMs: -1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.open(name, { mode: 0o644 } as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SegmentedFile.create('../etc', 64))).toBe('ERR_INVALID_NAME');
    expect(codeOf(() => SegmentedFile.create('', 64))).toBe('ERR_INVALID_NAME');
    expect(shmObjectsOf(name)).toEqual([]);
  });

  test('opening something that is not a segmented file is ERR_LAYOUT_MISMATCH', () => {
    const small = fresh();
    track(Region.create(small, 16));
    expect(codeOf(() => SegmentedFile.open(small))).toBe('ERR_LAYOUT_MISMATCH');
    const other = fresh();
    const raw = track(Region.create(other, 256));
    raw.store(0, 0x12345678); // another magic, with a version present
    raw.store(4, 1);
    expect(codeOf(() => SegmentedFile.open(other))).toBe('ERR_LAYOUT_MISMATCH');
    const newer = fresh();
    track(SegmentedFile.create(newer, 64));
    track(Region.open(newer)).store(4, 2); // a later layout version
    expect(codeOf(() => SegmentedFile.open(newer))).toBe('ERR_LAYOUT_MISMATCH');
  });

  test('unlink removes the region and its mutex; open handles keep working until closed', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 128));
    file.write(0, 'kept');
    SegmentedFile.unlink(name);
    // A Windows mutex is a kernel object without unlink: it goes with its last handle, this one's
    // (decisions §32); the region's name is gone at once on both.
    expect(shmObjectsOf(name)).toEqual(process.platform === 'win32' ? [`shmlink.mx.${name}`] : []);
    expect(codeOf(() => SegmentedFile.open(name))).toBe('ERR_SHM_NOT_FOUND');
    expect(file.readText(0)).toBe('kept');
    expect(codeOf(() => SegmentedFile.unlink(name))).toBe('ERR_SHM_NOT_FOUND');
    expect(SegmentedFile.unlinkIfExists(name)).toBe(false);
    file.close();
    expect(file.closed).toBe(true);
    expect(shmObjectsOf(name)).toEqual([]);
    expect(codeOf(() => file.read(0))).toBe('ERR_CLOSED');
    expect(codeOf(() => file.write(1, 'x'))).toBe('ERR_CLOSED');
    expect(codeOf(() => file.count)).toBe('ERR_CLOSED');
    file.close(); // idempotent
  });

  test('synchronize: false uses no mutex at all', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 128, { synchronize: false }));
    expect(file.synchronized).toBe(false);
    expect(shmObjectsOf(name)).toEqual([name]);
    file.write(0, 'a');
    expect(track(SegmentedFile.open(name, { synchronize: false })).readText(0)).toBe('a');
    expect(shmObjectsOf(name)).toEqual([name]);
  });
});

describe('write / read', () => {
  test('strings as UTF-8, bytes as given, empty segments; another handle sees every append', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 4096));
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    file.write(0, 'héllo wörld ✓');
    file.write(1, bytes);
    file.write(2, '');
    expect(file.append(Buffer.from('appended'))).toBe(3);
    expect(file.count).toBe(4);
    expect(file.bytesUsed).toBe(4 * 4 + Buffer.byteLength('héllo wörld ✓') + 6 + 0 + 8);
    expect(file.readText(0)).toBe('héllo wörld ✓');
    expect([...file.read(1)]).toEqual([...bytes]);
    expect(file.read(2)).toHaveLength(0);
    expect(file.readText(2)).toBe('');
    const other = track(SegmentedFile.open(name));
    // Any existing segment, in any order (the seed allows random reads of existing segments).
    expect(other.readText(3)).toBe('appended');
    expect(other.readText(0)).toBe('héllo wörld ✓');
    other.write(4, 'from the other handle');
    expect(file.count).toBe(5);
    expect(file.readText(4)).toBe('from the other handle');
    // A copy, never a view of the mapping.
    const copy = file.read(4);
    copy.fill(0);
    expect(other.readText(4)).toBe('from the other handle');
  });

  test('only the next segment number is accepted: ERR_SEGMENT_ORDER', () => {
    const file = track(SegmentedFile.create(fresh(), 256));
    expect(codeOf(() => file.write(1, 'skips 0'))).toBe('ERR_SEGMENT_ORDER');
    file.write(0, 'zero');
    expect(codeOf(() => file.write(0, 'overwrite'))).toBe('ERR_SEGMENT_ORDER');
    expect(codeOf(() => file.write(2, 'skips 1'))).toBe('ERR_SEGMENT_ORDER');
    file.write(1, 'one');
    expect(file.count).toBe(2);
    expect(file.readText(0)).toBe('zero');
    expect(codeOf(() => file.write(-1, 'x'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => file.write(1.5, 'x'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => file.write(2, 42 as unknown as string))).toBe('ERR_INVALID_ARGUMENT');
  });

  test('ERR_CAPACITY when 4 + length bytes do not fit; a failed write changes nothing', () => {
    const file = track(SegmentedFile.create(fresh(), 20));
    file.write(0, 'x'.repeat(12)); // 4 + 12 = 16 of 20
    expect(codeOf(() => file.write(1, 'xy'))).toBe('ERR_CAPACITY'); // needs 6, 4 free
    expect(file.count).toBe(1);
    expect(file.bytesUsed).toBe(16);
    file.write(1, ''); // exactly the 4 bytes left
    expect(file.bytesUsed).toBe(20);
    expect(codeOf(() => file.write(2, ''))).toBe('ERR_CAPACITY');
    expect(file.readText(0)).toBe('x'.repeat(12));
    const empty = track(SegmentedFile.create(fresh(), 0));
    expect(codeOf(() => empty.write(0, ''))).toBe('ERR_CAPACITY');
  });

  test("the segmented file's own codes come as a SegmentedFileError, which is a ShmError", () => {
    const file = track(SegmentedFile.create(fresh(), 64));
    let caught = errorOf(() => file.read(0));
    expect(caught).toBeInstanceOf(SegmentedFileError);
    expect(caught).toBeInstanceOf(ShmError);
    expect(isShmError<SegmentedFileErrorCode>(caught, 'ERR_SEGMENT_NOT_FOUND')).toBe(true);
    expect(isShmError<SegmentedFileErrorCode>(caught, 'ERR_CAPACITY')).toBe(false);
    expect((caught as Error).name).toBe('SegmentedFileError');
    // The codes it shares with the other packages stay plain ShmErrors.
    file.close();
    caught = errorOf(() => file.read(0));
    expect(isShmError(caught, 'ERR_CLOSED')).toBe(true);
    // @ts-expect-error: ERR_CAPACITY is not in @shmlink/native's list; isShmError must be told the list it is in.
    expect(isShmError(caught, 'ERR_CAPACITY')).toBe(false);
    expect(caught).not.toBeInstanceOf(SegmentedFileError);
  });

  test('ERR_SEGMENT_NOT_FOUND beyond the end', () => {
    const file = track(SegmentedFile.create(fresh(), 64));
    expect(codeOf(() => file.read(0))).toBe('ERR_SEGMENT_NOT_FOUND');
    file.write(0, 'a');
    expect(codeOf(() => file.read(1))).toBe('ERR_SEGMENT_NOT_FOUND');
    expect(codeOf(() => file.read(-1))).toBe('ERR_INVALID_ARGUMENT');
  });

  test('async variants, several at once on one handle, run in call order', async () => {
    const file = track(SegmentedFile.create(fresh(), 1024));
    const results = await Promise.all([
      file.writeAsync(0, 'a'),
      file.writeAsync(1, 'b'),
      file.appendAsync('c'),
      file.readTextAsync(1),
      file.readAsync(2),
    ]);
    expect(results[2]).toBe(2);
    expect(results[3]).toBe('b');
    expect((results[4] as Buffer).toString()).toBe('c');
    expect(await codeOfAsync(file.writeAsync(0, 'again'))).toBe('ERR_SEGMENT_ORDER');
    expect(await codeOfAsync(file.readAsync(9))).toBe('ERR_SEGMENT_NOT_FOUND');
    expect(await codeOfAsync(file.writeAsync(-1, 'x'))).toBe('ERR_INVALID_ARGUMENT');
    // A rejected call does not stall the queue.
    await file.writeAsync(3, 'd');
    expect(file.count).toBe(4);
  });
});

describe('corrupt contents → ERR_CORRUPT', () => {
  test('header words out of range', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 128));
    file.write(0, 'abc');
    const raw = track(Region.open(name));
    raw.store(16, 129); // used > capacity
    expect(codeOf(() => file.count)).toBe('ERR_CORRUPT');
    expect(codeOf(() => file.read(0))).toBe('ERR_CORRUPT');
    expect(codeOf(() => file.write(1, 'x'))).toBe('ERR_CORRUPT');
    raw.store(16, 7);
    raw.store(12, 1000); // more segments than could fit in used
    expect(codeOf(() => file.count)).toBe('ERR_CORRUPT');
    raw.store(12, 2); // a plausible count whose second segment does not exist
    expect(codeOf(() => track(SegmentedFile.open(name)).read(1))).toBe('ERR_CORRUPT');
    raw.store(12, 1);
    expect(file.readText(0)).toBe('abc');
    raw.store(8, 4096); // capacity field disagrees with the mapping
    expect(codeOf(() => SegmentedFile.open(name))).toBe('ERR_CORRUPT');
  });

  test('segment lengths out of range, for a fresh handle and for one that indexed them already', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 128));
    file.write(0, 'first');
    file.write(1, 'second');
    expect(file.readText(1)).toBe('second');
    const raw = track(Region.open(name));
    const setLength = (at: number, value: number): void => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value, 0);
      raw.write(HEADER + at, b);
    };
    for (const bad of [0x7fffffff, -5, 200, 16]) {
      setLength(0, bad); // 16: within capacity, but beyond the bytes in use
      expect(codeOf(() => track(SegmentedFile.open(name)).read(1))).toBe('ERR_CORRUPT');
      expect(codeOf(() => file.read(0))).toBe('ERR_CORRUPT');
    }
    setLength(0, 5);
    expect(file.readText(0)).toBe('first');
    setLength(9, 1000); // segment 1's prefix
    expect(codeOf(() => file.read(1))).toBe('ERR_CORRUPT');
    expect(codeOf(() => track(SegmentedFile.open(name)).read(1))).toBe('ERR_CORRUPT');
  });

  test('an append torn before its commit is overwritten by the next one', () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 128));
    file.write(0, 'committed');
    const raw = track(Region.open(name));
    // A writer died after storing `used`, before storing `count`: its bytes are not a segment.
    raw.write(HEADER + 13, Buffer.from([99, 0, 0, 0, 1, 2, 3]));
    raw.store(16, 13 + 7);
    expect(file.count).toBe(1);
    expect(codeOf(() => file.read(1))).toBe('ERR_SEGMENT_NOT_FOUND');
    track(SegmentedFile.open(name)).write(1, 'next');
    expect(file.readText(1)).toBe('next');
    expect(file.bytesUsed).toBe(13 + 8);
  });
});

describe('synchronization', () => {
  test('a held mutex: sync calls on the main thread give up after a bounded wait, async ones wait for it', async () => {
    const name = fresh();
    const file = track(SegmentedFile.create(name, 256));
    const holder = track(NamedMutex.open(name));
    expect(holder.tryLock()).not.toBeNull();
    const t0 = performance.now();
    expect(codeOf(() => file.write(0, 'blocked'))).toBe('ERR_TIMEOUT');
    expect(codeOf(() => file.read(0))).toBe('ERR_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(1500); // two waits of at most 100 ms each, on a loaded machine
    expect(file.count).toBe(0); // count is one atomic load: no lock
    const pending = file.writeAsync(0, 'waited');
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(settled).toBe(false);
    holder.unlock();
    await pending;
    expect(file.readText(0)).toBe('waited');
    // lockTimeoutMs bounds the async wait too.
    const impatient = track(SegmentedFile.open(name, { lockTimeoutMs: 50 }));
    holder.tryLock();
    expect(await codeOfAsync(impatient.readAsync(0))).toBe('ERR_TIMEOUT');
    holder.unlock();
    expect(await impatient.readTextAsync(0)).toBe('waited');
  });

  test('in a worker thread a sync write sleeps on the mutex until it is released', async () => {
    const name = fresh();
    track(SegmentedFile.create(name, 256));
    const holder = track(NamedMutex.open(name));
    holder.tryLock();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { SegmentedFile } = require(workerData.segmentedFile);
       const file = SegmentedFile.open(workerData.name, { lockTimeoutMs: 10000 });
       parentPort.postMessage('writing');
       const t0 = performance.now();
       file.write(0, 'from a worker');
       parentPort.postMessage(performance.now() - t0);
       file.close();`,
      { eval: true, workerData: { name, segmentedFile: require.resolve('@shmlink/segmented-file') } },
    );
    const message = (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    // Timed from the worker's write, not its start: starting a worker on a loaded machine can take
    // most of the 400 ms.
    expect(await message()).toBe('writing');
    const waited = message() as Promise<number>;
    await new Promise((r) => setTimeout(r, 400));
    holder.unlock();
    // Longer than the main thread's 100 ms budget: the worker slept in NamedMutex.lock.
    expect(await waited).toBeGreaterThan(250);
    await worker.terminate();
    expect(track(SegmentedFile.open(name)).readText(0)).toBe('from a worker');
  });
});

test('writers in several threads append at once: the mutex keeps every segment whole', async () => {
  const name = fresh();
  const file = track(SegmentedFile.create(name, 256 * 1024));
  const perWriter = 150;
  // Worker threads have their own handles, excluded from each other like processes; half of them
  // use the blocking append (NamedMutex.lock), half appendAsync (lockAsync).
  const writers = [0, 1, 2, 3].map(
    (id) =>
      new Worker(
        `const { workerData } = require('node:worker_threads');
         const { SegmentedFile } = require(workerData.segmentedFile);
         (async () => {
           const file = SegmentedFile.open(workerData.name);
           for (let seq = 0; seq < workerData.count; seq++) {
             const text = 'w' + workerData.id + ':' + seq + ':' + 'x'.repeat((seq * 37) % 300);
             if (workerData.id % 2 === 0) file.append(text); else await file.appendAsync(text);
           }
           file.close();
         })();`,
        { eval: true, workerData: { name, id, count: perWriter, segmentedFile: require.resolve('@shmlink/segmented-file') } },
      ),
  );
  await Promise.all(writers.map((w) => new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject))));
  expect(file.count).toBe(4 * perWriter);
  const next = [0, 0, 0, 0];
  for (let i = 0; i < file.count; i++) {
    const [w, seq, padding] = file.readText(i).split(':') as [string, string, string];
    const id = Number(w.slice(1));
    // Each writer's segments appear in its own order, intact.
    expect(Number(seq)).toBe(next[id]);
    expect(padding).toBe('x'.repeat((Number(seq) * 37) % 300));
    next[id]!++;
  }
  expect(next).toEqual([perWriter, perWriter, perWriter, perWriter]);
});

describe('across processes', () => {
  const tasks = [
    { id: 't1', name: 'Resize images', priority: 2 },
    { id: 't2', name: 'Rebuild index', priority: 1 },
    { id: 't3', name: 'Send report', priority: 3 },
  ];

  function expectResult(file: SegmentedFile, inputs: Buffer[], segmentsBefore: Buffer[]): { pid: number } {
    const result = JSON.parse(file.readText(segmentsBefore.length)) as {
      pid: number;
      task: { id: string; status: string };
      inputBytes: number;
      checksum: number;
      echo: string[];
    };
    let checksum = 0;
    for (const input of inputs) for (const byte of input) checksum = (checksum * 31 + byte) >>> 0;
    expect(result.task).toEqual({ ...tasks[1], status: 'completed' });
    expect(result.inputBytes).toBe(inputs.reduce((n, b) => n + b.length, 0));
    expect(result.checksum).toBe(checksum);
    expect(result.echo).toEqual(segmentsBefore.map((s) => s.toString('base64')));
    return result;
  }

  test("the seed's MmfSource / MmfDestination flow: the child gets the name on its command line and appends a result", async () => {
    const name = uniqueName();
    names.add(name);
    const source = track(SegmentedFile.create(name, 64 * 1024));
    const inputs = [Buffer.from('input one'), Buffer.alloc(5000, 7), Buffer.from([0, 255, 128])];
    source.write(0, JSON.stringify(tasks));
    source.write(1, 't2');
    inputs.forEach((input, i) => source.write(2 + i, input));
    const before = Array.from({ length: source.count }, (_, i) => source.read(i));

    const { code, stderr } = await runDestination(name);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    expect(source.count).toBe(before.length + 1);
    const result = expectResult(source, inputs, before);
    expect(result.pid).not.toBe(process.pid);
    // The source, as the creator, removes the file and its mutex when the destination is done.
    // Unlink first, then close: on Windows the name goes with the last handle, and an unlink after
    // it answers ERR_SHM_NOT_FOUND (decisions §27); this order holds on every platform.
    SegmentedFile.unlink(name);
    source.close();
    expect(shmObjectsOf(name)).toEqual([]);
  });

  test('a child that finds no file fails with ERR_SHM_NOT_FOUND', async () => {
    const name = fresh();
    const { code, stderr } = await runDestination(name);
    expect(code).toBe(1);
    expect(JSON.parse(stderr).code).toBe('ERR_SHM_NOT_FOUND');
  });

  test('a persisted file, closed by its creator, is reopened by a new process with its contents intact', async () => {
    const name = fresh();
    const filePath = tempFile();
    const inputs = [Buffer.from('persisted input')];
    let before: Buffer[];
    {
      const file = SegmentedFile.create(name, 4096, { path: filePath, mode: 0o640 });
      file.write(0, JSON.stringify(tasks));
      file.write(1, 't2');
      file.write(2, inputs[0]!);
      expect(file.persisted).toBe(true);
      file.flush();
      before = [0, 1, 2].map((i) => file.read(i));
      file.close();
    }
    // Nothing of the creating process remains but the file: not even its mutex.
    NamedMutex.unlink(name);
    expect(shmObjectsOf(name)).toEqual([]);
    const onDisk = fs.readFileSync(filePath);
    expect(onDisk).toHaveLength(HEADER + 4096);
    expect(onDisk.subarray(0, 4).toString('latin1')).toBe('SLSF');
    expect(onDisk.readUInt32LE(12)).toBe(3);
    // Windows files have no POSIX mode bits (Node reports 0o666 or 0o444): nothing to check there.
    if (process.platform !== 'win32') expect(fs.statSync(filePath).mode & 0o777).toBe(0o640);

    const { code, stderr } = await runDestination(name, { path: filePath });
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const reopened = track(SegmentedFile.open(name, { path: filePath }));
    expect(reopened.persisted).toBe(true);
    expect(reopened.count).toBe(4);
    expectResult(reopened, inputs, before);
    reopened.close();
    SegmentedFile.unlink(name, { path: filePath });
    expect(fs.existsSync(filePath)).toBe(false);
    expect(shmObjectsOf(name)).toEqual([]);
  });
});
