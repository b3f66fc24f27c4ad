// Every handle class implements Symbol.dispose as close(). Jest's sandbox has no Symbol.dispose, so
// the handles are disposed in a peer process (fixtures/agent.js), which refuses a missing symbol.
import { NamedMutex } from '@shmlink/native';
import { Agent, leftovers, removeNames, stopAgents, uniqueName } from './helpers';

afterEach(async () => {
  await stopAgents();
  removeNames();
});

afterAll(() => {
  expect(leftovers()).toEqual([]);
});

describe('Symbol.dispose', () => {
  test.each([
    ['Region', 'create', (name: string) => [name, 4096]],
    ['NamedEvent', 'createOrOpen', (name: string) => [name]],
    ['NamedMutex', 'createOrOpen', (name: string) => [name]],
  ] as const)('closes a %s', async (cls, method, args) => {
    const peer = await Agent.process();
    await peer.callStatic(cls, method, args(uniqueName()), 'h');
    expect(await peer.get('h', 'closed')).toBe(false);
    await peer.invoke('h', '[Symbol.dispose]');
    expect(await peer.get('h', 'closed')).toBe(true);
  });

  test('a NamedMutex disposed while held is released as abandoned, as by close()', async () => {
    const name = uniqueName();
    const peer = await Agent.process();
    await peer.callStatic('NamedMutex', 'createOrOpen', [name], 'm');
    expect(await peer.invoke('m', 'lockAsync', 10000)).toEqual({ abandoned: false });
    // Opened before the peer lets go: on Windows a named object goes with its last handle.
    const mine = NamedMutex.open(name);
    await peer.invoke('m', '[Symbol.dispose]');
    try {
      expect(mine.tryLock()).toEqual({ abandoned: true });
      mine.unlock();
    } finally {
      mine.close();
    }
  });
});

