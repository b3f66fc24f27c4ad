import { UsageError, defaults, parseArgs, parseSize } from '../src/options';

describe('bench flags', () => {
  it('defaults to the full suite', () => {
    expect(parseArgs([])).toEqual(defaults());
  });

  it('passes through pnpm\'s "--", reads sizes with suffixes and keeps the suite order', () => {
    const o = parseArgs(['--', '--sizes', '64,1k', '--duration=2', '--rounds', '3', '--only', 'memory,rtt'])!;
    expect(o.rttSizes).toEqual([64, 1024]);
    expect(o.throughputSizes).toEqual([64, 1024]);
    expect(o.duration).toBe(2);
    expect(o.rounds).toBe(3);
    expect(o.only).toEqual(['rtt', 'memory']);
    expect(parseSize('--x', '1m')).toBe(1024 * 1024);
  });

  it("takes the event API's poll windows, defaulting to the library's", () => {
    expect(defaults()).toMatchObject({ poll: 200, pollBusy: 2000 });
    expect(parseArgs(['--poll', '50', '--poll-busy', '200'])).toMatchObject({ poll: 50, pollBusy: 200 });
    expect(() => parseArgs(['--poll-busy', '-1'])).toThrow(/--poll-busy/);
    expect(defaults().shmSendApi).toBe('send');
    expect(parseArgs(['--shm-send', 'write'])!.shmSendApi).toBe('write');
    expect(() => parseArgs(['--shm-send', 'post'])).toThrow(/--shm-send/);
  });

  it('has a quick mode for smoke runs that later flags refine', () => {
    const q = parseArgs(['--', '--quick'])!;
    expect(q).toMatchObject({ rounds: 1, duration: 0.3, iterations: 1000, warmup: 1000, idleSeconds: 1 });
    expect(q.only).toEqual(defaults().only);
    expect(parseArgs(['--quick', '--rounds', '2'])!.rounds).toBe(2);
    expect(parseArgs(['--rounds', '2', '--quick'])!.rounds).toBe(2);
  });

  it('takes issue 15\'s flags: the defaults sender\'s await interval, ZeroMQ off, contention', () => {
    expect(defaults()).toMatchObject({ writeAwait: 256, zmq: true, contentionIterations: 2000 });
    expect(defaults().only).toContain('contention');
    expect(parseArgs(['--write-await', '64', '--no-zmq', '--contention-iterations', '50', '--only', 'contention'])).toMatchObject({
      writeAwait: 64, zmq: false, contentionIterations: 50, only: ['contention'],
    });
    expect(() => parseArgs(['--write-await', '0'])).toThrow(/--write-await/);
  });

  it('returns null for --help and rejects what it does not know', () => {
    expect(parseArgs(['--help'])).toBeNull();
    expect(() => parseArgs(['--nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/unknown benchmark/);
    expect(() => parseArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseArgs(['--sizes', '1.5'])).toThrow(/--sizes/);
  });
});
