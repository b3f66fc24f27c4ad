// Command-line flags of the benchmark suite, their defaults and their parsing.
import path from 'node:path';

export const BENCHMARKS = ['rtt', 'throughput', 'contention', 'idle', 'memory'] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

/** How the shmlink throughput sender queues its messages. */
export type ShmSendApi = 'send' | 'write';

export interface Options {
  /** Which benchmarks run, in this order. */
  only: Benchmark[];
  /** Message sizes of the round-trip benchmark, bytes. */
  rttSizes: number[];
  /** Message sizes of the throughput benchmark, bytes. */
  throughputSizes: number[];
  /** Each measurement is repeated this often; transports are interleaved within a round. */
  rounds: number;
  /** Timed ping-pongs per transport, size and round. */
  iterations: number;
  /** Untimed ping-pongs before them. */
  warmup: number;
  /** Seconds of sending per throughput measurement. */
  duration: number;
  /** A throughput sender queues about this many bytes before it waits for the transport. */
  batchBytes: number;
  /** child_process IPC joins the throughput benchmark for sizes up to this many bytes. */
  ipcMaxSize: number;
  /** `poll` (µs) of the event-API communicators: how long they keep polling after traffic. */
  poll: number;
  /** `pollBusy` (µs) of the event-API communicators: the poll window while the stream is dense. */
  pollBusy: number;
  /** How the shmlink throughput sender queues messages: send() (no Promise) or write(). */
  shmSendApi: ShmSendApi;
  /** The "defaults" sender (write() per message) awaits every this-many-th write (fewer when a batch is smaller). */
  writeAwait: number;
  /** Whether the ZeroMQ peer runs (when its addon loads). */
  zmq: boolean;
  /** Timed small round trips of the contention benchmark, idle and under the stream each. */
  contentionIterations: number;
  /** `spin` (µs) of receiveSync on both sides of the synchronous round trip. */
  syncSpin: number;
  /** Seconds over which the idle reader's CPU is measured. */
  idleSeconds: number;
  /** Communicators created by the memory benchmark. */
  memoryCount: number;
  /** Capacity of each of them, bytes. */
  memoryCapacity: number;
  /** Directory of the JSON result. */
  out: string;
}

export function defaults(): Options {
  return {
    only: [...BENCHMARKS],
    rttSizes: [64, 1024],
    throughputSizes: [64, 1024, 64 * 1024, 1024 * 1024],
    rounds: 3,
    iterations: 10_000,
    warmup: 10_000,
    duration: 2,
    batchBytes: 256 * 1024,
    ipcMaxSize: 1024,
    poll: 200,
    pollBusy: 2000,
    shmSendApi: 'send',
    writeAwait: 256,
    zmq: true,
    contentionIterations: 2000,
    syncSpin: 200,
    idleSeconds: 10,
    memoryCount: 20,
    memoryCapacity: 1024 * 1024,
    out: path.join(__dirname, '..', 'results'),
  };
}

/**
 * `--quick`: a smoke run of every benchmark in well under a minute. Its numbers are not
 * measurements (short windows, no rounds): it shows that everything runs. Later flags override it.
 */
export function quick(o: Options): Options {
  return {
    ...o, rounds: 1, iterations: 1000, warmup: 1000, duration: 0.3, contentionIterations: 200,
    idleSeconds: 1, memoryCount: 4,
  };
}

export const HELP = `Usage: pnpm bench [-- flags]

  --quick                a smoke run (~30 s): 1 round, short windows; not for numbers
  --only LIST            benchmarks to run, of ${BENCHMARKS.join(',')} (default: all)
  --sizes LIST           message sizes for rtt and throughput, e.g. 64,1k,64k,1m
  --rtt-sizes LIST       round-trip sizes only (default 64,1k)
  --throughput-sizes LIST  throughput sizes only (default 64,1k,64k,1m)
  --rounds N             repetitions of each measurement (default 3)
  --iterations N         timed ping-pongs per transport, size and round (default 10000)
  --warmup N             untimed ping-pongs before them (default 10000)
  --duration S           seconds of sending per throughput measurement (default 2)
  --batch-bytes N        bytes a throughput sender queues before waiting (default 256k)
  --ipc-max-size N       largest throughput size also sent over child_process IPC (default 1k)
  --poll US              event-API poll window in µs (default 200, the library's)
  --poll-busy US         event-API poll window of a dense stream in µs (default 2000, the library's;
                         set it to --poll to measure without the wide window)
  --shm-send API         how the "shmlink events" throughput sender queues: send (default; no
                         Promise, 'drain' as a socket) or write (a Promise per message)
  --write-await N        the "defaults" sender awaits every N-th write() (default 256; at most
                         --batch-bytes are queued, so every 4th at 64 KiB, each at 1 MiB)
  --no-zmq               leave the ZeroMQ peer out
  --contention-iterations N  small round trips timed idle and under the 1 MiB stream (default 2000)
  --sync-spin US         spin of receiveSync in the synchronous round trip in µs (default 200)
  --idle-seconds S       idle-reader CPU window (default 10)
  --memory-count N       communicators created by the memory benchmark (default 20)
  --memory-capacity N    capacity of each (default 1m)
  --out DIR              where the JSON goes (default bench/results)
  --help                 this text

Sizes accept the suffixes k (KiB) and m (MiB).`;

export class UsageError extends Error {}

/** Parses `argv` (without node and script); returns null when --help was asked for. */
export function parseArgs(argv: readonly string[]): Options | null {
  let options = defaults();
  if (argv.includes('--quick')) options = quick(options);
  let sizes: number[] | undefined;
  let rttSizes: number[] | undefined;
  let throughputSizes: number[] | undefined;
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return null;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--quick':
        break; // applied before the other flags
      case '--no-zmq':
        options.zmq = false;
        break;
      case '--write-await':
        options.writeAwait = parseNumber(flag, value(), 1, 1_000_000, true);
        break;
      case '--contention-iterations':
        options.contentionIterations = parseNumber(flag, value(), 1, 10_000_000, true);
        break;
      case '--only':
        options.only = parseOnly(value());
        break;
      case '--sizes':
        sizes = parseSizes(flag, value());
        break;
      case '--rtt-sizes':
        rttSizes = parseSizes(flag, value());
        break;
      case '--throughput-sizes':
        throughputSizes = parseSizes(flag, value());
        break;
      case '--rounds':
        options.rounds = parseNumber(flag, value(), 1, 1000, true);
        break;
      case '--iterations':
        options.iterations = parseNumber(flag, value(), 1, 10_000_000, true);
        break;
      case '--warmup':
        options.warmup = parseNumber(flag, value(), 0, 10_000_000, true);
        break;
      case '--duration':
        options.duration = parseNumber(flag, value(), 0.01, 3600, false);
        break;
      case '--batch-bytes':
        options.batchBytes = parseSize(flag, value());
        break;
      case '--ipc-max-size':
        options.ipcMaxSize = parseSize(flag, value(), 0);
        break;
      case '--poll':
        options.poll = parseNumber(flag, value(), 0, 1_000_000, true);
        break;
      case '--poll-busy':
        options.pollBusy = parseNumber(flag, value(), 0, 1_000_000, true);
        break;
      case '--shm-send': {
        const api = value();
        if (api !== 'send' && api !== 'write') throw new UsageError(`--shm-send takes send or write, not '${api}'`);
        options.shmSendApi = api;
        break;
      }
      case '--sync-spin':
        options.syncSpin = parseNumber(flag, value(), 0, 1_000_000, true);
        break;
      case '--idle-seconds':
        options.idleSeconds = parseNumber(flag, value(), 0.1, 3600, false);
        break;
      case '--memory-count':
        options.memoryCount = parseNumber(flag, value(), 1, 10_000, true);
        break;
      case '--memory-capacity':
        options.memoryCapacity = parseSize(flag, value(), 640);
        break;
      case '--out':
        options.out = path.resolve(value());
        break;
      default:
        throw new UsageError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    }
  }
  options.rttSizes = rttSizes ?? sizes ?? options.rttSizes;
  options.throughputSizes = throughputSizes ?? sizes ?? options.throughputSizes;
  return options;
}

function parseOnly(text: string): Benchmark[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) {
      throw new UsageError(`--only: unknown benchmark ${JSON.stringify(name)}, expected some of ${BENCHMARKS.join(',')}`);
    }
  }
  if (names.length === 0) throw new UsageError('--only needs at least one benchmark');
  return BENCHMARKS.filter((b) => names.includes(b));
}

function parseSizes(flag: string, text: string): number[] {
  const sizes = text.split(',').map((s) => parseSize(flag, s.trim()));
  if (sizes.length === 0) throw new UsageError(`${flag} needs at least one size`);
  return [...new Set(sizes)];
}

/** "64", "1k", "64K", "1m": bytes, with k = 1024 and m = 1024². */
export function parseSize(flag: string, text: string, min = 1): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text);
  const unit = match?.[2]?.toLowerCase();
  const bytes = match ? Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1) : NaN;
  if (!Number.isInteger(bytes) || bytes < min || bytes > 256 * 1024 * 1024) {
    throw new UsageError(`${flag}: ${JSON.stringify(text)} expected a whole number of bytes in ${min}..256m`);
  }
  return bytes;
}

function parseNumber(flag: string, text: string, min: number, max: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: ${JSON.stringify(text)} expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
  }
  return n;
}
