#!/usr/bin/env node
// Cross-compiles the addon for Windows x64 on Linux with Debian's mingw-w64 (g++-mingw-w64-x86-64)
// into prebuildify's layout, prebuilds/win32-x64/@shmlink+native.napi.node, where node-gyp-build
// finds it. The sources and defines come from binding.gyp (the target's own plus its OS=='win'
// condition), so this build and an MSVC node-gyp build on Windows compile the same files.
//
// N-API comes from the registry package node-api-headers: its headers, and node_api.def turned
// into a *delay-load* import library of "node.exe" by dlltool. src/win_delay_load_hook.cc points
// that import at the host executable, so the same file loads in node.exe and in Electron
// (docs/decisions.md, "Windows build"). libgcc, libstdc++ and winpthread are linked statically: the
// .node needs only DLLs every Windows has.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const out = path.join(pkg, 'build', 'win32-mingw');
const target = path.join(pkg, 'prebuilds', 'win32-x64', '@shmlink+native.napi.node');
const TRIPLE = 'x86_64-w64-mingw32';

function which(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function run(command, args) {
  const r = spawnSync(command, args, { stdio: 'inherit' });
  if (r.error !== undefined || r.status !== 0) {
    console.error(`[build:win32] failed: ${command} ${args.join(' ')}`);
    process.exit(1);
  }
}

// The posix thread model: the wait pool uses std::thread and std::mutex, which GCC 12's win32
// model lacks.
const cxx = [`${TRIPLE}-g++-posix`, `${TRIPLE}-g++`].find(which);
const dlltool = `${TRIPLE}-dlltool`;
if (cxx === undefined || !which(dlltool)) {
  console.error(
    '[build:win32] needs the mingw-w64 cross compiler: apt-get install g++-mingw-w64-x86-64 ' +
      `(looked for ${TRIPLE}-g++-posix and ${dlltool})`,
  );
  process.exit(1);
}

const gyp = JSON.parse(fs.readFileSync(path.join(pkg, 'binding.gyp'), 'utf8')).targets[0];
const win = gyp.conditions.find(([condition]) => condition === "OS=='win'")[1];
const sources = [...gyp.sources, ...(win.sources ?? []), 'src/win_delay_load_hook.cc'];
const headers = path.dirname(require.resolve('node-api-headers/package.json'));
const addonApi = require('node-addon-api').include_dir;

fs.mkdirSync(out, { recursive: true });
fs.mkdirSync(path.dirname(target), { recursive: true });
const importLib = path.join(out, 'libnode_api_delay.a');
run(dlltool, ['-d', path.join(headers, 'def', 'node_api.def'), '-D', 'node.exe', '-y', importLib]);

const flags = [
  '-std=c++17', '-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-cast-function-type',
  '-fno-exceptions', '-fvisibility=hidden',
  ...gyp.defines.map((d) => `-D${d}`),
  ...(win.defines ?? []).map((d) => `-D${d}`),
  `-I${path.join(headers, 'include')}`, `-I${addonApi}`,
];
const objects = sources.map((source) => {
  const object = path.join(out, path.basename(source).replace(/\.cc$/, '.o'));
  run(cxx, [...flags, '-c', path.join(pkg, source), '-o', object]);
  return object;
});
const libraries = (win.libraries ?? []).map((l) => `-l${l.replace(/\.lib$/, '')}`);
run(cxx, [
  '-shared', '-s', '-o', target, ...objects, importLib,
  // -static makes the linker prefer libwinpthread.a (and libstdc++/libgcc) over their DLLs.
  '-static', '-static-libgcc', '-static-libstdc++',
  ...libraries, '-ldelayimp', '-lmingwex', '-lkernel32',
]);
console.log(`[build:win32] ${path.relative(pkg, target)}`);
