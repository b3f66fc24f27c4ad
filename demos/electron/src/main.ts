import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, type WebPreferences } from 'electron';
import type { ChannelInfo } from './api';
import { parseElectronArgs, type ElectronArgs } from './args';
import { Bridge } from './bridge';
import { rendererSink, serveWindowApi } from './ipc';

const PAGE = path.join(__dirname, 'renderer', 'index.html');

/** The page gets no Node.js, its own JavaScript world, and a sandboxed preload (security checklist). */
export const WEB_PREFERENCES: WebPreferences = {
  preload: path.join(__dirname, 'preload.js'),
  contextIsolation: true,
  nodeIntegration: false,
  sandbox: true,
  webSecurity: true,
};

function fail(message: string, code: number): void {
  console.error(`shmlink-electron: ${message}`);
  if (app.isReady()) dialog.showErrorBox('shmlink', message);
  app.exit(code);
}

function openWindow(args: ElectronArgs): void {
  const win = new BrowserWindow({ width: 900, height: 600, minWidth: 480, minHeight: 320, title: 'shmlink', webPreferences: WEB_PREFERENCES });
  let bridge: Bridge | undefined;
  // The page asks for info() while it loads; the region opens once it has loaded.
  let resolveBridge: (bridge: Bridge) => void = () => undefined;
  const bridgeReady = new Promise<Bridge>((resolve) => (resolveBridge = resolve));

  const stopServing = serveWindowApi(
    ipcMain,
    {
      send: async (text) => (await bridgeReady).send(text),
      info: async (): Promise<ChannelInfo> => (await bridgeReady).info,
    },
    pathToFileURL(PAGE).href,
  );
  // Open the region only after the page has registered its callbacks, so no message or status is
  // sent into the void; until then messages wait in the ring. A reload only re-points the bridge.
  win.webContents.on('did-finish-load', () => {
    const sink = rendererSink(win.webContents);
    if (bridge !== undefined) return bridge.setSink(sink);
    try {
      bridge = Bridge.open(args, sink);
      resolveBridge(bridge);
    } catch (err) {
      const code = (err as { code?: string }).code;
      fail(`cannot open '${args.name}': ${code !== undefined ? `${code}: ` : ''}${(err as Error).message}`, 1);
    }
  });
  // This window shows one local page: no navigation away, no new windows.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.on('closed', () => {
    stopServing();
    bridge?.close();
  });
  void win.loadFile(PAGE);
}

function main(): void {
  let args: ElectronArgs;
  try {
    // Unpackaged, argv is [electron, app dir, ...]; scripts/start.js puts ours after a '--'.
    args = parseElectronArgs(process.argv.slice(app.isPackaged ? 1 : 2), process.env);
  } catch (err) {
    fail((err as Error).message, 2);
    return;
  }
  app.on('window-all-closed', () => app.quit());
  app
    .whenReady()
    .then(() => openWindow(args))
    .catch((err: unknown) => fail((err as Error).message, 1));
}

main();
