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

  it('returns null for --help and rejects what it does not know', () => {
    expect(parseArgs(['--help'])).toBeNull();
    expect(() => parseArgs(['--nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/unknown benchmark/);
    expect(() => parseArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseArgs(['--sizes', '1.5'])).toThrow(/--sizes/);
  });
});
