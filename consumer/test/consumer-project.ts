// A user's project: the publishable packages packed with `pnpm pack`, installed from the tarballs
// with `npm install --ignore-scripts` into a fresh folder, and the programs of consumer/project
// compiled there by the user's TypeScript against the installed types.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
const PROJECT_SOURCES = path.join(ROOT, 'consumer', 'project');

export interface PublishedPackage {
  readonly dir: string;
  readonly name: string;
  readonly manifest: Record<string, unknown> & { name: string; version: string; files?: string[] };
}

/** Every packages/* whose package.json is not private: what would be published. */
export function publishablePackages(): PublishedPackage[] {
  const base = path.join(ROOT, 'packages');
  return fs
    .readdirSync(base)
    .map((entry) => path.join(base, entry))
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PublishedPackage['manifest'];
      return { dir, name: manifest.name, manifest };
    })
    .filter((p) => p.manifest.private !== true);
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** `pnpm prebuild` for the targets this machine has the toolchain for; returns its report. */
export function prebuild(targets: readonly string[]): string {
  return run(process.execPath, [path.join(ROOT, 'packages', 'native', 'scripts', 'prebuild.js'), '--available', ...targets], ROOT);
}

/** `pnpm pack` of the given packages into `dest`; returns each package's tarball by name. */
export function pack(packages: readonly PublishedPackage[], dest: string): Map<string, string> {
  for (const p of packages) {
    if (!fs.existsSync(path.join(p.dir, 'dist', 'index.js'))) {
      throw new Error(`${p.name} is not built (${p.dir}/dist): run pnpm build first (npm run verify does)`);
    }
  }
  const filters = packages.flatMap((p) => ['--filter', p.name]);
  run(process.execPath, [path.join(ROOT, 'scripts', 'pnpm.js'), ...filters, 'pack', '--pack-destination', dest], ROOT);
  return new Map(
    packages.map((p) => {
      const tarball = path.join(dest, `${p.name.replace(/^@/, '').replace('/', '-')}-${p.manifest.version}.tgz`);
      if (!fs.existsSync(tarball)) throw new Error(`pnpm pack made no ${tarball}`);
      return [p.name, tarball];
    }),
  );
}

/** The paths inside a tarball, without npm's leading "package/". */
export function tarballEntries(tarball: string): string[] {
  return run('tar', ['tzf', tarball], path.dirname(tarball))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^package\//, ''));
}

/** The workspace's own version range of a dev tool, so the user's project type-checks with the same. */
function workspaceRange(name: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const range = manifest.devDependencies[name];
  if (range === undefined) throw new Error(`the workspace has no devDependency ${name}`);
  return range;
}

/** What a user's project brings beside shmlink: its own rxjs, TypeScript and Node types. */
export function userTools(): string[] {
  return [`rxjs@${workspaceRange('rxjs')}`, `typescript@${workspaceRange('typescript')}`, `@types/node@${workspaceRange('@types/node')}`];
}

export interface InstallOptions {
  /** Run install scripts (npm's default); the consumer test installs as users who refuse them. */
  readonly scripts?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** A fresh project in `dir` with `specs` (tarballs, registry packages) installed by npm. */
export function installProject(dir: string, specs: readonly string[], options: InstallOptions = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'shmlink-consumer', version: '1.0.0', private: true }, null, 2));
  const flags = ['--no-audit', '--no-fund', '--prefer-offline', ...(options.scripts === true ? [] : ['--ignore-scripts'])];
  run('npm', ['install', ...flags, ...specs], dir, options.env ?? process.env);
}

/** Copies consumer/project into `dir` and compiles it with the installed TypeScript; throws tsc's report. */
export function compile(dir: string): void {
  for (const file of fs.readdirSync(PROJECT_SOURCES)) fs.copyFileSync(path.join(PROJECT_SOURCES, file), path.join(dir, file));
  run(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Runs `command args` in `cwd`; resolves with its exit and output, killing it after `ms`. */
export function runProgram(command: string, args: readonly string[], cwd: string, ms: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${ms} ms]`;
      child.kill('SIGKILL');
    }, ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/**
 * Both sides of the quick start (`program` is quick-start.mjs or .cjs in `out`) on one fresh channel,
 * started together; `prefix` runs node (or qemu with node).
 */
export async function quickStart(prefix: readonly string[], out: string, program: string, channel: string, ms: number): Promise<[Exit, Exit]> {
  const [command, ...rest] = prefix;
  if (command === undefined) throw new Error('no command');
  return Promise.all([
    runProgram(command, [...rest, path.join(out, program), 'a', channel], out, ms),
    runProgram(command, [...rest, path.join(out, program), 'b', channel], out, ms),
  ]);
}

/** Each side of the quick start exited 0 having received the other's greeting. */
export function expectBothGot([a, b]: [Exit, Exit]): void {
  expect({ code: a.code, output: a.output }).toEqual({ code: 0, output: expect.stringContaining('got hello from b') });
  expect({ code: b.code, output: b.output }).toEqual({ code: 0, output: expect.stringContaining('got hello from a') });
}
