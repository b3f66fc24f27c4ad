/**
 * The one declaration of what the window may do: the preload implements `ShmlinkApi`, the renderer
 * calls it, the main process serves it, the tests bind it. Types only — the sandboxed preload cannot
 * require our modules, so nothing here may be a value it needs at run time.
 */

export type Side = 'a' | 'b';

/** The other side of the conversation, as the window shows it. */
export type PeerStatus =
  | { state: 'waiting' }
  | { state: 'connected'; pid: number }
  | { state: 'left'; pid: number }
  | { state: 'died'; pid: number };

/** Which region this window talks through. */
export interface ChannelInfo {
  name: string;
  side: Side;
  capacity: number;
}

/** `window.shmlink`: everything the page can reach, and nothing more. */
export interface ShmlinkApi {
  /** Resolves once the message is in shared memory; rejects with the reason it could not be. */
  send(text: string): Promise<void>;
  /** Calls `cb` for each incoming message; returns the function that stops it. */
  onMessage(cb: (text: string) => void): () => void;
  /** Calls `cb` whenever the peer's status changes; returns the function that stops it. */
  onPeer(cb: (status: PeerStatus) => void): () => void;
  info(): Promise<ChannelInfo>;
}

/**
 * The IPC channel names, as a type: main and preload each spell the literals out (the preload cannot
 * import a value) and the compiler holds both to this one list.
 */
export interface IpcChannels {
  /** renderer → main, invoke(text): void */
  send: 'shmlink:send';
  /** renderer → main, invoke(): ChannelInfo */
  info: 'shmlink:info';
  /** main → renderer, (text) */
  message: 'shmlink:message';
  /** main → renderer, (PeerStatus) */
  peer: 'shmlink:peer';
}
