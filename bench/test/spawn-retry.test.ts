// retryingSpawn: a measurement whose peer process the OS did not start (under wine, now and then,
// "spawn UNKNOWN") runs once more; every other failure is the measurement's own and is thrown.
import { retryingSpawn } from '../src/peer';

function failing(messages: string[]): { measure: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    measure: async () => {
      const message = messages[calls++];
      if (message !== undefined) throw new Error(message);
      return 'measured';
    },
    calls: () => calls,
  };
}

test('a spawn failure is retried once, and said in the log', async () => {
  const lines: string[] = [];
  const m = failing(['spawn UNKNOWN']);
  await expect(retryingSpawn(m.measure, 'rtt ipc 64 B round 1', (l) => lines.push(l))).resolves.toBe('measured');
  expect(m.calls()).toBe(2);
  expect(lines).toEqual(['rtt ipc 64 B round 1: spawn UNKNOWN, the OS did not start a peer process; once more']);
});

test('a second spawn failure is thrown', async () => {
  const m = failing(['spawn UNKNOWN', 'spawn UNKNOWN']);
  await expect(retryingSpawn(m.measure, 'x', () => {})).rejects.toThrow('spawn UNKNOWN');
  expect(m.calls()).toBe(2);
});

test('any other failure is thrown at once', async () => {
  const m = failing(['peer echo exited (code 1, signal null)']);
  await expect(retryingSpawn(m.measure, 'x', () => {})).rejects.toThrow('peer echo exited');
  expect(m.calls()).toBe(1);
});
