/**
 * Pages already open when the extension is installed or updated, in real headless Chromium.
 * Chromium loads an unpacked extension at launch (--load-extension) or, with
 * --enable-unsafe-extension-debugging, when told to over CDP (`browser.installExtension`): so
 * Chromium starts with no extension, pages are opened (one of the fixture app, one still
 * loading, a chrome:// page), and only then is the extension installed. Installing it again
 * from the same folder is an update (onInstalled says "update"): the page keeps the old
 * version's hook, in its own world, and its content script, cut off from the extension.
 * (`chrome.runtime.reload()` from the service worker is no way to update here: it closed the
 * extension's pages, but no new service worker appeared.)
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Frame, Page, WebWorker } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { type FixtureServer, buildTempExtension, newGuid, startFixtureServer, storedCrashes, waitFor } from './harness.ts';

let browser: Awaited<ReturnType<typeof launchChromium>>;
let receiver: TestReceiver;
let fixture: FixtureServer;
let extensionDir: string;
let cleanupBuild: () => Promise<void>;
let slow: SlowPages;

beforeAll(async () => {
  const build = await buildTempExtension();
  extensionDir = build.dir;
  cleanupBuild = build.cleanup;
  receiver = await startTestReceiver();
  fixture = await startFixtureServer(`${receiver.url}/submit`);
  slow = await startSlowPages();
  browser = await launchChromium({ installExtensions: true });
});

afterAll(async () => {
  await browser?.close();
  await slow?.close();
  await browser?.cleanupProfile();
  await fixture?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

interface SlowPages {
  /** A page of a new app whose parser stops at a script that arrives only when `release()` is called. */
  page(guid: string): string;
  /** Whether the page's slow script was asked for (its parser has stopped there). */
  asked(): boolean;
  release(): void;
  close(): Promise<void>;
}

/** Serves pages that stay loading, as a page waiting on a slow third-party script does. */
async function startSlowPages(): Promise<SlowPages> {
  const held: ServerResponse[] = [];
  let released = false;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/slow.js') {
      if (released) res.writeHead(200, { 'content-type': 'text/javascript' }).end('');
      else held.push(res);
      return;
    }
    const guid = url.searchParams.get('guid') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html><html><head><meta charset="utf-8">
<meta name="socorrito:guid" content="${guid}">
<meta name="socorrito:submit-url" content="${receiver.url}/submit">
<meta name="socorrito:release" content="1.0"></head><body><p>Loading…</p><script src="/slow.js"></script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const release = (): void => {
    released = true;
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'text/javascript' }).end('');
  };
  return {
    page: (guid) => `${base}/?guid=${guid}`,
    asked: () => held.length > 0,
    release,
    close: () =>
      new Promise<void>((resolve) => {
        release();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The fixture app's page for a new app, with its same-origin frame (which throws once as it loads). */
async function openApp(): Promise<{ page: Page; guid: string }> {
  const guid = newGuid();
  const page = await browser.newPage();
  await page.goto(`${fixture.url}/index.html?case=iframe&guid=${guid}`);
  await page.waitForFunction(() => document.querySelector('iframe')?.contentDocument?.readyState === 'complete');
  return { page, guid };
}

function frameOf(page: Page): Frame {
  const frame = page.frames().find((f) => f.url().includes('/frame.html'));
  if (!frame) throw new Error(`no frame.html frame in ${page.url()}`);
  return frame;
}

/** Whether a hook in the document answers the question a starting hook asks. */
function hooked(doc: Page | Frame): Promise<boolean> {
  return doc.evaluate(() => !document.dispatchEvent(new CustomEvent('socorrito:hook', { cancelable: true })));
}

/**
 * Throws `message` from a timer that a script of the document itself sets: Chromium reports an
 * error thrown by a function puppeteer evaluated only as "Script error." (muted, as if from
 * another origin).
 */
async function throwIn(doc: Page | Frame, message: string): Promise<void> {
  await doc.evaluate((m) => {
    const script = document.createElement('script');
    script.textContent = `setTimeout(function thrower() { throw new TypeError(${JSON.stringify(m)}); });`;
    document.head.append(script);
  }, message);
}

/** Every crash the receiver has with the message, whatever app it was filed under (each test's messages are its own). */
async function crashesWith(message: string) {
  return (await storedCrashes(receiver)).filter((c) => c.annotations.JSErrorMessage === message);
}

/** The crashes with the message, once there is one; each must be the app's. */
async function arrived(guid: string, message: string) {
  const crashes = await waitFor(`a crash "${message}"`, async () => {
    const found = await crashesWith(message);
    return found.length > 0 && found;
  });
  for (const crash of crashes) expect(crash.annotations.WebAppGUID).toBe(guid);
  return crashes;
}

/**
 * Asserts that `message`, thrown once in the app, was reported exactly once and with the app's
 * GUID: after it arrived, a second error of the page arrives too (so a copy handed on by a second
 * hook or a second content script would have been stored or folded into the first by then), and
 * the first is one crash counted once.
 */
async function reportedOnce(page: Page, guid: string, message: string): Promise<void> {
  await arrived(guid, message);
  await throwIn(page, `${message} (then)`);
  await arrived(guid, `${message} (then)`);
  const crashes = await crashesWith(message);
  expect(crashes).toHaveLength(1);
  expect(crashes[0]!.annotations.WebAppGUID).toBe(guid);
  expect(crashes[0]!.annotations.JSRepeatCount).toBe('1');
}

/** The extension's service worker (of the version installed last). */
async function serviceWorker(): Promise<WebWorker> {
  const target = await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'), { timeout: 20_000 });
  return (await target.worker())!;
}

type Chrome = {
  chrome: {
    storage: { local: { get(k: string): Promise<Record<string, object>>; set(v: object): Promise<void> } };
    scripting: { getRegisteredContentScripts(): Promise<unknown[]>; executeScript(injection: object): Promise<unknown> };
    tabs: { query(q: object): Promise<{ id: number; url?: string }[]> };
  };
};

/** Turns reporting on or off as the options page does, and waits until the registrations follow. */
async function setEnabled(worker: WebWorker, enabled: boolean): Promise<void> {
  await worker.evaluate(async (on) => {
    const storage = (globalThis as unknown as Chrome).chrome.storage.local;
    const { settings } = await storage.get('settings');
    await storage.set({ settings: { ...settings, enabled: on } });
  }, enabled);
  await waitFor('the content scripts to follow the settings', () =>
    worker.evaluate(async (on) => (await (globalThis as unknown as Chrome).chrome.scripting.getRegisteredContentScripts()).length === (on ? 2 : 0), enabled),
  );
}

describe('pages already open in Chromium', () => {
  let app: { page: Page; guid: string };
  let loading: { page: Page; guid: string };

  it('are brought the hook and the content script at install, frames too, and report each error once', async () => {
    // A page Chromium will not let an extension script, open beside them, changes nothing.
    await (await browser.newPage()).goto('chrome://version');
    app = await openApp();
    expect(await hooked(app.page)).toBe(false);
    loading = { page: await browser.newPage(), guid: newGuid() };
    void loading.page.goto(slow.page(loading.guid)).catch(() => undefined);
    await waitFor('the loading page to wait for its slow script', () => slow.asked());
    await browser.installExtension(extensionDir);
    await waitFor('the open page to be hooked', () => hooked(app.page));
    expect(await hooked(frameOf(app.page))).toBe(true);

    // The welcome page the install opened is in front: a click goes to the tab in front.
    await app.page.bringToFront();
    await app.page.click('#listener');
    await reportedOnce(app.page, app.guid, 'quantity out of range');
    const [crash] = await crashesWith('quantity out of range');
    expect(crash!.annotations.JSErrorType).toBe('RangeError');
    expect(crash!.annotations.JSStack).toMatch(/\n {4}at HTMLButtonElement\.clickHandler \(http:\/\/127\.0\.0\.1:\d+\/app\.js/);

    await throwIn(frameOf(app.page), 'thrown in the frame after the install');
    expect(await arrived(app.guid, 'thrown in the frame after the install')).toHaveLength(1);
  });

  it('a page still loading at install is hooked at once, not only once it has loaded', async () => {
    await waitFor('the loading page to be hooked', () => hooked(loading.page));
    expect(await loading.page.evaluate(() => document.readyState)).toBe('loading');
    await throwIn(loading.page, 'thrown while the page loads');
    await reportedOnce(loading.page, loading.guid, 'thrown while the page loads');
    slow.release();
    await loading.page.waitForFunction(() => document.readyState === 'complete');
    await throwIn(loading.page, 'thrown once the page has loaded');
    await reportedOnce(loading.page, loading.guid, 'thrown once the page has loaded');
    await loading.page.close();
  });

  it('a page given the scripts twice (it loaded after the registration, then was injected) runs each once', async () => {
    const loaded = await openApp();
    expect(await hooked(loaded.page)).toBe(true);
    await (await serviceWorker()).evaluate(async (url) => {
      const { chrome } = globalThis as unknown as Chrome;
      const tab = (await chrome.tabs.query({})).find((t) => t.url === url);
      await chrome.scripting.executeScript({ target: { tabId: tab!.id }, files: ['content.js'] });
      await chrome.scripting.executeScript({ target: { tabId: tab!.id }, files: ['hook.js'], world: 'MAIN' });
    }, loaded.page.url());
    await throwIn(loaded.page, 'thrown after a second injection');
    await reportedOnce(loaded.page, loaded.guid, 'thrown after a second injection');
    await loaded.page.close();
  });

  it('across an update, keep reporting each error once', async () => {
    const worker = await serviceWorker();
    // A frame added while reporting is off gets nothing: after the update it has no old hook, so
    // once it is hooked the new version has been brought into this tab.
    await setEnabled(worker, false);
    await app.page.evaluate(async () => {
      const frame = document.createElement('iframe');
      frame.id = 'witness';
      frame.src = 'plain.html?witness';
      const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      document.body.append(frame);
      await loaded;
    });
    const witness = (): Frame => app.page.frames().find((f) => f.url().includes('witness'))!;
    expect(await hooked(witness())).toBe(false);
    await setEnabled(worker, true);

    // Loading the same unpacked folder again is an update: Chromium ends the old version's
    // service worker and content scripts (not the hook, in the page's own world) and starts the new one.
    await browser.installExtension(extensionDir);
    await waitFor('the new version to reach the open tab', () => hooked(witness()));

    await throwIn(app.page, 'thrown after the update');
    await reportedOnce(app.page, app.guid, 'thrown after the update');
    await throwIn(frameOf(app.page), 'thrown in the frame after the update');
    expect(await arrived(app.guid, 'thrown in the frame after the update')).toHaveLength(1);
  });
});
