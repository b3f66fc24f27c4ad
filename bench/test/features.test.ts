// Feature detection: an optional ZeroMQ addon and core's reader: 'worker' option, each reported
// as available or N/A with the reason, never as a failure of the bench.
import { Region } from '@shmlink/native';
import { NAME_PREFIX } from '../src/cleanup';
import { detectWorkerReader } from '../src/features';
import { loadZmq } from '../src/zmq';

describe('the ZeroMQ peer', () => {
  test('a module that does not load is reported, not thrown', () => {
    const { module, availability } = loadZmq('@shmlink/no-such-zeromq');
    expect(module).toBeNull();
    expect(availability.available).toBe(false);
    expect(availability.detail).toMatch(/^zeromq did not load: Cannot find module/);
  });

  test('the zeromq dependency loads from its prebuilt addon on linux-x64', () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return;
    const { module, availability } = loadZmq();
    expect(availability).toEqual({ available: true, detail: expect.stringMatching(/^zeromq with libzmq \d+\.\d+\.\d+$/) });
    expect(typeof module?.Pair).toBe('function');
  });
});

describe("the reader: 'worker' option", () => {
  afterEach(() => {
    expect(Region.list(NAME_PREFIX)).toEqual([]);
  });

  test('an option core rejects means N/A, naming the error code', () => {
    const got = detectWorkerReader({ noSuchOption: true });
    expect(got.available).toBe(false);
    expect(got.detail).toMatch(/ERR_INVALID_ARGUMENT/);
  });

  test('options core accepts mean available', () => {
    expect(detectWorkerReader({}).available).toBe(true);
  });

  test('the real probe answers either way and leaves no region behind', () => {
    expect(typeof detectWorkerReader().available).toBe('boolean');
  });
});
