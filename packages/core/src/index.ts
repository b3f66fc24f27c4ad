export { Communicator, type CommunicatorOptions, type CommunicatorEvents, type ReceiveOptions, type Side } from './communicator';
export type { PeerEvent, PeerEventType } from './peer';
export { ShmError, isShmError, type ShmErrorCode } from '@shmlink/native';
export * as layout from './layout';
