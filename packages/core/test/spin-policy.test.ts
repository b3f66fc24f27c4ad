// The adaptive spin of receiveSync() as a pure state machine: spin while waits keep ending
// quickly, sleep at once when the stream is sparse or has gone quiet.
import { SpinPolicy } from '../src/spin-policy';

describe('SpinPolicy', () => {
  test('a fresh policy spins only the base: an idle receiver sleeps at once', () => {
    const policy = new SpinPolicy(0, 200);
    expect(policy.dense).toBe(false);
    expect(policy.spinMs()).toBe(0);
  });

  test('short waits (a ping-pong) make the stream dense: the wait spins up to busy', () => {
    const policy = new SpinPolicy(0, 200);
    let waits = 0;
    while (!policy.dense && waits < 100) {
      policy.waited(0.003, policy.spinMs());
      waits++;
    }
    expect(waits).toBeLessThan(20);
    expect(policy.spinMs()).toBeCloseTo(0.2);
  });

  test('a stream that goes quiet stops spinning after a few long waits', () => {
    const policy = new SpinPolicy(0, 200);
    for (let i = 0; i < 100; i++) policy.waited(0.003, policy.spinMs());
    let waits = 0;
    while (policy.dense && waits < 100) {
      policy.waited(250, policy.spinMs());
      waits++;
    }
    expect(waits).toBeLessThan(20);
    expect(policy.spinMs()).toBe(0);
  });

  test('a periodic stream slower than busy never spins, however regular', () => {
    const policy = new SpinPolicy(0, 200);
    for (let i = 0; i < 1000; i++) policy.waited(1, policy.spinMs());
    expect(policy.dense).toBe(false);
    expect(policy.spinMs()).toBe(0);
  });

  test('occasional long waits (the peer preempted) do not end a dense stream', () => {
    const policy = new SpinPolicy(0, 200);
    for (let i = 0; i < 1000; i++) policy.waited(i % 4 === 0 ? 2 : 0.003, policy.spinMs());
    expect(policy.dense).toBe(true);
  });

  test('spins that run out (the peer needs this core) halve the spin; spins that see the data double it back', () => {
    const policy = new SpinPolicy(0, 200);
    for (let i = 0; i < 100; i++) policy.waited(0.003, policy.spinMs());
    expect(policy.spinMs()).toBeCloseTo(0.2);
    // The reply comes only once this side stops spinning: just after the spin, every time.
    for (let i = 0; i < 20; i++) {
      const spin = policy.spinMs();
      policy.waited(spin + 0.01, spin);
    }
    expect(policy.dense).toBe(true);
    // Shrunk to nothing: most waits sleep at once, one in 16 probes with a short spin.
    const spins: number[] = [];
    for (let i = 0; i < 32; i++) {
      const spin = policy.spinMs();
      spins.push(spin);
      policy.waited(spin + 0.01, spin);
    }
    expect(spins.filter((s) => s === 0)).toHaveLength(30);
    expect(Math.max(...spins)).toBeCloseTo(0.02); // the probe: 20 µs
    // A probe that sees the data arrive starts the spin growing again.
    let spin = 0;
    for (let i = 0; i < 16 && spin === 0; i++) spin = policy.spinMs();
    policy.waited(spin / 2, spin);
    for (let i = 0; i < 10; i++) {
      const s = policy.spinMs();
      policy.waited(0.001, s);
    }
    expect(policy.spinMs()).toBeCloseTo(0.2);
  });

  test('busy at or below base turns adaptation off: always base', () => {
    const policy = new SpinPolicy(50, 0);
    expect(policy.spinMs()).toBeCloseTo(0.05);
    for (let i = 0; i < 100; i++) policy.waited(0.001, policy.spinMs());
    expect(policy.spinMs()).toBeCloseTo(0.05);
  });
});
