import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

const CONSOLE = path.join(__dirname, '..', '..', 'console', 'dist', 'main.js');

/** A real console-demo process, its output collected so a test can wait for a line. */
export class ConsolePeer {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  #exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CONSOLE, ...args], { stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves once stdout contains `text`; rejects after `ms` with what it printed instead. */
  async waitFor(text: string, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stdout.includes(text)) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`console peer never printed ${JSON.stringify(text)}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Ends it (SIGTERM: it disposes its side, so the peer sees it leave) and waits for the exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
