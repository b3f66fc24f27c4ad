import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Region } from '@shmlink/native';
import type { ChannelInfo } from '../src/api';
import { Bridge } from '../src/bridge';
import { rendererSink, serveWindowApi } from '../src/ipc';
import { ConsolePeer } from './console-peer';
import { IpcStandIn } from './electron-ipc-stand-in';
import { describeWhen, needFile } from '../../../test-support/system-needs';

const CHROMIUM = '/usr/bin/chromium';
const DIST = path.join(__dirname, '..', 'dist');
const PAGE_URL = pathToFileURL(path.join(DIST, 'renderer', 'index.html')).href;
// The README's picture is refreshed on request (SHMLINK_UPDATE_SCREENSHOT=1); otherwise the
// screenshot goes to the temp folder, so that a test run leaves the work tree as it was.
const SCREENSHOT =
  process.env.SHMLINK_UPDATE_SCREENSHOT === '1'
    ? path.join(__dirname, '..', '..', '..', 'docs', 'images', 'electron-window.png')
    : path.join(os.tmpdir(), 'shmlink-electron-window.png');

describeWhen([needFile(CHROMIUM, 'chromium', 'apt-get install -y chromium')], 'the window page in Chromium', () => {
  let context: BrowserContext | undefined;
  let userDataDir = '';

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DIST, 'preload.js')) || !fs.existsSync(path.join(DIST, 'renderer', 'renderer.js'))) {
      throw new Error(`demos/electron is not built (${DIST}): run pnpm -r run build first.`);
    }
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlink-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      // Root needs --no-sandbox; the rest keep Chromium off this machine's closed network.
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 900, height: 600 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir !== '') fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('the window page talks to a real console-demo process over shared memory', async () => {
    const name = `elw${process.pid}-${Date.now() % 100000}`;
    const peer = new ConsolePeer(['--name', name, '--side', 'a', '--answer']);
    let bridge: Bridge | undefined;
    let page: Page | undefined;
    let stopServing = (): void => undefined;
    const ipc = { close: async (): Promise<void> => undefined };
    try {
      await peer.waitFor(`'${name}' as side a`);

      page = await context!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
      const standIn = new IpcStandIn(page);
      ipc.close = () => standIn.close();
      await standIn.install(fs.readFileSync(path.join(DIST, 'preload.js'), 'utf8'));

      // What main.ts does, with Electron's IPC replaced: serve the page's requests, load the page,
      // then open the other side (side chosen automatically: the console holds 'a').
      let resolveBridge: (b: Bridge) => void = () => undefined;
      const bridgeReady = new Promise<Bridge>((resolve) => (resolveBridge = resolve));
      stopServing = serveWindowApi(
        standIn.ipcMain,
        { send: async (text) => (await bridgeReady).send(text), info: async (): Promise<ChannelInfo> => (await bridgeReady).info },
        PAGE_URL,
      );
      await page.goto(PAGE_URL);
      bridge = Bridge.open({ name, side: undefined, capacity: 65536 }, rendererSink(standIn.webContents));
      resolveBridge(bridge);

      const status = page.locator('#peer');
      await expect(waitText(status, `connected · pid ${peer.pid}`)).resolves.toBe(true);
      await expect(waitText(page.locator('#channel'), `${name} · side b`)).resolves.toBe(true);

      // Typed and sent with the button…
      await page.fill('#text', 'Hello from the window');
      await page.click('button[type=submit]');
      await peer.waitFor('< Hello from the window\n');
      await page.locator('.message.incoming', { hasText: 'Received "Hello from the window"' }).waitFor({ timeout: 15000 });

      // …and with Enter; UTF-8 survives both ways.
      await page.fill('#text', 'Shared memory, no sockets ✓');
      await page.press('#text', 'Enter');
      await peer.waitFor('< Shared memory, no sockets ✓\n');
      await page.locator('.message.incoming', { hasText: 'Received "Shared memory, no sockets ✓"' }).waitFor({ timeout: 15000 });

      const outgoing = page.locator('.message.outgoing');
      expect(await outgoing.allTextContents()).toEqual(['Hello from the window', 'Shared memory, no sockets ✓']);
      await expect(waitGone(page, '.message.pending')).resolves.toBe(true);
      expect(await page.locator('.message.incoming').count()).toBe(2);
      expect(await page.inputValue('#text')).toBe('');

      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });

      // The console leaves: the window says so.
      expect(await peer.stop()).toBe(0);
      await expect(waitText(status, `peer left · pid ${peer.pid}`)).resolves.toBe(true);
      expect(errors).toEqual([]);
    } finally {
      stopServing();
      bridge?.close();
      await ipc.close();
      await page?.close();
      await peer.stop();
      Region.unlinkIfExists(name);
    }
  });
});

/** Waits until the element's text is `text`; resolves true, or rejects showing the last text. */
async function waitText(locator: ReturnType<Page['locator']>, text: string, ms = 15000): Promise<boolean> {
  const deadline = Date.now() + ms;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await locator.textContent();
    if (last === text) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${JSON.stringify(text)}, the page shows ${JSON.stringify(last)}`);
}

async function waitGone(page: Page, selector: string, ms = 15000): Promise<boolean> {
  await page.locator(selector).first().waitFor({ state: 'detached', timeout: ms });
  return true;
}
