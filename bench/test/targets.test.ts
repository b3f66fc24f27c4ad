import { ALL_FEATURES } from '../src/features';
import { evaluateTargets } from '../src/targets';
import type { ThroughputResult, Transport } from '../src/types';

const MiB = 1024 * 1024;

function tp(transport: Transport, size: number, bytesPerSecond: number): ThroughputResult {
  return {
    transport, size, capacity: null, batch: 1, rounds: [],
    messagesPerSecond: bytesPerSecond / size, bytesPerSecond, lagP99Ms: 1,
  };
}

function target(id: string, throughput: ThroughputResult[]) {
  const row = evaluateTargets({ rtt: [], throughput, contention: [], idle: null, memory: null, features: ALL_FEATURES, shmSendApi: 'send' }).find((r) => r.id === id);
  if (row === undefined) throw new Error(`no target ${id}`);
  return row;
}

describe('throughput targets', () => {
  test('take the faster receive mode and show the other one and the corked socket beside it', () => {
    const row = target('throughput-1MiB', [
      tp('shm', MiB, 6e9), tp('shm-view', MiB, 14e9), tp('socket', MiB, 3e9), tp('socket-corked', MiB, 2.8e9),
    ]);
    expect(row.value).toBeCloseTo(14 / 3, 5);
    expect(row.verdict).toBe('PASS');
    expect(row.measured).toBe('4.67x views (copies 2.00x, corked 5.00x)');
  });

  test('copies can be the faster mode; a ratio below the goal misses', () => {
    const row = target('throughput-64', [tp('shm', 64, 3.5e8), tp('shm-view', 64, 3.2e8), tp('socket', 64, 1e8)]);
    expect(row.measured).toBe('3.50x copies (views 3.20x)');
    expect(row.verdict).toBe('MISS');
  });

  test('without a socket result there is no verdict', () => {
    expect(target('throughput-1024', [tp('shm', 1024, 1e9)]).verdict).toBe('N/A');
  });
});
