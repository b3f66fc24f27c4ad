// Seed 002's parent/child exchange (the C# article, docs/seeds.md) with a real C program: the header comes from toCHeader(), the
// C child (fixtures/controller_child.c) uses the generated struct and takes the same NamedMutex
// through the C implementation of the mutex protocol in peers/c/named_mutex.h.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NamedMutex } from '@shmlink/native';
import { bytes, defineLayout, utf8 } from '@shmlink/layout';
import { Controller, FIXTURES, cleanup, leftovers, open, sleep, uniqueName, until } from './helpers';

const CFLAGS = ['-std=c11', '-Wall', '-Wextra', '-Wpedantic', '-Werror'];
// The shmlink side in C (peers/c): controller_child.c includes its named_mutex.h.
const C_PEERS = path.join(__dirname, '..', '..', '..', 'peers', 'c');
let dir = '';
let child: ChildProcess | undefined;

/** Compiles C source with the generated header and peers/c on the include path; returns gcc's result. */
function gcc(args: string[]) {
  return spawnSync('gcc', [...CFLAGS, '-I', dir, '-I', C_PEERS, ...args], { encoding: 'utf8' });
}

beforeAll(() => {
  // Required, not skipped: this test is the proof that the header matches the layout.
  expect(spawnSync('gcc', ['--version']).status).toBe(0);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-layout-'));
  fs.writeFileSync(path.join(dir, 'controller_data.h'), Controller.toCHeader('ControllerData'));
  const built = gcc(['-o', path.join(dir, 'controller_child'), path.join(FIXTURES, 'controller_child.c')]);
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
});

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
  }
  child = undefined;
  cleanup();
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  expect(leftovers()).toEqual([]);
});

/** Starts the compiled child and collects its stdout lines. */
function startChild(args: string[]): { lines: string[]; exited: Promise<number | null> } {
  const proc = spawn(path.join(dir, 'controller_child'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  const lines: string[] = [];
  let partial = '';
  proc.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.setEncoding('utf8').on('data', (text: string) => process.stderr.write(text));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { lines, exited };
}

describe('the generated C header', () => {
  it('compiles as C11 and as C++ for every field type', () => {
    const all = defineLayout({ a: 'i8', b: 'u8', c: 'i16', d: 'u16', e: 'i32', f: 'u32', g: 'i64', h: 'u64', i: 'f32', j: 'f64', k: bytes(3), l: utf8(5) });
    fs.writeFileSync(path.join(dir, 'all.h'), all.toCHeader('AllTypes'));
    fs.writeFileSync(path.join(dir, 'all.c'), '#include "all.h"\nint main(void) { AllTypes_shared s; (void)s; return 0; }\n');
    const c = gcc(['-fsyntax-only', path.join(dir, 'all.c')]);
    expect(c.stderr).toBe('');
    const cpp = spawnSync('g++', ['-std=c++11', '-Wall', '-Werror', '-fsyntax-only', '-x', 'c++', path.join(dir, 'all.h')], { encoding: 'utf8' });
    expect(cpp.stderr).toBe('');
    expect(cpp.status).toBe(0);
  });

  it('fails to compile when the struct drifts from the layout (the static asserts bite)', () => {
    const unpacked = Controller.toCHeader('ControllerData').replace('#pragma pack(push, 1)', '').replace('#pragma pack(pop)', '');
    fs.writeFileSync(path.join(dir, 'unpacked.h'), unpacked);
    fs.writeFileSync(path.join(dir, 'unpacked.c'), '#include "unpacked.h"\n');
    const result = gcc(['-fsyntax-only', path.join(dir, 'unpacked.c')]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ControllerData size');
  });
});

describe("the seed's parent/child exchange with a C child, under a NamedMutex", () => {
  it('"hello world!", an answer from C, then "terminate"', async () => {
    const name = uniqueName();
    const struct = open(Controller.create(name));
    const mutex = open(NamedMutex.createOrOpen(name));
    const changes: { field: string; value: unknown }[] = [];
    struct.watch(({ field, value }) => changes.push({ field, value }));

    await mutex.lockAsync(5000);
    struct.update({
      timestamp: 1234.5,
      totalDuration: 98.25,
      paused: 1,
      muted: 0,
      controlFlags: 5,
      messageBuffer: Buffer.from('hello world!'),
      dataLength: 12,
    });
    const { lines, exited } = startChild([name, name]);
    // Still holding the mutex: the C child must wait for it.
    await until(() => lines.includes('[Child] Process started'), 'the child to start');
    await sleep(300);
    expect(lines).toEqual(['[Child] Process started']);
    mutex.unlock();

    // The child answers: a new message and heartbeat 1, announced through the change counter.
    await until(() => changes.some((c) => c.field === 'heartbeat' && c.value === 1), "the child's answer");
    await mutex.lockAsync(5000);
    expect(struct.messageBuffer.toString('latin1', 0, struct.dataLength)).toBe('hello from C');
    mutex.unlock();

    await sleep(100); // the seed's Thread.Sleep before "terminate"
    await mutex.lockAsync(5000);
    struct.update({ messageBuffer: Buffer.from('terminate'), dataLength: 9 });
    mutex.unlock();

    expect(await exited).toBe(0);
    expect(lines).toEqual([
      '[Child] Process started',
      '[Child] Received: hello world!',
      '[Child] timestamp=1234.5 totalDuration=98.25 paused=1 muted=0 controlFlags=5 abandoned=0',
      '[Child] Received: terminate',
      '[Child] Process terminated',
    ]);
    await until(() => changes.some((c) => c.field === 'heartbeat' && c.value === 2), "the child's last acknowledgement");
    expect(mutex.tryLock()).toEqual({ abandoned: false });
    mutex.unlock();
  });

  it("the C lock is the Node lock: Node sees the C owner, and its death as 'abandoned'", async () => {
    const name = uniqueName();
    open(Controller.create(name));
    const mutex = open(NamedMutex.createOrOpen(name));
    const { lines } = startChild([name, name, 'hold']);
    await until(() => lines.includes('[Child] Holding the mutex'), 'the child to lock');
    expect(mutex.tryLock()).toBeNull();
    await expect(mutex.lockAsync(150)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const locked = mutex.lockAsync(5000);
    child!.kill('SIGKILL');
    expect(await locked).toEqual({ abandoned: true });
    mutex.unlock();
  });
});

