// What the numbers were measured on, and which code they measured.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  kernel: string;
  osVersion: string;
  loadAverage: number[];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    kernel: os.release(),
    osVersion: os.version(),
    loadAverage: os.loadavg(),
  };
}

export interface Revision {
  commit: string | null;
  /** Paths under packages/ with uncommitted changes: the measured code is not exactly `commit`. */
  uncommitted: string[];
}

export function describeRevision(): Revision {
  const root = path.join(__dirname, '..', '..');
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return null;
    }
  };
  const status = git('status', '--porcelain', '--', 'packages', 'bench/src');
  return {
    commit: git('rev-parse', 'HEAD')?.trim() ?? null,
    // Porcelain lines are "XY path".
    uncommitted: (status ?? '').split('\n').filter((l) => l.length > 3).map((l) => l.slice(3)),
  };
}
