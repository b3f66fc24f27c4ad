// @shmlink/native/internal: the building blocks the other @shmlink packages share (argument checks,
// object headers, the doorbells that wake an event loop, a cheap Buffer view). For @shmlink packages only: no stability
// promise, any release may change or remove them. The public API is the package's main entry.
export { assertInteger, checkTimeout, checkOptions, checkOneOf } from './validate';
export { assertMayBlock } from './region';
export { initializeHeader, awaitHeader, pauseMs, type HeaderSpec, type HeaderTarget } from './header';
export { ViewBuffer, bufferView } from './buffer-view';
export { Doorbell, DoorbellRinger, removeDoorbells } from './doorbell';
