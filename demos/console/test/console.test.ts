import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Region } from '@shmlink/native';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
let counter = 0;
let name = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the console demo with `input` piped to its standard input. */
function run(args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

beforeEach(() => {
  name = `con${process.pid}-${++counter}`;
});

afterEach(() => {
  Region.unlinkIfExists(name);
});

it('two console processes, scripted through piped stdin, exchange lines both ways', async () => {
  const [a, b] = await Promise.all([
    run(['--name', name, '--side', 'a', '--linger', '3000'], 'hello from a\nsecond line from a\n'),
    run(['--name', name, '--side', 'b', '--linger', '3000'], 'hello from b ✓\n'),
  ]);
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
  expect(a.stdout).toContain('> hello from a');
  expect(a.stdout).toContain('< hello from b ✓');
  expect(b.stdout).toContain('< hello from a\n');
  expect(b.stdout).toContain('< second line from a');
  // Piped output is not a terminal: no colour codes.
  expect(a.stdout).not.toContain('\x1b[');
  expect(b.stdout.indexOf('< hello from a')).toBeLessThan(b.stdout.indexOf('< second line from a'));
});

it('runs a scripted conversation with an answering partner and exits cleanly', async () => {
  const r = await run(['--name', name, '--partner', '--say', 'ping one', '--say', 'ping two'], '');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('< Received "ping one"');
  expect(r.stdout).toContain('< Received "ping two"');
  expect(r.stdout).toMatch(/peer connected/);
});

it('`pnpm demo`: the root package.json\'s command line, exits 0 with every line answered (the Windows suite runs it in Windows Node)', async () => {
  const script = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo!;
  // "node demos/console/dist/main.js <flags> < /dev/null": the flags, quoted words unquoted.
  const flags = script.slice(script.indexOf('main.js') + 'main.js'.length, script.lastIndexOf('<'));
  const args = [...flags.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  expect(args).toContain('--partner');
  const said = args.filter((_, i) => args[i - 1] === '--say');
  expect(said.length).toBeGreaterThan(0);
  // A name of our own: the demo's default is one name for the whole machine.
  const r = await run([...args, '--name', name], '');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  for (const line of said) expect(r.stdout).toContain(`< Received "${line}"`);
});

it('prints usage for --help and exits 2 on bad flags', async () => {
  const help = await run(['--help'], '');
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: shmlink-console');
  const bad = await run(['--side', 'c'], '');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--side must be a or b');
  const unknown = await run(['--frobnicate'], '');
  expect(unknown.code).toBe(2);
  // A leading '--' (as `pnpm demo:console -- --help` passes it) is not an argument.
  const dashed = await run(['--', '--help'], '');
  expect(dashed.code).toBe(0);
  expect(dashed.stdout).toContain('usage: shmlink-console');
});

it('reports an invalid region name with its code', async () => {
  const r = await run(['--name', '../etc/passwd'], '');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('ERR_INVALID_NAME');
});

describe('colour', () => {
  // The decision only; a real terminal is not needed to check it.
  const { Output } = jest.requireActual<typeof import('../src/output')>('../src/output');
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it('is on for a terminal, off for a pipe, and off when NO_COLOR is set and not empty', () => {
    expect(new Output('', tty, {}).colored).toBe(true);
    expect(new Output('', pipe, {}).colored).toBe(false);
    expect(new Output('', tty, { NO_COLOR: '1' }).colored).toBe(false);
    expect(new Output('', tty, { NO_COLOR: '' }).colored).toBe(true);
  });
});
