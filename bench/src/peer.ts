// The parent's handle on a peer process: forks a script of peers/, exchanges control messages
// with it over the IPC channel, and makes sure it ends.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { trackChild } from './cleanup';
import { isControl, type Control } from './peers/protocol';

export const PEERS_DIR = path.join(__dirname, 'peers');

interface Waiter {
  type: string;
  resolve: (msg: Control) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A forked peer. The IPC channel uses 'advanced' serialization (the structured clone algorithm),
 * so that Buffers cross it as bytes; the child_process IPC benchmark uses the same channel.
 */
export class Peer {
  readonly child: ChildProcess;
  readonly script: string;
  #inbox: Control[] = [];
  #waiters: Waiter[] = [];
  #exited: Error | null = null;
  #fail: (err: Error) => void = () => {};
  readonly #failed = new Promise<never>((_, reject) => {
    this.#fail = reject;
  });
  /** Receives non-control messages (the IPC benchmark's payloads). */
  onData: ((data: Uint8Array) => void) | null = null;

  constructor(script: string, args: readonly string[], execArgv: readonly string[] = []) {
    this.script = script;
    this.child = fork(path.join(PEERS_DIR, `${script}.js`), args, {
      execArgv: [...execArgv],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#failed.catch(() => {}); // observed by failure() when someone races against it
    trackChild(this.child);
    this.child.on('message', (msg: unknown) => this.#receive(msg));
    this.child.on('exit', (code, signal) => {
      this.#exited ??= new Error(`peer ${script} exited (code ${code}, signal ${signal})`);
      this.#fail(this.#exited);
      for (const w of this.#waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`${this.#exited.message} while the parent waited for '${w.type}'`));
      }
    });
  }

  #receive(msg: unknown): void {
    if (ArrayBuffer.isView(msg)) {
      this.onData?.(msg as Uint8Array);
      return;
    }
    if (!isControl(msg)) return;
    if (msg.type === 'error') {
      const failure = new Error(`peer ${this.script}: ${String(msg.message)}`);
      for (const w of this.#waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(failure);
      }
      this.#exited ??= failure;
      this.#fail(failure);
      return;
    }
    const i = this.#waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(msg);
    } else {
      this.#inbox.push(msg);
    }
  }

  /** The next control message of this type (already received or still to come). */
  waitFor<T extends Control = Control>(type: string, timeoutMs = 30_000): Promise<T> {
    const i = this.#inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as T);
    if (this.#exited) return Promise.reject(this.#exited);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        reject(new Error(`peer ${this.script} sent no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({ type, resolve: resolve as (m: Control) => void, reject, timer });
    });
  }

  /** Rejects once the peer fails or exits: race a measurement against it. */
  failure(): Promise<never> {
    return this.#failed;
  }

  send(msg: Control | Uint8Array, callback?: (err: Error | null) => void): boolean {
    return this.child.send(msg, callback);
  }

  /** Asks the peer to stop, then kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Runs `measure` once more when the OS failed to start one of its processes ("spawn UNKNOWN", seen
 * now and then under wine): that is not a result of the transport measured, so it does not fail it.
 * Any other failure, or a second spawn failure, is thrown.
 */
export async function retryingSpawn<T>(measure: () => Promise<T>, what: string, log: (line: string) => void): Promise<T> {
  try {
    return await measure();
  } catch (err) {
    if (!(err instanceof Error) || !/^spawn /.test(err.message)) throw err;
    log(`${what}: ${err.message}, the OS did not start a peer process; once more`);
    return measure();
  }
}
