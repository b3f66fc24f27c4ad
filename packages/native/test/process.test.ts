import { processAlive, processStartTime } from '@shmlink/native';
import { Agent, stopAgents, thrown } from './helpers';

afterEach(stopAgents);

test('processAlive and processStartTime follow a real process from start to death', async () => {
  expect(processAlive(process.pid)).toBe(true);
  const mine = processStartTime(process.pid);
  expect(typeof mine).toBe('number');
  expect(processStartTime(process.pid)).toBe(mine); // stable: with the pid it names one process

  const peer = await Agent.process();
  expect(processAlive(peer.pid)).toBe(true);
  const started = processStartTime(peer.pid);
  expect(started).toBeGreaterThanOrEqual(mine!);
  await peer.stop(); // SIGKILL, and reaped
  expect(processAlive(peer.pid)).toBe(false);
  expect(processStartTime(peer.pid)).toBeNull();
});

test('bad pids: ERR_INVALID_ARGUMENT', () => {
  for (const pid of [0, -1, 1.5, 2 ** 31, NaN, '1']) {
    expect(thrown(() => processAlive(pid as number)).code).toBe('ERR_INVALID_ARGUMENT');
    expect(thrown(() => processStartTime(pid as number)).code).toBe('ERR_INVALID_ARGUMENT');
  }
});
