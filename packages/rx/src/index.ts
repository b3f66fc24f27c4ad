export { fromCommunicator, type FromCommunicatorOptions } from './from-communicator';
export { openCommunicator, openMessages } from './open-communicator';
export { writeTo, decodeText, decodeJson, encodeJson } from './operators';
