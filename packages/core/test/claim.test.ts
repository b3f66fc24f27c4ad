// One owner per side: processes that attach at the same instant race for a side's slots
// (docs/protocol.md §5), and exactly one of them may win. Contenders are real processes
// (fixtures/claim-racer.js, and the C peer) released at the same clock tick, for hundreds of rounds.
// The Node contenders live for all rounds (a fork per round would cost a Node start-up each and
// spread the contenders by its jitter); the channels are fresh each round.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Communicator, ringDescriptor } from '@shmlink/core';
import { Region } from '@shmlink/native';
import { Racer, cleanup, leftovers, record, uniqueName, type RaceOutcome } from './helpers';

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

const CAPACITY = 4096;
/** How far ahead of now a round's start is set: every contender must have its 'go' by then. */
const LEAD_MS = 15;

/**
 * A channel whose side 'a' was held and left in an orderly way, with a message unread (which keeps
 * the name): both halves are initialised, so contenders go straight to the slots. (On a fresh
 * region, whoever initialises a half delays the others by the initialisation wait.)
 */
async function leftBehind(): Promise<string> {
  const name = uniqueName();
  const previous = new Communicator(name, CAPACITY, { side: 'a' });
  await previous.write('left behind');
  previous.dispose();
  return name;
}

/** Rounds in which every racer opens the same channel, then all start it at the same instant. */
async function race(count: number, rounds: number, side: 'a' | undefined, check: (outcomes: RaceOutcome[], round: number) => void): Promise<void> {
  const racers = await Promise.all(Array.from({ length: count }, () => Racer.start()));
  for (let round = 0; round < rounds; round++) {
    const name = await leftBehind();
    await Promise.all(racers.map((r) => r.request({ op: 'arm', name, capacity: CAPACITY, side })));
    const at = Date.now() + LEAD_MS;
    const outcomes = await Promise.all(racers.map((r) => r.request<RaceOutcome>({ op: 'go', at })));
    check(outcomes, round);
    await Promise.all(racers.map((r) => r.request({ op: 'release' })));
  }
}

describe('one owner per side', () => {
  test('two processes attaching side a at the same instant: exactly one wins, the other gets ERR_INVALID_STATE (300 rounds)', async () => {
    const failures: string[] = [];
    await race(2, 300, 'a', (outcomes, round) => {
      const winners = outcomes.filter((o) => o.won);
      const losers = outcomes.filter((o): o is RaceOutcome & { won: false } => !o.won);
      if (winners.length !== 1 || losers.length !== 1 || losers[0]!.code !== 'ERR_INVALID_STATE') {
        failures.push(`round ${round}: ${JSON.stringify(outcomes)}`);
      }
    });
    expect(failures).toEqual([]);
  });

  test('three processes choosing no side at the same instant: one gets a, one gets b, one ERR_INVALID_STATE (200 rounds)', async () => {
    const failures: string[] = [];
    await race(3, 200, undefined, (outcomes, round) => {
      const sides = outcomes.flatMap((o) => (o.won ? [o.side] : [])).sort();
      const codes = outcomes.flatMap((o) => (o.won ? [] : [o.code]));
      if (sides.join() !== 'a,b' || codes.join() !== 'ERR_INVALID_STATE') failures.push(`round ${round}: ${JSON.stringify(outcomes)}`);
    });
    expect(failures).toEqual([]);
  });
});

describe('a claim in progress (state CLAIMING | pid)', () => {
  const { PRODUCER_STATE_OFFSET, PRODUCER_PID_OFFSET, CLAIMING } = ringDescriptor;

  /** A pid that certainly belongs to no process: a child that has exited and been reaped. */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(child.stdout);
  }

  test('left by a process that died in the middle of its claim: the side is taken over', () => {
    const name = uniqueName();
    const first = record(new Communicator(name, CAPACITY, { side: 'b' }));
    first.comm.startReader(); // initialises both halves
    const region = Region.open(name);
    const dead = deadPid();
    region.store(PRODUCER_STATE_OFFSET, CLAIMING + dead); // side 'a' writes the half at 0
    region.store(PRODUCER_PID_OFFSET, 0);
    const taker = record(new Communicator(name, CAPACITY, { side: 'a' }));
    taker.comm.startReader();
    expect(taker.comm.side).toBe('a');
    expect(region.load(PRODUCER_STATE_OFFSET)).toBe(1) // attached;
    expect(region.load(PRODUCER_PID_OFFSET)).toBe(process.pid);
    region.close();
  });

  test('by a live process: the side is refused with ERR_INVALID_STATE, the word left alone', async () => {
    const name = uniqueName();
    const first = record(new Communicator(name, CAPACITY, { side: 'b' }));
    first.comm.startReader();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const region = Region.open(name);
      region.store(PRODUCER_STATE_OFFSET, CLAIMING + live.pid!);
      const refused = record(new Communicator(name, CAPACITY, { side: 'a' }));
      expect(() => refused.comm.startReader()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      expect(region.load(PRODUCER_STATE_OFFSET)).toBe(CLAIMING + live.pid!);
      region.close();
    } finally {
      live.kill('SIGKILL');
    }
  });
});

// peers/c is a Linux program (futexes, /dev/shm, /proc): it has no Windows build to race with.
const describeC = process.platform === 'linux' ? describe : describe.skip;

describeC('the C peer follows the same claim protocol', () => {
  const C_DIR = path.join(__dirname, '..', '..', '..', 'peers', 'c');
  let tmp = '';
  let exe = '';

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-claim-'));
    exe = path.join(tmp, 'peer');
    const built = spawnSync('make', ['-C', C_DIR, `OUT=${tmp}`], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const running = new Set<ChildProcess>();
  afterEach(async () => {
    await Promise.all([...running].map(stopC));
    running.clear();
  });

  /** Starts the C peer on side 'a' (at `at`, if given); resolves with its outcome while it stays attached. */
  function cContender(name: string, at?: number): { outcome: Promise<RaceOutcome>; child: ChildProcess } {
    const go = at === undefined ? [] : ['--go-at', String(at)];
    const child = spawn(exe, ['--name', name, '--side', 'a', '--capacity', String(CAPACITY), '--echo', ...go], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    let err = '';
    const outcome = new Promise<RaceOutcome>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve({ won: true, side: 'a' });
      });
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
      // 'close', not 'exit': the exit can come before the last of stderr is read, and then the
      // reason ('in use') was missing from an otherwise correct refusal.
      child.once('close', (code) => resolve({ won: false, code: code === 2 && err.includes('in use') ? 'ERR_INVALID_STATE' : `exit ${code}: ${err}` }));
    });
    return { outcome, child };
  }

  function stopC(child: ChildProcess): Promise<void> {
    return new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }
    });
  }

  test('a claim in progress by a live process is refused, one by a dead process taken over', async () => {
    const { PRODUCER_STATE_OFFSET, PRODUCER_PID_OFFSET, CLAIMING } = ringDescriptor;
    const name = await leftBehind();
    const region = Region.open(name);
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      region.store(PRODUCER_STATE_OFFSET, CLAIMING + live.pid!);
      const refused = cContender(name);
      expect(await refused.outcome).toEqual({ won: false, code: 'ERR_INVALID_STATE' });
      expect(region.load(PRODUCER_STATE_OFFSET)).toBe(CLAIMING + live.pid!);
    } finally {
      live.kill('SIGKILL');
    }
    await new Promise((resolve) => live.once('exit', resolve));
    const taker = cContender(name);
    expect(await taker.outcome).toEqual({ won: true, side: 'a' });
    expect(region.load(PRODUCER_STATE_OFFSET)).toBe(1); // attached
    expect(region.load(PRODUCER_PID_OFFSET)).toBe(taker.child.pid);
    await stopC(taker.child);
    region.close();
  });

  test('a Node process and the C peer attaching side a at the same instant: exactly one wins (200 rounds)', async () => {
    const node = await Racer.start();
    const failures: string[] = [];
    let cWins = 0;
    for (let round = 0; round < 200; round++) {
      const name = await leftBehind();
      await node.request({ op: 'arm', name, capacity: CAPACITY, side: 'a' });
      const at = Date.now() + LEAD_MS;
      const c = cContender(name, at);
      const outcomes = await Promise.all([node.request<RaceOutcome>({ op: 'go', at }), c.outcome]);
      if (outcomes[1].won) cWins++;
      if (outcomes.filter((o) => o.won).length !== 1 || outcomes.some((o) => !o.won && o.code !== 'ERR_INVALID_STATE')) {
        failures.push(`round ${round}: node ${JSON.stringify(outcomes[0])}, C ${JSON.stringify(outcomes[1])}`);
      }
      await stopC(c.child);
      await node.request({ op: 'release' });
    }
    expect(failures).toEqual([]);
    // Both kinds of contender won some rounds: the race was real in both directions.
    expect(cWins).toBeGreaterThan(0);
    expect(cWins).toBeLessThan(200);
  });
});
