// Issue 15's target logic on made-up results: which rows decide, what is shown beside, when N/A.
import { ALL_FEATURES, type Features } from '../src/features';
import type { Summary } from '../src/stats';
import { evaluateTargets, type Measured } from '../src/targets';
import { sizeId } from '../src/targets-issue15';
import type { ContentionResult, IdleSide, RttResult, TargetRow, ThroughputResult, Transport } from '../src/types';

const KiB = 1024;
const MiB = 1024 * 1024;

function tp(transport: Transport, size: number, messagesPerSecond: number, lagP99Ms = 1): ThroughputResult {
  return { transport, size, capacity: null, batch: 1, rounds: [], messagesPerSecond, bytesPerSecond: messagesPerSecond * size, lagP99Ms };
}

function latency(p50: number, p99: number): Summary {
  return { count: 100, min: p50, p50, p90: p50, p99, p999: p99, max: p99, mean: p50 };
}

function rtt(transport: Transport, size: number, p50: number, p99: number): RttResult {
  return { transport, size, capacity: null, latencyMicros: latency(p50, p99), roundP50Micros: [p50] };
}

function idleSide(cpuPercent: number): IdleSide {
  return { cpuPercent, userMicros: 0, systemMicros: 0, elapsedSeconds: 1 };
}

function measured(parts: Partial<Measured>): Measured {
  return { rtt: [], throughput: [], contention: [], idle: null, memory: null, features: ALL_FEATURES, shmSendApi: 'send', ...parts };
}

function target(m: Measured, id: string): TargetRow {
  const row = evaluateTargets(m).find((r) => r.id === id);
  if (row === undefined) throw new Error(`no target ${id}`);
  return row;
}

describe('issue 15 targets', () => {
  test('sit beside issue 5 targets, each naming its issue, with unique ids', () => {
    const rows = evaluateTargets(measured({}));
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(rows.filter((r) => r.issue === 5).map((r) => r.id)).toContain('throughput-64');
    const i15 = rows.filter((r) => r.issue === 15);
    expect(i15.length).toBeGreaterThanOrEqual(20);
    for (const r of i15) expect(r.id).toMatch(/^i15-/);
    for (const r of rows) expect(r.verdict).toBe('N/A'); // nothing measured
  });

  test('size ids are short', () => {
    expect([64, KiB, 64 * KiB, MiB].map(sizeId)).toEqual(['64', '1k', '64k', '1m']);
  });

  test('defaults throughput is the write() row against the corked (2x) and the plain (8x) socket', () => {
    const m = measured({ throughput: [tp('shm-write', 64, 10e6), tp('shm', 64, 11e6), tp('socket-corked', 64, 5e6), tp('socket', 64, 1.3e6)] });
    expect(target(m, 'i15-defaults-vs-corked-64')).toMatchObject({ value: 2, verdict: 'PASS', measured: '2.00x' });
    expect(target(m, 'i15-defaults-vs-socket-64').verdict).toBe('MISS'); // 7.69x
    expect(target(m, 'i15-write-vs-send-64').value).toBeCloseTo(10 / 11, 5);
    expect(target(m, 'i15-write-vs-send-64').verdict).toBe('PASS');
    expect(target(m, 'i15-defaults-vs-corked-1k').verdict).toBe('N/A');
    const viaWrite = target({ ...m, shmSendApi: 'write' }, 'i15-write-vs-send-64');
    expect(viaWrite).toMatchObject({ verdict: 'N/A', measured: 'N/A: the events rows used write() (--shm-send write)' });
  });

  test('copying receive compares the defaults row with the socket and memcpy, send() shown beside', () => {
    const m = measured({
      throughput: [tp('shm-write', MiB, 4000), tp('shm', MiB, 6000), tp('socket', MiB, 1000), tp('memcpy', MiB, 10_000)],
    });
    expect(target(m, 'i15-copy-vs-socket-1m')).toMatchObject({ verdict: 'PASS', measured: '4.00x (send() 6.00x)' });
    expect(target(m, 'i15-copy-vs-memcpy-1m')).toMatchObject({ verdict: 'MISS', measured: '0.40x (send() 0.60x)' });
    expect(target(m, 'i15-copy-vs-memcpy-64k').verdict).toBe('N/A');
  });

  test('event round trips against the socket, receiveSync with defaults in µs with the spinning one beside', () => {
    const m = measured({
      rtt: [rtt('shm', 64, 10, 40), rtt('socket', 64, 40, 100), rtt('sync-default', 64, 1.5, 9), rtt('sync', 64, 0.9, 3)],
    });
    expect(target(m, 'i15-rtt-event-p50-64')).toMatchObject({ value: 0.25, verdict: 'PASS' });
    expect(target(m, 'i15-rtt-event-p99-64')).toMatchObject({ value: 0.4, verdict: 'PASS' });
    expect(target(m, 'i15-rtt-sync-default-p50-64')).toMatchObject({ value: 1.5, verdict: 'PASS', measured: '1.50 µs (spin: 0.90 µs)' });
    expect(target(m, 'i15-rtt-sync-default-p50-1k').verdict).toBe('N/A');
  });

  test('idle CPU is the worst of the readers measured', () => {
    const socket = idleSide(0.05);
    const m = measured({ idle: { seconds: 10, shm: idleSide(0.2), sync: idleSide(1.5), worker: null, socket } });
    expect(target(m, 'i15-idle-cpu')).toMatchObject({ value: 1.5, verdict: 'MISS', measured: 'events 0.200 %, receiveSync 1.500 %' });
  });

  test('event-loop lag is the worst shmlink row, naming it; sockets and ZeroMQ do not count', () => {
    const m = measured({ throughput: [tp('shm', 64, 1, 2), tp('shm-write', MiB, 1, 4.5), tp('socket', 64, 1, 50), tp('zmq', 64, 1, 60)] });
    expect(target(m, 'i15-lag')).toMatchObject({ value: 4.5, verdict: 'PASS', measured: '4.50 ms (shmlink defaults (write(), copies), 1 MiB)' });
  });

  test('contention is the loaded p99 over the idle p99 of shmlink, the socket beside', () => {
    const c = (transport: 'shm-write' | 'socket', idle: number, loaded: number): ContentionResult => ({
      transport, pingSize: 64, streamSize: MiB, idleMicros: latency(idle / 2, idle), loadedMicros: latency(loaded / 2, loaded), streamBytesPerSecond: 1e9,
    });
    const m = measured({ contention: [c('shm-write', 20, 50), c('socket', 100, 300)] });
    expect(target(m, 'i15-contention-p99')).toMatchObject({ value: 2.5, verdict: 'MISS', measured: '2.50x (20.00 µs -> 50.00 µs; socket 3.00x)' });
  });

  test('every shmlink mode must beat ZeroMQ: the slowest throughput mode and the worst RTT percentile decide', () => {
    const m = measured({
      throughput: [tp('shm-write', 64, 3e6), tp('shm', 64, 2e6), tp('shm-view', 64, 4e6), tp('zmq', 64, 1e6), tp('socket', 64, 0.1e6)],
      rtt: [rtt('shm', 64, 10, 300), rtt('sync', 64, 1, 5), rtt('zmq', 64, 100, 200)],
    });
    expect(target(m, 'i15-zmq-throughput-64')).toMatchObject({ value: 2, verdict: 'PASS', measured: '2.00x (shmlink events)' });
    expect(target(m, 'i15-zmq-rtt-64')).toMatchObject({ value: 1.5, verdict: 'MISS', measured: '1.50x (shmlink events p99)' });
  });

  test('without ZeroMQ its rows are N/A and say why', () => {
    const features: Features = { ...ALL_FEATURES, zmq: { available: false, detail: 'zeromq did not load: no prebuild' } };
    const m = measured({ features, throughput: [tp('shm', 64, 1e6)], rtt: [rtt('shm', 64, 10, 20)] });
    for (const id of ['i15-zmq-throughput-64', 'i15-zmq-rtt-64']) {
      expect(target(m, id)).toMatchObject({ verdict: 'N/A', value: null, measured: 'N/A: zeromq did not load: no prebuild' });
    }
  });
});
