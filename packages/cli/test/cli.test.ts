// The `shmlink` executable (node_modules/.bin/shmlink, as `npx shmlink` runs it after install),
// driven against channels held by real peer processes (fixtures/holder.js), including peers killed
// with SIGKILL. Every command is scoped to this file's names (--prefix), because other processes
// on the machine have shared-memory objects of their own.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { NamedEvent, NamedMutex, Region } from '@shmlink/native';

const BIN = path.join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'shmlink');
const FIXTURES = path.join(__dirname, 'fixtures');
const PREFIX = `cli${process.pid}-`;
const CAPACITY = 8192;

let counter = 0;
const names: string[] = [];
const holders: Holder[] = [];

function uniqueName(): string {
  const name = `${PREFIX}${++counter}`;
  names.push(name);
  return name;
}

afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.kill()));
  for (const name of names.splice(0)) Communicator.unlink(name);
});

afterAll(() => expect(Region.list(PREFIX)).toEqual([]));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the executable to its end. */
function run(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A process holding one side of a channel. */
class Holder {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly messages: string[] = [];
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (msg: { message?: string }) => {
      if (msg.message !== undefined) this.messages.push(msg.message);
    });
  }

  static async start(config: { name: string; side: 'a' | 'b'; listen?: boolean; write?: string[] }): Promise<Holder> {
    const child = fork(path.join(FIXTURES, 'holder.js'), [JSON.stringify({ capacity: CAPACITY, ...config })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const holder = new Holder(child);
    holders.push(holder);
    await new Promise<void>((resolve, reject) => {
      child.on('message', (msg: { ready?: number }) => msg.ready !== undefined && resolve());
      child.once('exit', (code) => reject(new Error(`holder exited (${code})`)));
    });
    return holder;
  }

  write(text: string): void {
    this.child.send({ write: text });
  }

  writeBytes(bytes: Buffer): void {
    this.child.send({ writeHex: bytes.toString('hex') });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A channel held by two live processes; side a wrote `unread` messages side b has not read. */
async function heldChannel(unread: string[] = []): Promise<{ name: string; a: Holder; b: Holder }> {
  const name = uniqueName();
  const a = await Holder.start({ name, side: 'a', write: unread });
  const b = await Holder.start({ name, side: 'b' });
  return { name, a, b };
}

interface JsonHalf {
  base: number;
  writtenBy: string;
  used: number;
  tail: number;
  head: number;
  producer: { pid: number; state: string; alive: boolean };
  consumer: { pid: number; state: string; alive: boolean };
}
interface JsonObject {
  name: string;
  kind: string;
  size: number;
  doorbells?: string[];
  channel?: { health: string; problems: string[]; livePids: number[]; halves: JsonHalf[] };
}

describe('help and usage', () => {
  test.each(['ls', 'inspect', 'rm', 'gc', 'send', 'listen', 'stat'])('%s --help', async (command) => {
    const result = await run([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: shmlink ${command}`);
  });

  test('an unknown command or a bad option value is a usage error (exit 2)', async () => {
    expect((await run(['bogus'])).code).toBe(2);
    const bad = await run(['send', 'x', 'hi', '--side', 'c']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--side');
    expect((await run(['stat', 'x', '--interval', 'soon'])).code).toBe(2);
  });

  test('an invalid name is ERR_INVALID_NAME (exit 2); a missing one ERR_SHM_NOT_FOUND (exit 3)', async () => {
    const invalid = await run(['inspect', '../etc/passwd']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^shmlink: ERR_INVALID_NAME: /);
    for (const args of [['inspect', `${PREFIX}none`], ['rm', `${PREFIX}none`], ['send', `${PREFIX}none`, 'hi'], ['listen', `${PREFIX}none`], ['stat', `${PREFIX}none`]]) {
      const missing = await run(args);
      expect({ args, code: missing.code }).toEqual({ args, code: 3 });
      expect(missing.stderr).toMatch(/^shmlink: ERR_SHM_NOT_FOUND: /);
    }
  });
});

describe('ls and inspect', () => {
  test('ls shows a live channel with its sides, pids, bytes waiting and verdict, and recognises other objects', async () => {
    const { name, a, b } = await heldChannel(['hello', 'world']);
    const plain = uniqueName();
    const region = Region.create(plain, 4096);
    region.close();
    const table = await run(['ls', '--prefix', PREFIX]);
    expect(table.code).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.startsWith(`${name} `))!;
    expect(line).toMatch(/ channel /);
    expect(line).toContain(`a:${a.pid} (alive)`);
    expect(line).toContain(`b:${b.pid} (alive)`);
    expect(line).toMatch(/healthy$/);
    expect(table.stdout.split('\n').find((l) => l.startsWith(`${plain} `))).toMatch(/ region /);

    const json = await run(['ls', '--prefix', PREFIX, '--json']);
    const objects = JSON.parse(json.stdout) as JsonObject[];
    const channel = objects.find((o) => o.name === name)!;
    expect(channel.kind).toBe('channel');
    expect(channel.size).toBe(CAPACITY);
    expect(channel.channel!.health).toBe('healthy');
    expect(channel.channel!.livePids.sort()).toEqual([a.pid, b.pid].sort());
    const [ab, ba] = channel.channel!.halves;
    expect(ab!.writtenBy).toBe('a');
    expect(ab!.used).toBe(2 * 16); // two 5-byte messages: 8-byte frame header + 5, aligned to 8
    expect(ba!.used).toBe(0);
    expect(channel.doorbells!.length).toBeGreaterThan(0);
    expect(objects.find((o) => o.name === plain)!.kind).toBe('region');
  });

  test('ls recognises named events and mutexes', async () => {
    const base = uniqueName();
    const event = NamedEvent.createOrOpen(base);
    const mutex = NamedMutex.createOrOpen(base);
    try {
      const events = JSON.parse((await run(['ls', '--prefix', `shmlink.ev.${base}`, '--json'])).stdout) as JsonObject[];
      const mutexes = JSON.parse((await run(['ls', '--prefix', `shmlink.mx.${base}`, '--json'])).stdout) as JsonObject[];
      expect(events.map((o) => o.kind)).toEqual(['named-event']);
      expect(mutexes.map((o) => o.kind)).toEqual(['named-mutex']);
    } finally {
      event.close();
      mutex.close();
      NamedEvent.unlink(base);
      NamedMutex.unlink(base);
    }
  });

  test('inspect decodes the header field by field: healthy, then stale once both sides are SIGKILLed', async () => {
    const { name, a, b } = await heldChannel(['hello']);
    const text = await run(['inspect', name]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`half a→b at offset 0`);
    expect(text.stdout).toMatch(new RegExp(`magic\\s+0x4b4e4c53\\s+version ${ringDescriptor.VERSION}\\s+headerSize 256`));
    expect(text.stdout).toMatch(/cursors\s+tail 16\s+head 0\s+waiting 16 bytes/);
    expect(text.stdout).toMatch(new RegExp(`producer\\s+pid ${a.pid}\\s+state 1 \\(attached, alive\\)`));
    expect(text.stdout).toMatch(/health\s+healthy/);

    const json = JSON.parse((await run(['inspect', name, '--json'])).stdout) as JsonObject;
    expect(json.channel!.halves[1]!.producer.pid).toBe(b.pid);
    expect(json.channel!.halves[0]!.consumer.pid).toBe(b.pid);

    await a.kill();
    await b.kill();
    const stale = await run(['inspect', name]);
    expect(stale.code).toBe(0);
    expect(stale.stdout).toMatch(/health\s+stale/);
    expect(stale.stdout).toContain('(attached, dead)');
  });

  test('inspect names what is wrong with a corrupt header and exits 5; a non-channel is ERR_LAYOUT_MISMATCH', async () => {
    const { name } = await heldChannel();
    const region = Region.open(name);
    region.store(4, 7); // version of half a
    region.store(CAPACITY / 2 + 64, 12); // tail of half b: not a multiple of 8
    region.close();
    const result = await run(['inspect', name]);
    expect(result.code).toBe(5);
    expect(result.stdout).toContain('corrupt');
    expect(result.stdout).toContain(`half at 0: version=7 expected=${ringDescriptor.VERSION}`);
    expect(result.stdout).toContain(`half at ${CAPACITY / 2}: cursors tail=12 head=0`);

    const plain = uniqueName();
    Region.create(plain, 4096).close();
    const notChannel = await run(['inspect', plain]);
    expect(notChannel.code).toBe(5);
    expect(notChannel.stderr).toMatch(/^shmlink: ERR_LAYOUT_MISMATCH: .* is not a channel: it is a region/);
  });
});

describe('rm and gc', () => {
  test('rm refuses a channel a live process holds (exit 4), and removes it with its doorbells once they were SIGKILLed', async () => {
    const { name, a, b } = await heldChannel(['x']);
    const refused = await run(['rm', name]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^shmlink: ERR_INVALID_STATE: .*held by live processes/);
    expect(Region.list(name)).toContain(name);

    await a.kill();
    await b.kill();
    expect(Region.list(`${name}@`).length).toBeGreaterThan(0); // the dead left their doorbells
    const removed = await run(['rm', name]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed ${name}`);
    expect(Region.list(name)).toEqual([]);
  });

  test('gc removes what SIGKILLed peers left (region and doorbells) and never a channel live processes hold', async () => {
    const live = await heldChannel(['kept']);
    const dead = await heldChannel(['lost']);
    await dead.a.kill();
    await dead.b.kill();
    // Doorbells whose channel is gone.
    const orphanChannel = await heldChannel();
    await orphanChannel.a.kill();
    await orphanChannel.b.kill();
    Region.unlink(orphanChannel.name);

    const dry = await run(['gc', '--dry-run', '--prefix', PREFIX]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remove ${dead.name} (stale`);
    expect(dry.stdout).toContain(`would remove ${orphanChannel.name}@`);
    expect(dry.stdout).not.toContain(live.name);
    expect(Region.list(dead.name)).toContain(dead.name);

    const gc = await run(['gc', '--prefix', PREFIX]);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain(`removed ${dead.name} (stale`);
    expect(Region.list(dead.name)).toEqual([]);
    expect(Region.list(orphanChannel.name)).toEqual([]);
    expect(Region.list(live.name)).toContain(live.name);
    expect(Region.list(`${live.name}@`).length).toBeGreaterThan(0);
  });

  test('gc keeps a corrupt channel that a live process holds, says so, and exits 4', async () => {
    const { name, a } = await heldChannel();
    const region = Region.open(name);
    region.store(4, 9);
    region.close();
    const result = await run(['gc', '--prefix', PREFIX]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`kept ${name}: corrupt`);
    expect(result.stderr).toContain(`${a.pid}`);
    expect(Region.list(name)).toContain(name);
  });
});

describe('send, listen, stat', () => {
  test('send delivers TEXT, and each line of stdin with -, to the process on the other side', async () => {
    const name = uniqueName();
    const b = await Holder.start({ name, side: 'b', listen: true });
    const one = await run(['send', name, 'hello from the shell']);
    expect(one.code).toBe(0);
    expect(one.stderr).toContain('sent 1 message');
    const lines = await run(['send', name, '-'], 'one\ntwo\nthree\n');
    expect(lines.code).toBe(0);
    await waitFor(() => b.messages.length === 4, 'four messages');
    expect(b.messages).toEqual(['hello from the shell', 'one', 'two', 'three']);
    // A plain region is not joined (joining would write a channel header over its bytes).
    const plain = uniqueName();
    Region.create(plain, 4096).close();
    const refused = await run(['send', plain, 'x']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^shmlink: ERR_LAYOUT_MISMATCH: .* is not a channel/);
    const region = Region.open(plain, { access: 'read' });
    expect(region.read(0, 4096).every((b) => b === 0)).toBe(true);
    region.close();
    // Side b is held by a live process.
    const taken = await run(['send', name, '--side', 'b', 'x']);
    expect(taken.code).toBe(4);
    expect(taken.stderr).toMatch(/^shmlink: ERR_INVALID_STATE: /);
  });

  test('listen prints each message as it arrives (text, --hex, --json) and exits 0 on SIGINT', async () => {
    for (const [flag, expected] of [
      [[], ['ping', 'héllo']],
      [['--hex'], [Buffer.from('ping').toString('hex'), Buffer.from('héllo').toString('hex')]],
    ] as const) {
      const name = uniqueName();
      const a = await Holder.start({ name, side: 'a' });
      const child = spawn(BIN, ['listen', name, '--side', 'b', ...flag], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await waitFor(() => err.includes('listening on'), 'listen to start');
      a.write('ping');
      a.write('héllo');
      await waitFor(() => out.split('\n').length > 2, 'two lines');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out.trim().split('\n')).toEqual(expected);
      expect(err).toContain('as side b');
    }
    const name = uniqueName();
    const a = await Holder.start({ name, side: 'a', write: ['{"not":"parsed"}'] });
    const child = spawn(BIN, ['listen', name, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => out.includes('\n'), 'one line');
    a.writeBytes(Buffer.from([0xff, 0xfe, 0x00]));
    await waitFor(() => out.split('\n').length > 2, 'two lines');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const [first, second] = out.trim().split('\n').map((l) => JSON.parse(l) as { length: number; text?: string; base64?: string; time: string });
    expect(first).toMatchObject({ length: 16, text: '{"not":"parsed"}' });
    expect(Date.parse(first!.time)).not.toBeNaN();
    // Not UTF-8: the bytes come as base64.
    expect(second).toEqual({ time: second!.time, length: 3, base64: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') });
  });

  test('stat prints a line per interval when piped, with rates and the queue per direction', async () => {
    const { name, a } = await heldChannel();
    const sending = setInterval(() => a.write('tick-tock'), 5);
    try {
      const result = await run(['stat', name, '--interval', '200', '--count', '3']);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const line of lines) {
        expect(line).toMatch(/a→b\s+(~?[\d.]+|\?) msg\/s\s+[\d.]+ (B|KiB)\/s\s+queued ~?\d+ msg/);
        expect(line).toMatch(/b→a\s+0\.0 msg\/s\s+0 B\/s\s+queued 0 msg 0 B/);
      }
      // b does not read: the messages a sends pile up in the queue and show in the rate.
      expect(lines.some((l) => /a→b\s+~?([1-9][\d.]*) msg\/s/.test(l))).toBe(true);
    } finally {
      clearInterval(sending);
    }
  });
});
