#!/usr/bin/env node
// `pnpm prebuild`: the N-API prebuilds that ship in @shmlink/native's tarball, in prebuildify's
// layout (prebuilds/<platform>-<arch>/@shmlink+native.napi[.glibc].node), where node-gyp-build
// finds them. One binary per platform and architecture serves every Node version and Electron.
//
//   linux-x64     prebuildify with the host compiler
//   linux-arm64   prebuildify with Debian's cross compiler (g++-aarch64-linux-gnu)
//   win32-x64     scripts/build-win32.js, the mingw-w64 cross build
//
// The linux builds run in a scratch copy of the package, so build/Release (which the workspace's
// own tests load) is never replaced by a stripped or foreign-architecture binary.
//
// Usage: node scripts/prebuild.js [--available] [target ...]
//   With no target, all three. A target whose toolchain is missing fails the run, naming the
//   apt-get command that installs it; with --available it is skipped with that message instead.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const NAME = '@shmlink+native';

/** ELF e_machine values (the ELF specification): what each linux target must contain. */
const ELF_MACHINE = { x64: 62, arm64: 183 };

const TARGETS = {
  'linux-x64': {
    tools: ['c++', 'make', 'python3', 'strip'],
    enable: 'apt-get install -y g++ make python3',
    build: () => linux('x64', { CXX: 'c++', LINK: 'c++' }),
  },
  'linux-arm64': {
    tools: ['aarch64-linux-gnu-g++', 'aarch64-linux-gnu-strip', 'make', 'python3'],
    enable: 'apt-get install -y g++-aarch64-linux-gnu make python3',
    build: () =>
      linux('arm64', {
        CC: 'aarch64-linux-gnu-gcc',
        CXX: 'aarch64-linux-gnu-g++',
        LINK: 'aarch64-linux-gnu-g++',
        AR: 'aarch64-linux-gnu-ar',
        PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
      }),
  },
  'win32-x64': {
    tools: ['x86_64-w64-mingw32-dlltool'],
    anyOf: ['x86_64-w64-mingw32-g++-posix', 'x86_64-w64-mingw32-g++'],
    enable: 'apt-get install -y g++-mingw-w64-x86-64',
    build: () => run(process.execPath, [path.join(__dirname, 'build-win32.js')], { cwd: pkg }),
  },
};

function has(command) {
  return spawnSync('sh', ['-c', `command -v '${command}'`], { stdio: 'ignore' }).status === 0;
}

function missingTools(target) {
  const missing = target.tools.filter((tool) => !has(tool));
  if (target.anyOf !== undefined && !target.anyOf.some(has)) missing.push(target.anyOf.join(' or '));
  return missing;
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit status ${result.status}`})`);
  }
}

/**
 * node-gyp compiles against the running Node's headers; where they are installed beside it (a
 * distribution's /usr/include/node, an official tarball's include/node) it needs no download.
 */
function nodeDirEnv() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = path.join(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: path.resolve(prefix) } : {};
}

function linux(arch, crossEnv) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `shmlink-prebuild-${arch}-`));
  try {
    for (const entry of ['binding.gyp', 'package.json', 'src']) {
      fs.cpSync(path.join(pkg, entry), path.join(scratch, entry), { recursive: true });
    }
    // binding.gyp asks node for node-addon-api's include folder from the build's directory.
    fs.symlinkSync(path.join(pkg, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
    const prebuildify = require.resolve('prebuildify/bin.js', { paths: [pkg] });
    // libstdc++ stays a shared library: linked in statically it brings references to glibc 2.36
    // (arc4random, _dl_find_object) where the binary otherwise needs 2.34 (docs/decisions.md §33).
    const env = { ...process.env, ...nodeDirEnv(), ...crossEnv };
    run(
      process.execPath,
      [prebuildify, '--napi', '--strip', '--tag-libc', '--arch', arch, '--cwd', scratch, '--out', pkg],
      { cwd: scratch, env },
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  // prebuildify leaves out the napi tag when the package names the file; the win32 build and
  // node-gyp-build's documentation spell it, so every prebuild here carries it.
  const dir = path.join(pkg, 'prebuilds', `linux-${arch}`);
  const file = path.join(dir, `${NAME}.napi.glibc.node`);
  fs.renameSync(path.join(dir, `${NAME}.glibc.node`), file);
  const machine = fs.readFileSync(file).readUInt16LE(18);
  if (machine !== ELF_MACHINE[arch]) {
    throw new Error(`${file} is for ELF machine ${machine}, expected ${ELF_MACHINE[arch]} (${arch})`);
  }
}

function main(argv) {
  const available = argv.includes('--available');
  // pnpm hands a "--" separator on to the script (`pnpm prebuild -- --available`).
  const names = argv.filter((a) => a !== '--available' && a !== '--');
  for (const name of names) {
    if (!(name in TARGETS)) throw new Error(`unknown target '${name}' (known: ${Object.keys(TARGETS).join(', ')})`);
  }
  const wanted = names.length > 0 ? names : Object.keys(TARGETS);
  const built = [];
  const skipped = [];
  for (const name of wanted) {
    const target = TARGETS[name];
    const missing = missingTools(target);
    if (missing.length > 0) {
      const why = `${name}: needs ${missing.join(', ')} (${target.enable})`;
      if (!available) throw new Error(`cannot build ${why}`);
      skipped.push(why);
      continue;
    }
    console.log(`[prebuild] ${name}`);
    target.build();
    built.push(name);
  }
  console.log(`[prebuild] built: ${built.join(', ') || 'none'}`);
  for (const why of skipped) console.log(`[prebuild] skipped ${why}`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`[prebuild] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
