// Suites that need a system package the machine may lack (Chromium, qemu-user, a cross compiler)
// are declared with describeWhen: where a need is missing the suite is skipped — jest counts it
// under "Test Suites: N skipped" — and its title names the apt-get command that enables it, which
// skipped-suites-reporter.js prints after the run. A missing package is never a failure: the
// README's test command must pass on a machine with only Node, npm and a compiler.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface SystemNeed {
  /** What is missing, as a person would name it: 'chromium', 'qemu-aarch64'. */
  readonly what: string;
  readonly found: boolean;
  /** The command that installs it on Debian. */
  readonly enable: string;
}

/** Marks the title of a suite skipped for a missing need; the reporter looks for it. */
export const SKIP_MARK = 'SKIPPED, needs';

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

export function needCommand(command: string, enable: string): SystemNeed {
  return { what: command, found: commandExists(command), enable };
}

export function needFile(file: string, what: string, enable: string): SystemNeed {
  return { what, found: fs.existsSync(file), enable };
}

/** describe(), or describe.skip() with the missing needs and their enabling commands in its title. */
export function describeWhen(needs: readonly SystemNeed[], name: string, body: () => void): void {
  const missing = needs.filter((need) => !need.found);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const what = missing.map((need) => need.what).join(', ');
  const enable = [...new Set(missing.map((need) => need.enable))].join(' && ');
  describe.skip(`${name} (${SKIP_MARK} ${what}; enable with: ${enable})`, body);
}
