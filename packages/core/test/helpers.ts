// Shared by the core test files: unique region names, cleanup, peers in real processes running
// fixtures/peer.js, and small waiting helpers.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Communicator, type CommunicatorOptions, type PeerEvent } from '@shmlink/core';
import { Region, type ShmError } from '@shmlink/native';
import { makeMessage, sizeFor } from './fixtures/messages';

export const FIXTURES = path.join(__dirname, 'fixtures');

// Every region a test creates carries this prefix, so leftovers are easy to find.
export const PREFIX = `c${process.pid}-`;
let counter = 0;
const names = new Set<string>();
const communicators = new Set<Communicator>();
const peers = new Set<Peer>();
const racers = new Set<Racer>();

export function uniqueName(): string {
  const name = `${PREFIX}${++counter}`;
  names.add(name);
  return name;
}

/** A Communicator of this process that cleanup() disposes, with its events recorded. */
export function open(name: string, capacity: number, options?: CommunicatorOptions): Recorded {
  return record(new Communicator(name, capacity, options));
}

export interface Recorded {
  comm: Communicator;
  data: Buffer[];
  errors: ShmError[];
  peers: PeerEvent[];
}

export function record(comm: Communicator, keepData = true): Recorded {
  communicators.add(comm);
  const rec: Recorded = { comm, data: [], errors: [], peers: [] };
  if (keepData) comm.on('data', (d) => rec.data.push(d));
  comm.on('error', (e) => rec.errors.push(e));
  comm.on('peer', (e) => rec.peers.push(e));
  return rec;
}

/** Disposes this process's communicators, kills every peer process and removes every name. */
export async function cleanup(): Promise<void> {
  for (const comm of communicators) {
    try {
      comm.dispose();
    } catch {
      // already broken: the name is removed below anyway
    }
  }
  communicators.clear();
  await Promise.all([...peers].map((p) => p.kill()));
  peers.clear();
  await Promise.all([...racers].map((r) => r.stop()));
  racers.clear();
  await Promise.all([...loggingReaders].map((r) => killReader(r)));
  loggingReaders.clear();
  for (const name of names) {
    Region.unlinkIfExists(name);
    if (process.platform !== 'win32') for (const file of filesOf(name)) fs.rmSync(path.join(SHM_DIR, file), { force: true });
  }
  names.clear();
}

const SHM_DIR = '/dev/shm';

/**
 * What exists of the region `name`: the region and any object named after it ('name@...'). Linux:
 * the entries in /dev/shm (doorbell FIFOs included). Windows has no such directory: its named
 * objects go with their last handle, and Region.list() reports the regions still alive.
 */
export function filesOf(name: string): string[] {
  const all = process.platform === 'win32' ? Region.list(name) : fs.readdirSync(SHM_DIR);
  return all.filter((f) => f === name || f.startsWith(`${name}@`));
}

/** Shared-memory objects of this test process still present (see filesOf). */
export function leftovers(): string[] {
  const all = process.platform === 'win32' ? Region.list(PREFIX) : fs.readdirSync(SHM_DIR);
  return all.filter((f) => f.startsWith(PREFIX));
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the rejection of `promise` (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<ShmError> {
  try {
    await promise;
  } catch (err) {
    return err as ShmError;
  }
  throw new Error('expected a rejection, the promise resolved');
}

export interface PeerConfig {
  name: string;
  /** 0: the peer uses Communicator.open(name). */
  capacity: number;
  options?: CommunicatorOptions;
  readPosition?: number;
  writePosition?: number;
  verify?: ({ seed: number; maxSize: number } | { seed: number; size: number }) & { from?: number };
  echo?: boolean;
  start?: boolean;
}

export interface PeerStats {
  received: number;
  receivedBytes: number;
  bad: number;
  firstProblem: string | null;
  errors: number;
  errorCodes: string[];
  peers: PeerEvent[];
  committed: number;
  writeFailures: { seq: number; code: string }[];
  echoFailures: string[];
  memory: {
    baseRss: number;
    baseHeapUsed: number;
    maxRss: number;
    maxHeapUsed: number;
    maxExternal: number;
  } | null;
}

export interface WriteResult {
  committed: number;
  failures: { seq: number; code: string }[];
  memory: PeerStats['memory'];
}

export interface RemoteError extends Error {
  code?: string;
}

/** The other side of a channel, in a real process running fixtures/peer.js. */
export class Peer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** 'peer' and 'error' events the child's communicator emitted, in order. */
  readonly events: { event: 'peer' | 'error'; type?: string; pid?: number; code?: string }[] = [];
  #next = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #thaw: string | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitStatus = { code, signal };
        for (const p of this.#pending.values()) p.reject(new Error(`peer ${this.pid} exited (${code ?? signal})`));
        this.#pending.clear();
        resolve({ code, signal });
      });
    });
    child.on('message', (msg: { id?: number; value?: unknown; error?: { code?: string; message: string }; event?: 'peer' | 'error' }) => {
      if (msg.event !== undefined) {
        this.events.push(msg as Peer['events'][number]);
        return;
      }
      if (msg.id === undefined) return;
      const pending = this.#pending.get(msg.id);
      if (pending === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.error !== undefined) {
        const err: RemoteError = new Error(`peer: ${msg.error.message}`);
        if (msg.error.code !== undefined) err.code = msg.error.code;
        pending.reject(err);
      } else {
        pending.resolve(msg.value);
      }
    });
  }

  /** `env` adds to the environment the process inherits. */
  static async start(config: PeerConfig, execArgv: string[] = [], env: Record<string, string> = {}): Promise<Peer> {
    const child = fork(path.join(FIXTURES, 'peer.js'), [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv,
      env: { ...process.env, ...env },
    });
    const peer = new Peer(child);
    peers.add(peer);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: { ready?: number; failed?: { code?: string; message: string } }) => {
        if (msg.failed !== undefined) {
          const err: RemoteError = new Error(`peer failed to start: ${msg.failed.message}`);
          if (msg.failed.code !== undefined) err.code = msg.failed.code;
          reject(err);
          return;
        }
        if (msg.ready === undefined) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      // The IPC message saying why may arrive after the exit: give it a moment to win.
      child.once('exit', (code, signal) => setTimeout(() => reject(new Error(`peer exited before ready (${code ?? signal})`)), 100));
    });
    return peer;
  }

  get alive(): boolean {
    return this.#exitStatus === null;
  }

  call<T = unknown>(op: string, args?: object): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`peer ${this.pid} has exited`));
    const id = ++this.#next;
    const reply = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
    // A call still pending when a failed test's cleanup kills the peer must not crash jest (and
    // hide that failure) as an unhandled rejection; callers that await it still see the error.
    reply.catch(() => undefined);
    return reply;
  }

  stats(): Promise<PeerStats> {
    return this.call<PeerStats>('stats');
  }

  write(args: { seed: number; from?: number; count: number; maxSize?: number; size?: number; window?: number; sampleEvery?: number }): Promise<WriteResult> {
    return this.call<WriteResult>('write', args);
  }

  peerEvents(): string[] {
    return this.events.filter((e) => e.event === 'peer').map((e) => e.type!);
  }

  /**
   * Stops the peer until resume(): SIGSTOP where there is one. Windows has no signal that stops a
   * process, so there the peer blocks its own event loop — where all its channel work runs — until
   * resume() creates the file it polls (fixtures/peer.js 'freeze'); resolved once it is blocked.
   * Takes effect between two turns of the peer's event loop, not inside one, as SIGSTOP may.
   */
  async pause(): Promise<void> {
    if (process.platform !== 'win32') {
      this.child.kill('SIGSTOP');
      return;
    }
    this.#thaw = path.join(os.tmpdir(), `shmlink-thaw-${this.pid}-${++this.#next}`);
    const frozen = `${this.#thaw}.frozen`;
    void this.call('freeze', { thaw: this.#thaw });
    await waitFor(() => fs.existsSync(frozen), 'the peer to freeze');
  }

  resume(): void {
    if (process.platform !== 'win32') {
      this.child.kill('SIGCONT');
      return;
    }
    if (this.#thaw === undefined) return;
    fs.writeFileSync(this.#thaw, '');
    const thaw = this.#thaw;
    this.#thaw = undefined;
    // The peer removes it as it thaws; a peer killed while frozen leaves it to us.
    void this.exited.then(() => {
      fs.rmSync(thaw, { force: true });
      fs.rmSync(`${thaw}.frozen`, { force: true });
    });
  }

  /** Ends the process (SIGKILL by default) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }
}

/** Writes messages `from`..`from+count-1` of stream `seed` (messages.js), at most `window` in flight. */
export async function writeStream(
  comm: Communicator,
  { seed, from = 0, count, maxSize, size, window = 64 }: { seed: number; from?: number; count: number; maxSize?: number; size?: number; window?: number },
): Promise<void> {
  let inFlight: Promise<void>[] = [];
  for (let seq = from; seq < from + count; seq++) {
    inFlight.push(comm.write(makeMessage(seed, seq, size ?? sizeFor(seed, seq, maxSize!))));
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}

/** What a fixtures/claim-racer.js process answers to 'go' and 'join'. */
export type RaceOutcome = { won: true; side: string } | { won: false; code: string };

/**
 * A process running fixtures/claim-racer.js: it opens and starts channels when told, at an instant
 * it is told, to race other processes for a side or a region. One request at a time.
 */
export class Racer {
  readonly child: ChildProcess;
  #waiting: { resolve: (msg: Record<string, unknown>) => void; reject: (err: Error) => void } | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (msg: Record<string, unknown>) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (msg.failed !== undefined) waiting?.reject(new Error(`racer ${child.pid}: ${JSON.stringify(msg.failed)}`));
      else waiting?.resolve(msg);
    });
    child.once('exit', (code, signal) => this.#waiting?.reject(new Error(`racer ${child.pid} exited (${code ?? signal})`)));
  }

  static async start(): Promise<Racer> {
    const racer = new Racer(fork(path.join(FIXTURES, 'claim-racer.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    racers.add(racer);
    await racer.#next();
    return racer;
  }

  #next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  async request<T>(msg: object): Promise<T> {
    const reply = this.#next();
    this.child.send(msg);
    return (await reply) as T;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

/** A fixtures/logging-reader.js process: it logs every message its listener got as "seq ok|bad". */
export interface LoggingReader {
  child: ChildProcess;
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const loggingReaders = new Set<LoggingReader>();

/** Starts fixtures/logging-reader.js with `config` (and `log`); resolves once it is reading. cleanup() kills it. */
export async function startLoggingReader(config: object, log: string): Promise<LoggingReader> {
  const child = fork(path.join(FIXTURES, 'logging-reader.js'), [JSON.stringify({ ...config, log })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const reader = { child, log, exited };
  loggingReaders.add(reader);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean }) => m.ready === true && resolve());
    child.once('exit', (code, signal) => reject(new Error(`reader exited before ready (${code ?? signal})`)));
  });
  return reader;
}

/** Kills a logging reader and waits until it is gone. */
export async function killReader(reader: LoggingReader): Promise<void> {
  reader.child.kill('SIGKILL');
  await reader.exited;
}

/** A logging reader's log as [seq, intact], in the order its listener got them. */
export function logged(log: string): [number, boolean][] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [seq, ok] = l.split(' ');
      return [Number(seq), ok === 'ok'];
    });
}
