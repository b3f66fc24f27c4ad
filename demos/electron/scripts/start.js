#!/usr/bin/env node
// Starts the window peer. `pnpm install` never downloads Electron's binary (this workspace runs no
// dependency install scripts), so the first start fetches it, and says clearly when it cannot.
// Usage: node scripts/start.js [-- --name NAME --side a|b --capacity BYTES]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const appDir = path.join(__dirname, '..');
const DOWNLOAD_TIMEOUT_MS = 10 * 60 * 1000;

function die(message) {
  console.error(`shmlink-electron: ${message}`);
  process.exit(1);
}

/** The electron executable's path, or null while its binary is absent. */
function electronBinary() {
  try {
    // The package's index.js reads path.txt, written by install.js once the binary is unpacked.
    const binary = require(require.resolve('electron', { paths: [appDir] }));
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

let electronDir;
try {
  electronDir = path.dirname(require.resolve('electron/package.json', { paths: [appDir] }));
} catch {
  die('the electron package is not installed: run `pnpm install` at the repository root.');
}
if (!fs.existsSync(path.join(appDir, 'dist', 'main.js'))) {
  die('the app is not built: run `pnpm -r run build` (or `pnpm build`) at the repository root.');
}

let binary = electronBinary();
if (binary === null) {
  const { version } = require(path.join(electronDir, 'package.json'));
  console.error(`shmlink-electron: Electron ${version}'s binary is not here yet; fetching it once (about 100 MB)…`);
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD; // install.js does nothing while it is set
  const r = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], {
    cwd: electronDir,
    env,
    stdio: 'inherit',
    timeout: DOWNLOAD_TIMEOUT_MS,
  });
  binary = electronBinary();
  if (binary === null) {
    const why = r.error ? r.error.message : r.signal ? `stopped by ${r.signal}` : `exit code ${r.status}`;
    die(
      `could not fetch Electron ${version}'s binary (${why}).\n` +
        '  This machine needs network access to Electron\'s release downloads (or a mirror: set\n' +
        '  ELECTRON_MIRROR, or ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron), then run this again.\n' +
        '  The window\'s page can still be seen without Electron: `npx jest demos/electron` renders it in\n' +
        '  Chromium against a console peer and saves docs/images/electron-window.png.',
    );
  }
}

// Our flags go after '--' so that Chromium does not read them as its own switches.
const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
const child = spawn(binary, [appDir, '--', ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => die(`could not start ${binary}: ${err.message}`));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
