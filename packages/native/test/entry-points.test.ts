import * as publicApi from '@shmlink/native';
import * as internal from '@shmlink/native/internal';

// The main entry is the documented API; the helpers the sibling packages share stay behind
// '@shmlink/native/internal' so that they are not mistaken for it.
describe('entry points', () => {
  test('@shmlink/native exports the documented API and no helper', () => {
    expect(Object.keys(publicApi).sort()).toEqual(
      ['NamedEvent', 'NamedMutex', 'Region', 'ShmError', 'isShmError', 'maxNameLength', 'processAlive', 'processStartTime'].sort(),
    );
  });

  test('@shmlink/native/internal exports the shared helpers', () => {
    expect(Object.keys(internal).sort()).toEqual(
      ['assertInteger', 'assertMayBlock', 'awaitHeader', 'bufferView', 'checkOneOf', 'checkOptions', 'checkTimeout', 'initializeHeader', 'pauseMs', 'Doorbell', 'DoorbellRinger', 'removeDoorbells', 'ViewBuffer'].sort(),
    );
  });
});
