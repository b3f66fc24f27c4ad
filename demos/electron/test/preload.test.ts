// The preload as Electron loads it into a sandboxed renderer, which offers require() for nothing
// but 'electron'. Apart from window.test.ts so that it runs where Chromium is missing too.
import fs from 'node:fs';
import path from 'node:path';

const DIST = path.join(__dirname, '..', 'dist');

it('the compiled preload requires nothing but electron (a sandboxed preload cannot)', () => {
  const source = fs.readFileSync(path.join(DIST, 'preload.js'), 'utf8');
  expect([...source.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(['"electron"']);
});
