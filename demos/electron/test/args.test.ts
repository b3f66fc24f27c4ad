import { parseElectronArgs } from '../src/args';

it('defaults to the console demo defaults and the free side', () => {
  expect(parseElectronArgs([], {})).toEqual({ name: 'MemoryMappedShare', side: undefined, capacity: 65536 });
});

it('takes the console flags after --, over the environment, and ignores switches it does not know', () => {
  const env = { SHMLINK_NAME: 'FromEnv', SHMLINK_SIDE: 'a', SHMLINK_CAPACITY: '8192' };
  expect(parseElectronArgs([], env)).toEqual({ name: 'FromEnv', side: 'a', capacity: 8192 });
  expect(parseElectronArgs(['--no-sandbox', '--', '--name', 'Chat', '--side=b'], env)).toEqual({ name: 'Chat', side: 'b', capacity: 8192 });
});

it('refuses a bad side or capacity with a message naming the value', () => {
  expect(() => parseElectronArgs(['--side', 'c'], {})).toThrow('--side must be a or b, got c');
  expect(() => parseElectronArgs([], { SHMLINK_CAPACITY: '-1' })).toThrow('--capacity must be a positive integer, got -1');
});
