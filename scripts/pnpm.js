#!/usr/bin/env node
// Runs the pnpm version pinned in package.json's "packageManager", fetching it through npm when the
// machine has no pnpm or another version, so that a machine with only Node.js and npm can build.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const pinned = require(path.join(root, 'package.json')).packageManager.replace(/^pnpm@/, '').split('+')[0];
const args = process.argv.slice(2);
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };

function installedVersion() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : null;
}

const found = installedVersion();
const [cmd, cmdArgs] =
  found === pinned
    ? ['pnpm', args]
    : ['npm', ['exec', '--yes', `--package=pnpm@${pinned}`, '--', 'pnpm', ...args]];
if (found !== pinned) {
  console.error(`[shmlink] pnpm ${found ?? 'not found'}; using pnpm@${pinned} through npm exec`);
}
const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, env });
if (r.error) {
  console.error(`[shmlink] could not run ${cmd}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
