export { ShmError, isShmError, type ShmErrorCode } from './errors';
export { Region, type Access, type RegionOptions, type OpenOptions, type WaitOutcome } from './region';
export { NamedEvent, type NamedEventOptions } from './named-event';
export { NamedMutex, type LockResult } from './named-mutex';
export { processAlive, processStartTime } from './process';
export { toOsName, maxNameLength } from './names';
export { initializeHeader, awaitHeader, pauseMs, type HeaderSpec, type HeaderTarget } from './header';
export { assertInteger, checkTimeout, checkOptions, checkOneOf } from './validate';
export { assertMayBlock } from './region';
