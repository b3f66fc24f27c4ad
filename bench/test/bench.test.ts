// Smoke test of the harness: runs the whole suite with tiny sizes and durations and checks the
// JSON it writes. No timing assertions: benchmarks are not tests.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Region } from '@shmlink/native';

const BENCH = path.join(__dirname, '..');
const TSC = require.resolve('typescript/bin/tsc');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(BENCH, 'dist', 'cli.js'), ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const summaryKeys = ['count', 'min', 'p50', 'p90', 'p99', 'p999', 'max', 'mean'];

describe('pnpm bench (tiny run)', () => {
  let out: string;
  let run: Run;
  let result: Record<string, any>;

  beforeAll(async () => {
    execFileSync(process.execPath, [TSC, '-b', BENCH], { stdio: 'inherit' });
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-bench-test-'));
    run = await runCli([
      '--', '--quick', '--sizes', '64', '--duration', '0.2', '--iterations', '100', '--warmup', '10', '--contention-iterations', '20',
      '--idle-seconds', '0.3', '--memory-count', '2', '--memory-capacity', '64k', '--out', out,
    ]);
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.json'));
    result = files.length === 1 ? JSON.parse(fs.readFileSync(path.join(out, files[0]!), 'utf8')) : {};
  }, 180_000);

  afterAll(() => {
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('exits 0, prints the targets table and writes one JSON file', () => {
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Targets \(issue 5\)/);
    expect(run.stdout).toMatch(/Targets \(issue 15\)/);
    expect(result.schema).toBe(2);
  });

  it('describes the machine and the parameters', () => {
    expect(result.machine).toEqual(
      expect.objectContaining({
        cpuModel: expect.any(String),
        cpuCount: expect.any(Number),
        totalMemoryBytes: expect.any(Number),
        node: process.version,
        kernel: os.release(),
      }),
    );
    expect(result.parameters).toEqual(expect.objectContaining({ rttSizes: [64], throughputSizes: [64], rounds: 1, duration: 0.2 }));
  });

  /** The optional transports: ZeroMQ when its addon loads, the worker reader when core has it. */
  function optional(zmq: string[], worker: string[]): string[] {
    return [...(result.features.zmq.available ? zmq : []), ...(result.features.workerReader.available ? worker : [])];
  }

  it('says which optional peers ran', () => {
    for (const f of [result.features.zmq, result.features.workerReader]) {
      expect(f).toEqual({ available: expect.any(Boolean), detail: expect.any(String) });
    }
    expect(result.notes.features).toMatch(/ZeroMQ: .*reader 'worker': /);
  });

  it('has round trips for every transport', () => {
    expect(result.rtt.map((r: { transport: string }) => r.transport).sort()).toEqual(
      ['ipc', 'shm', 'socket', 'sync', 'sync-default', ...optional(['zmq'], ['shm-worker'])].sort(),
    );
    for (const r of result.rtt) {
      expect(r.size).toBe(64);
      expect(Object.keys(r.latencyMicros).sort()).toEqual([...summaryKeys].sort());
      expect(r.latencyMicros.count).toBe(100);
    }
  });

  it('has throughput for every transport, with the capacity used', () => {
    const transports = result.throughput.map((r: { transport: string }) => r.transport).sort();
    expect(transports).toEqual(
      ['ipc', 'memcpy', 'shm', 'shm-view', 'shm-write', 'socket', 'socket-corked', ...optional(['zmq'], ['shm-worker'])].sort(),
    );
    for (const r of result.throughput) {
      expect(r.messagesPerSecond).toBeGreaterThan(0);
      expect(r.bytesPerSecond).toBeCloseTo(r.messagesPerSecond * 64, 0);
      expect(r.rounds).toHaveLength(1);
      expect(typeof r.lagP99Ms).toBe('number');
      expect(typeof r.rounds[0].receiverMainPercent).toBe('number');
      expect(r.capacity === null).toBe(!r.transport.startsWith('shm'));
    }
  });

  it('has the small round trip idle and under a 1 MiB stream, for shmlink and the socket', () => {
    expect(result.contention.map((c: { transport: string }) => c.transport).sort()).toEqual(['shm-write', 'socket']);
    for (const c of result.contention) {
      expect(c).toMatchObject({ pingSize: 64, streamSize: 1024 * 1024 });
      expect(c.idleMicros.count).toBe(20);
      expect(c.loadedMicros.count).toBe(20);
      expect(c.streamBytesPerSecond).toBeGreaterThan(0);
    }
  });

  it('has idle CPU, memory and a verdict per target', () => {
    expect(typeof result.idle.shm.cpuPercent).toBe('number');
    expect(typeof result.idle.socket.cpuPercent).toBe('number');
    expect(typeof result.idle.sync.cpuPercent).toBe('number');
    expect(result.idle.worker === null).toBe(!result.features.workerReader.available);
    expect(result.memory.count).toBe(2);
    for (const key of ['rssBytes', 'beyondCapacityBytes', 'privateBytes', 'shmemBytes']) {
      expect(typeof result.memory.perCommunicator[key]).toBe('number');
    }
    expect(result.targets.filter((t: { issue: number }) => t.issue === 5).length).toBe(12);
    expect(result.targets.filter((t: { issue: number }) => t.issue === 15).length).toBeGreaterThanOrEqual(20);
    for (const t of result.targets) expect(['PASS', 'MISS', 'N/A']).toContain(t.verdict);
  });

  it('leaves no shared-memory name, socket file or error behind', () => {
    expect(result.errors).toEqual([]);
    expect(result.leftovers).toEqual([]);
    expect(Region.list(result.namePrefix)).toEqual([]);
    const pid = result.namePrefix.replace(/^slb(\d+)-$/, '$1');
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`shmlink-bench-${pid}-`))).toEqual([]);
  });
});

describe('pnpm bench without ZeroMQ', () => {
  it('says so, leaves ZeroMQ out, reads its targets N/A and still succeeds', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-bench-test-'));
    try {
      const run = await runCli(['--', '--quick', '--no-zmq', '--only', 'throughput', '--sizes', '64', '--duration', '0.1', '--out', out]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/ZeroMQ: N\/A, zeromq skipped \(--no-zmq\)/);
      const [file] = fs.readdirSync(out).filter((f) => f.endsWith('.json'));
      const result = JSON.parse(fs.readFileSync(path.join(out, file!), 'utf8'));
      expect(result.features.zmq).toEqual({ available: false, detail: 'zeromq skipped (--no-zmq)' });
      expect(result.throughput.map((r: { transport: string }) => r.transport)).not.toContain('zmq');
      const zmqTargets = result.targets.filter((t: { id: string }) => t.id.startsWith('i15-zmq-'));
      expect(zmqTargets.length).toBeGreaterThan(0);
      for (const t of zmqTargets) expect(t).toMatchObject({ verdict: 'N/A', measured: 'N/A: zeromq skipped (--no-zmq)' });
      expect(result.errors).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
