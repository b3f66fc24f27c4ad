// The main process without Electron's binary: 'electron' is replaced by a recording stand-in, so
// the window's security settings and the IPC wiring run for real against real shared memory.
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { Communicator } from '@shmlink/core';

// Each start of main.ts gets a fresh module registry; the test uses that registry's core and
// native too, because the addon's error class belongs to the registry that loaded it first.
type Core = typeof import('@shmlink/core');
type Native = typeof import('@shmlink/native');
interface Started {
  electron: FakeElectron;
  core: Core;
  native: Native;
}

interface FakeWindow extends EventEmitter {
  options: { webPreferences: Record<string, unknown> };
  loaded: string;
  webContents: EventEmitter & { sent: [string, unknown][]; windowOpenHandler: () => { action: string } };
}
interface FakeElectron {
  windows: FakeWindow[];
  handlers: Map<string, (event: unknown, ...args: unknown[]) => unknown>;
  app: { exit: jest.Mock };
  dialog: { showErrorBox: jest.Mock };
}

jest.mock('electron', () => {
  const { EventEmitter: Emitter } = jest.requireActual<typeof import('node:events')>('node:events');
  const windows: unknown[] = [];
  const handlers = new Map();
  class WebContents extends Emitter {
    sent: unknown[] = [];
    windowOpenHandler: unknown;
    send(channel: string, value: unknown): void {
      this.sent.push([channel, value]);
    }
    isDestroyed(): boolean {
      return false;
    }
    setWindowOpenHandler(handler: unknown): void {
      this.windowOpenHandler = handler;
    }
  }
  class BrowserWindow extends Emitter {
    webContents = new WebContents();
    loaded = '';
    constructor(public options: unknown) {
      super();
      windows.push(this);
    }
    loadFile(file: string): Promise<void> {
      this.loaded = file;
      return Promise.resolve();
    }
  }
  return {
    windows,
    handlers,
    BrowserWindow,
    app: { isPackaged: false, isReady: () => true, on: jest.fn(), quit: jest.fn(), exit: jest.fn(), whenReady: () => Promise.resolve() },
    dialog: { showErrorBox: jest.fn() },
    ipcMain: { handle: (c: string, h: unknown) => handlers.set(c, h), removeHandler: (c: string) => handlers.delete(c) },
  };
});

let counter = 0;
let name = '';
let peer: Communicator | undefined;
let openWindow: FakeWindow | undefined;
let started: Started | undefined;

beforeEach(() => {
  name = `elm${process.pid}-${++counter}`;
});

afterEach(() => {
  openWindow?.emit('closed');
  openWindow = undefined;
  peer?.dispose();
  peer = undefined;
  started?.native.Region.unlinkIfExists(name);
  started = undefined;
});

async function startMain(env: Record<string, string>): Promise<Started> {
  const saved = { argv: process.argv, env: { ...process.env } };
  process.argv = ['electron', 'app', '--'];
  Object.assign(process.env, env);
  try {
    jest.isolateModules(() => {
      const electron = jest.requireMock<FakeElectron>('electron');
      electron.windows.length = 0;
      started = { electron, core: require('@shmlink/core') as Core, native: require('@shmlink/native') as Native };
      require('../src/main');
    });
    await new Promise((resolve) => setImmediate(resolve)); // app.whenReady()
    return started!;
  } finally {
    process.argv = saved.argv;
    process.env = saved.env;
  }
}

async function until(check: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('opens a locked-down window and relays between it and the region', async () => {
  const { electron, core } = await startMain({ SHMLINK_NAME: name, SHMLINK_SIDE: 'b' });
  const win = electron.windows[0]!;
  openWindow = win;
  expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, nodeIntegration: false, sandbox: true });
  expect(win.options.webPreferences.preload).toMatch(/preload\.js$/);
  expect(win.loaded).toMatch(/renderer[/\\]index\.html$/);
  expect(win.webContents.windowOpenHandler()).toEqual({ action: 'deny' });
  const navigation = { defaultPrevented: false, preventDefault(): void { this.defaultPrevented = true; } };
  win.webContents.emit('will-navigate', navigation);
  expect(navigation.defaultPrevented).toBe(true);

  const fromPage = { senderFrame: { url: pathToFileURL(win.loaded).href } };
  const info = electron.handlers.get('shmlink:info')!(fromPage);
  win.webContents.emit('did-finish-load'); // the region opens once the page is there
  await expect(info).resolves.toEqual({ name, side: 'b', capacity: 65536 });
  expect(win.webContents.sent).toContainEqual(['shmlink:peer', { state: 'waiting' }]);

  // A peer on side a: its message reaches the window, the window's reaches it. (It lives in this
  // process, so no peer status is reported: the core ignores its own pid. window.test.ts has that.)
  peer = new core.Communicator(name, 65536, { side: 'a' });
  const received: string[] = [];
  peer.on('data', (d) => received.push(d.toString()));
  peer.startReader();
  await peer.write('from the console');
  await until(() => win.webContents.sent.some(([c, v]) => c === 'shmlink:message' && v === 'from the console'));
  await electron.handlers.get('shmlink:send')!(fromPage, 'from the window');
  await until(() => received.includes('from the window'));

  // Requests from another frame, or with something other than text, are refused.
  await expect(electron.handlers.get('shmlink:send')!({ senderFrame: { url: 'https://example.com/' } }, 'x')).rejects.toThrow(/unexpected frame/);
  await expect(electron.handlers.get('shmlink:send')!(fromPage, { toString: 'x' })).rejects.toThrow(/expects a string/);

  // Closing the window closes its side: side b is free again, and the handlers are gone.
  win.emit('closed');
  openWindow = undefined;
  expect(electron.handlers.size).toBe(0);
  const next = new core.Communicator(name, 65536, { side: 'b' });
  expect(() => next.startReader()).not.toThrow();
  next.dispose();
});

it('reports a region it cannot open and exits with code 1', async () => {
  const stderr = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const { electron } = await startMain({ SHMLINK_NAME: '../not/a/name' });
  openWindow = electron.windows[0]!;
  openWindow.webContents.emit('did-finish-load');
  expect(electron.dialog.showErrorBox).toHaveBeenCalledWith('shmlink', expect.stringContaining('ERR_INVALID_NAME'));
  expect(electron.app.exit).toHaveBeenCalledWith(1);
  expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^shmlink-electron: cannot open '\.\.\/not\/a\/name': ERR_INVALID_NAME/));
  stderr.mockRestore();
});
