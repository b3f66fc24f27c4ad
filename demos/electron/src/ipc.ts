import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { ChannelInfo, IpcChannels } from './api';
import type { BridgeSink } from './bridge';

/** Checked against the one list in api.ts; the preload spells the same literals. */
export const CHANNELS: IpcChannels = {
  send: 'shmlink:send',
  info: 'shmlink:info',
  message: 'shmlink:message',
  peer: 'shmlink:peer',
};

/** Longest message the window may send, in UTF-16 units: a renderer is not trusted with the heap. */
export const MAX_TEXT = 1 << 20;

export interface WindowBackend {
  send(text: string): Promise<void>;
  info(): Promise<ChannelInfo>;
}

/** Pushes what the bridge delivers to the window (ipcMain → webContents.send). */
export function rendererSink(contents: Pick<WebContents, 'send' | 'isDestroyed'>): BridgeSink {
  const send = (channel: string, value: unknown): void => {
    if (!contents.isDestroyed()) contents.send(channel, value);
  };
  return {
    message: (text) => send(CHANNELS.message, text),
    peer: (status) => send(CHANNELS.peer, status),
    error: (err) => console.error(`shmlink: ${err.message}`),
  };
}

/**
 * Serves the window's two requests. Only our own page may call (a navigated or injected frame may
 * not), and the argument is checked: IPC carries whatever a compromised renderer sends.
 * Returns the function that removes the handlers.
 */
export function serveWindowApi(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  backend: WindowBackend,
  pageUrl: string,
): () => void {
  const checkSender = (event: IpcMainInvokeEvent): void => {
    if (event.senderFrame?.url !== pageUrl) throw new Error('shmlink: request from an unexpected frame');
  };
  ipcMain.handle(CHANNELS.send, async (event, text: unknown) => {
    checkSender(event);
    if (typeof text !== 'string' || text.length > MAX_TEXT) throw new Error(`shmlink: send expects a string of at most ${MAX_TEXT} characters`);
    await backend.send(text);
  });
  ipcMain.handle(CHANNELS.info, (event) => {
    checkSender(event);
    return backend.info();
  });
  return () => {
    ipcMain.removeHandler(CHANNELS.send);
    ipcMain.removeHandler(CHANNELS.info);
  };
}
