export { Communicator, type CommunicatorEvents, type Outgoing, type Side } from './communicator';
export type { CommunicatorOptions, ReceiveOptions } from './options';
export { bytesCodec, textCodec, jsonCodec, structuredCodec, type Codec, type CodecName } from './codecs';
export type { PeerEvent, PeerEventType } from './peer';
export { ShmError, isShmError, type ShmErrorCode } from '@shmlink/native';
export * as ringDescriptor from './ring-descriptor';
