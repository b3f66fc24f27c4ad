#!/usr/bin/env node
// The test step of `npm run verify`: jest on this machine, then the Windows suite (the packages',
// the demos' and a tiny bench's test files) in a real Windows Node under wine (packages/native/scripts/test-windows.js), which says why it was
// skipped when wine64 or mingw-w64 is missing instead of failing. Exits non-zero if either failed.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const jest = spawnSync(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
// Jest runs the files in its own process (maxWorkers 1): a crash there (a native fault, a kill)
// ends it with no summary, so say how it ended.
if (jest.status !== 0) console.error(`jest ended with ${jest.signal === null ? `exit status ${jest.status}` : `signal ${jest.signal}`}`);
const windows = spawnSync(process.execPath, [path.join(root, 'packages', 'native', 'scripts', 'test-windows.js')], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(jest.status === 0 && windows.status === 0 ? 0 : 1);
