// The public API of @shmlink/native. Helpers shared with the other @shmlink packages live in
// ./internal (imported as '@shmlink/native/internal'), outside this API.
export { ShmError, isShmError, type ShmErrorCode } from './errors';
export { Region, type Access, type RegionOptions, type OpenOptions, type WaitOutcome } from './region';
export { NamedEvent, type NamedEventOptions } from './named-event';
export { NamedMutex, type LockResult } from './named-mutex';
export { processAlive, processStartTime } from './process';
export { maxNameLength } from './names';
