// Shared by the native test files: unique names, cleanup, and remote-controlled peers (real
// processes via fork, or worker threads) running fixtures/agent.js.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { NamedEvent, NamedMutex, Region } from '@shmlink/native';

export const FIXTURES = path.join(__dirname, 'fixtures');

// Every object a test creates carries this prefix, so leftovers are easy to find and remove.
export const PREFIX = `t${process.pid}-`;
let counter = 0;
const used = new Set<string>();

export function uniqueName(): string {
  const name = `${PREFIX}${++counter}`;
  used.add(name);
  return name;
}

/** Removes every region, event and mutex a test of this file may have created. */
export function removeNames(): void {
  for (const name of used) {
    Region.unlinkIfExists(name);
    NamedEvent.unlink(name);
    NamedMutex.unlink(name);
  }
  used.clear();
}

/** Shared-memory objects of this test process still present (in /dev/shm on Linux). */
export function leftovers(): string[] {
  return Region.list().filter((n) => n.includes(PREFIX));
}

export interface RemoteError extends Error {
  code?: string;
}

interface Reply {
  id?: number;
  ready?: number;
  value?: unknown;
  error?: { code?: string; name: string; message: string };
}

function encode(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $buf: Buffer.from(value).toString('base64') };
  return value;
}

function decode(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $buf?: unknown }).$buf === 'string') {
    return Buffer.from((value as { $buf: string }).$buf, 'base64');
  }
  return value;
}

/** A peer running fixtures/agent.js; calls are forwarded and their results (or error codes) returned. */
export class Agent {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #send: (message: unknown) => void;
  #stop: () => Promise<void>;
  #next = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  private constructor(
    pid: number,
    send: (message: unknown) => void,
    stop: () => Promise<void>,
    exited: Promise<{ code: number | null; signal: string | null }>,
  ) {
    this.pid = pid;
    this.#send = send;
    this.#stop = stop;
    this.exited = exited;
  }

  /** A real process, forked. */
  static process(): Promise<Agent> {
    const child: ChildProcess = fork(path.join(FIXTURES, 'agent.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return Agent.#start(
      (listener) => child.on('message', listener),
      (m) => child.send(m as object),
      async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
      exited,
    );
  }

  /** A worker thread of this process. */
  static worker(): Promise<Agent> {
    const worker = new Worker(path.join(FIXTURES, 'agent.js'));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      worker.once('exit', (code) => resolve({ code, signal: null })),
    );
    return Agent.#start(
      (listener) => worker.on('message', listener),
      (m) => worker.postMessage(m),
      async () => {
        await worker.terminate();
      },
      exited,
    );
  }

  static #start(
    listen: (listener: (m: Reply) => void) => void,
    send: (m: unknown) => void,
    stop: () => Promise<void>,
    exited: Promise<{ code: number | null; signal: string | null }>,
  ): Promise<Agent> {
    return new Promise((resolve, reject) => {
      let agent: Agent | undefined;
      exited.then((how) => {
        const err = new Error(`agent exited (${how.code ?? how.signal}) before answering`);
        if (agent === undefined) reject(err);
        else for (const p of agent.#pending.values()) p.reject(err);
      });
      listen((m) => {
        if (m.ready !== undefined) {
          agent = new Agent(m.ready, send, stop, exited);
          running.add(agent);
          resolve(agent);
          return;
        }
        if (agent === undefined) return;
        const pending = agent.#pending.get(m.id!);
        if (pending === undefined) return;
        agent.#pending.delete(m.id!);
        if (m.error !== undefined) {
          pending.reject(Object.assign(new Error(`${m.error.name}: ${m.error.message}`), { code: m.error.code }));
        } else {
          pending.resolve(decode(m.value));
        }
      });
    });
  }

  #request(message: Record<string, unknown>): Promise<unknown> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ ...message, id });
    });
  }

  /** Calls native[cls][method](...args) in the peer; keeps an object result under `key`. */
  callStatic(cls: 'Region' | 'NamedEvent' | 'NamedMutex', method: string, args: unknown[], key?: string): Promise<unknown> {
    return this.#request({ op: 'static', cls, method, args: args.map(encode), key });
  }

  /** Calls handles[key][method](...args) in the peer and awaits the result. */
  invoke(key: string, method: string, ...args: unknown[]): Promise<unknown> {
    return this.#request({ op: 'invoke', key, method, args: args.map(encode) });
  }

  get(key: string, prop: string): Promise<unknown> {
    return this.#request({ op: 'get', key, prop });
  }

  /** A blocking Region.wait() in a worker thread of the peer. */
  waitInWorker(name: string, offset: number, expected: number, timeoutMs: number): Promise<unknown> {
    return this.#request({ op: 'waitInWorker', name, offset, expected, timeoutMs });
  }

  /** Asks the peer to exit by itself (process.exit). */
  exit(code = 0): void {
    this.#send({ op: 'exit', code });
  }

  /** Kills the process (SIGKILL) or terminates the worker, and waits until it is gone. */
  async stop(): Promise<void> {
    running.delete(this);
    await this.#stop();
  }
}

const running = new Set<Agent>();

/** Stops every agent still running; call it in afterEach. */
export async function stopAgents(): Promise<void> {
  await Promise.all([...running].map((a) => a.stop()));
}

/**
 * Calls notify() on a word until it reports a woken waiter: proof that a peer is asleep on that
 * word (in whatever process). Fails after `limitMs` rather than hanging.
 */
export async function notifyUntilWoken(region: Region, offset: number, count = Infinity, limitMs = 10000): Promise<number> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const woken = region.notify(offset, count);
    if (woken > 0) return woken;
    if (Date.now() > deadline) throw new Error(`nobody waited on offset ${offset} within ${limitMs} ms`);
    await sleep(2);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a synchronous call throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): RemoteError {
  try {
    fn();
  } catch (err) {
    return err as RemoteError;
  }
  throw new Error('expected the call to throw');
}
