export { Communicator, type CommunicatorOptions, type CommunicatorEvents, type Outgoing, type ReceiveOptions, type Side } from './communicator';
export { bytesCodec, textCodec, jsonCodec, structuredCodec, type Codec, type CodecName } from './codecs';
export type { PeerEvent, PeerEventType } from './peer';
export { ShmError, isShmError, type ShmErrorCode } from '@shmlink/native';
export * as layout from './layout';
