import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { Page } from 'playwright-core';

/** What the page gets beside the preload's API: the two ends of the stand-in IPC. */
interface ShimGlobals {
  __ipcInvoke(channel: string, args: unknown[]): Promise<unknown>;
  __ipcDeliver(channel: string, value: unknown): void;
}

type Listener = (event: unknown, value: unknown) => void;
type PreloadModule = (require: (id: string) => unknown, exports: object, module: { exports: object }) => void;

/**
 * Runs in the page before its own scripts (serialized by Playwright): gives the compiled preload
 * the `require('electron')` of a sandboxed preload — contextBridge and ipcRenderer, nothing else —
 * with ipcRenderer carried by Playwright instead of Electron.
 */
function installPreload(runPreload: PreloadModule): void {
  const page = globalThis as unknown as ShimGlobals & Record<string, unknown>;
  const listeners = new Map<string, Set<Listener>>();
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]): Promise<unknown> => page.__ipcInvoke(channel, args),
    on(channel: string, listener: Listener) {
      const set = listeners.get(channel) ?? new Set<Listener>();
      set.add(listener);
      listeners.set(channel, set);
      return ipcRenderer;
    },
    removeListener(channel: string, listener: Listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  };
  page.__ipcDeliver = (channel, value) => {
    for (const listener of listeners.get(channel) ?? []) listener({ sender: ipcRenderer }, value);
  };
  const contextBridge = {
    exposeInMainWorld(key: string, api: object): void {
      Object.defineProperty(page, key, { value: Object.freeze({ ...api }), enumerable: true });
    },
  };
  const require = (id: string): unknown => {
    if (id === 'electron') return { contextBridge, ipcRenderer };
    throw new Error(`a sandboxed preload cannot require '${id}'`);
  };
  const module = { exports: {} };
  runPreload(require, module.exports, module);
}

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

/**
 * Electron's IPC hop, replaced: the app's own handlers (registered on `ipcMain`) answer the page's
 * ipcRenderer.invoke, and `webContents.send` reaches the page's ipcRenderer.on listeners, in order.
 */
export class IpcStandIn {
  readonly #handlers = new Map<string, Handler>();
  #delivery: Promise<void> = Promise.resolve();
  #deliveryError: unknown;
  #closed = false;

  readonly ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'> = {
    handle: (channel: string, handler: Handler) => {
      this.#handlers.set(channel, handler);
    },
    removeHandler: (channel: string) => {
      this.#handlers.delete(channel);
    },
  };

  readonly webContents: Pick<WebContents, 'send' | 'isDestroyed'>;

  constructor(private readonly page: Page) {
    this.webContents = {
      isDestroyed: () => this.#closed || page.isClosed(),
      send: (channel: string, ...args: unknown[]) => {
        this.#delivery = this.#delivery
          .then(() => page.evaluate(([c, v]) => (globalThis as unknown as ShimGlobals).__ipcDeliver(c, v), [channel, args[0]] as const))
          .catch((err: unknown) => {
            if (!this.#closed) this.#deliveryError ??= err;
          });
      },
    };
  }

  /** Installs the compiled preload in the page; call before navigating. */
  async install(preloadSource: string): Promise<void> {
    await this.page.exposeFunction('__ipcInvoke', async (channel: string, args: unknown[]) => {
      const handler = this.#handlers.get(channel);
      if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
      // Electron's event names the calling frame; here it is always the page itself.
      const event = { senderFrame: { url: this.page.url() } } as unknown as IpcMainInvokeEvent;
      return handler(event, ...args);
    });
    await this.page.addInitScript({ content: `(${installPreload.toString()})(function (require, exports, module) {\n${preloadSource}\n});` });
  }

  /** Waits for what was sent so far to reach the page, then drops later sends; throws if one failed. */
  async close(): Promise<void> {
    await this.#delivery;
    this.#closed = true;
    if (this.#deliveryError !== undefined) throw this.#deliveryError;
  }
}
