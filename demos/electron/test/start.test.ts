import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const APP = path.join(__dirname, '..');
const START = path.join(APP, 'scripts', 'start.js');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [START, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-electron-start-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The environment without anything that could point the script at a real binary or mirror. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(npm_config_)?electron_/i.test(key)) delete env[key];
  return { ...env, ...extra };
}

it('starts the Electron binary with the app and the flags after --, and passes on its exit code', async () => {
  // ELECTRON_OVERRIDE_DIST_PATH is the electron package's own way to use a binary from elsewhere.
  fs.writeFileSync(path.join(dir, 'electron'), '#!/bin/sh\necho "fake electron: $*"\nexit 7\n', { mode: 0o755 });
  const r = await run(['--', '--name', 'Chat', '--side', 'b'], cleanEnv({ ELECTRON_OVERRIDE_DIST_PATH: dir }));
  expect(r.stdout).toContain(`fake electron: ${APP} -- --name Chat --side b`);
  expect(r.code).toBe(7);
});

it('tries to fetch a missing binary and, when it cannot, says so and exits non-zero', async () => {
  // An empty override folder: no binary. The mirror is a closed local port, so the download fails
  // at once and nothing is written into the electron package.
  const r = await run([], cleanEnv({ ELECTRON_OVERRIDE_DIST_PATH: dir, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: dir }));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/binary is not here yet; fetching it/);
  expect(r.stderr).toMatch(/could not fetch Electron [\d.]+'s binary/);
}, 120000);
