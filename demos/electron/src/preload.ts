// Runs sandboxed: it may require 'electron' and nothing else of ours, so it imports only types
// (erased by tsc) and spells out the channel names, which the compiler checks against api.ts.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ChannelInfo, IpcChannels, PeerStatus, ShmlinkApi } from './api';

const CHANNELS: IpcChannels = {
  send: 'shmlink:send',
  info: 'shmlink:info',
  message: 'shmlink:message',
  peer: 'shmlink:peer',
};

function listen<T>(channel: string, cb: (value: T) => void): () => void {
  // The event carries `sender` (ipcRenderer itself): only the value goes to the page.
  const listener = (_event: IpcRendererEvent, value: T): void => cb(value);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api: ShmlinkApi = {
  async send(text: string): Promise<void> {
    await ipcRenderer.invoke(CHANNELS.send, text);
  },
  onMessage: (cb) => listen<string>(CHANNELS.message, cb),
  onPeer: (cb) => listen<PeerStatus>(CHANNELS.peer, cb),
  info: () => ipcRenderer.invoke(CHANNELS.info) as Promise<ChannelInfo>,
};

contextBridge.exposeInMainWorld('shmlink', api);
