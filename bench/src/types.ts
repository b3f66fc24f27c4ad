// The shape of a benchmark run's results (also the JSON written to bench/results/).
import type { Summary } from './stats';
import type { Transport } from './peers/protocol';

export type { Transport };

export const TRANSPORT_LABEL: Record<Transport, string> = {
  shm: 'shmlink events',
  'shm-view': 'shmlink events, views',
  'shm-write': 'shmlink defaults (write(), copies)',
  'shm-worker': "shmlink reader: 'worker'",
  sync: 'shmlink receiveSync, spin',
  'sync-default': 'shmlink receiveSync, defaults',
  socket: 'Unix socket',
  'socket-corked': 'Unix socket, corked',
  zmq: 'ZeroMQ PAIR ipc://',
  ipc: 'child_process IPC',
  memcpy: 'memcpy, 1 core (reference)',
};

/** The shmlink transports of the throughput benchmark (their capacity is capacityFor(size)). */
export const SHM_THROUGHPUT: readonly Transport[] = ['shm', 'shm-view', 'shm-write', 'shm-worker'];
/** The shmlink transports of the round trip (capacity RTT_CAPACITY). */
export const SHM_RTT: readonly Transport[] = ['shm', 'shm-worker', 'sync', 'sync-default'];

export interface RttResult {
  transport: Transport;
  size: number;
  /** Capacity of the communicator (shm and sync), bytes. */
  capacity: number | null;
  /** Percentiles over the timed samples of every round, in µs. */
  latencyMicros: Summary;
  /** The p50 of each round, in µs (shows the spread between rounds). */
  roundP50Micros: number[];
}

export interface ThroughputRound {
  messages: number;
  bytes: number;
  /** From the sender's first write to the receiver's last message (one monotonic clock). */
  seconds: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** CPU of the receiving process while messages flowed, % of one core. */
  receiverCpuPercent: number;
  /** Event-loop utilization of the receiver's main thread while messages flowed, % (performance.eventLoopUtilization). */
  receiverMainPercent: number;
  /** The receiver main thread's busy time while messages flowed, ms (ELU 'active'; a worker reader's thread is not in it). */
  receiverMainActiveMs: number;
  /** Event-loop delay in the receiving process while messages flowed. */
  lagP99Ms: number;
  lagMaxMs: number;
}

export interface ThroughputResult {
  transport: Transport;
  size: number;
  /** Communicator capacity used for this size (shm and shm-view only), bytes. */
  capacity: number | null;
  /** Messages a sender queues before it waits for the transport. */
  batch: number;
  rounds: ThroughputRound[];
  /** Medians over the rounds. */
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** The worst round's event-loop delay p99 in the receiver. */
  lagP99Ms: number;
}

/** The contention benchmark runs shmlink with default options and the Unix socket. */
export type ContentionTransport = 'shm-write' | 'socket';

export interface ContentionResult {
  transport: ContentionTransport;
  pingSize: number;
  streamSize: number;
  /** Small round trips with no other traffic, µs (all rounds pooled). */
  idleMicros: Summary;
  /** The same while the peer streams `streamSize` messages back over the same connection, µs. */
  loadedMicros: Summary;
  /** What the stream moved while the loaded round trips ran (mean of rounds). */
  streamBytesPerSecond: number;
}

export interface IdleSide {
  cpuPercent: number;
  userMicros: number;
  systemMicros: number;
  elapsedSeconds: number;
}

export interface IdleResult {
  seconds: number;
  /** An event reader (startReader, default options) with no traffic. */
  shm: IdleSide;
  /** A worker thread in receiveSync with default options (timeout 100 ms, looped) and no traffic. */
  sync: IdleSide | null;
  /** An event reader with reader: 'worker', when the option exists. */
  worker: IdleSide | null;
  /** The same process with an idle Unix-socket reader instead: Node's own idle cost. */
  socket: IdleSide;
}

export type MemorySnapshot = Record<string, number>;

export interface MemoryResult {
  count: number;
  capacity: number;
  /** After one warm-up communicator (module, addon and thread pool loaded). */
  before: MemorySnapshot;
  after: MemorySnapshot;
  perCommunicator: {
    /** ΔRSS / N. */
    rssBytes: number;
    /** (ΔRSS − N × capacity) / N: the memory target's own definition (negative when pages of the region stay untouched). */
    beyondCapacityBytes: number;
    /** (ΔRssAnon + ΔRssFile) / N: memory that is not the shared region itself (Linux). */
    privateBytes: number;
    /** ΔRssShmem / N: the part of the region that became resident (Linux). */
    shmemBytes: number;
  };
}

export type Verdict = 'PASS' | 'MISS' | 'N/A';

export interface TargetRow {
  /** Which issue set the target (5: the first round, 15: defaults, ZeroMQ, worker reader). */
  issue: 5 | 15;
  id: string;
  what: string;
  goal: string;
  /** The measured quantity the goal is about (a ratio, µs, %, ms or bytes), null when not measured. */
  value: number | null;
  measured: string;
  verdict: Verdict;
}

export interface BenchError {
  benchmark: string;
  detail: string;
  message: string;
}
