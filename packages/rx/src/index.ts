export { fromCommunicator, type FromCommunicatorOptions } from './from-communicator';
export { connect, openCommunicator } from './connect';
export { writeTo, decodeText, decodeJson, encodeJson } from './operators';
