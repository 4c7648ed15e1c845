/**
 * Pages already open when the extension is installed or updated, in real Firefox: registered
 * content scripts reach only pages loaded after the registration, so the background brings the
 * content script and the hook into the open tabs itself. A page open before the install reports
 * an error thrown after it; a page open across an update, which keeps the old hook, reports each
 * error once, not once per hook; a blocked site's page gets nothing.
 */
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { buildTempExtension, crashesOf, findExtensionPage, newGuid, useInlinePages, waitFor } from './harness.ts';

const pages = useInlinePages();
let browser: Browser;
let receiver: TestReceiver;
let extensionDir: string;
let cleanupBuild: () => Promise<void>;

beforeAll(async () => {
  const build = await buildTempExtension();
  extensionDir = build.dir;
  cleanupBuild = build.cleanup;
  receiver = await startTestReceiver();
  browser = await launchFirefox();
});

afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

/** Opens a page of a new app on a host of its own (or at `url`), with a same-origin frame; nothing is thrown yet. */
async function openApp(url?: string): Promise<{ page: Page; guid: string; url: string }> {
  const guid = newGuid();
  pages.serve(`/${guid}`, `<!doctype html><html><head><meta charset="utf-8">
<meta name="socorrito:guid" content="${guid}">
<meta name="socorrito:submit-url" content="${receiver.url}/submit">
<meta name="socorrito:release" content="1.0"></head><body><iframe src="/${guid}/frame"></iframe></body></html>`);
  pages.serve(`/${guid}/frame`, '<!doctype html><title>frame</title>');
  const address = url ? new URL(`/${guid}`, url).href : pages.nextUrl(`/${guid}`);
  const page = await browser.newPage();
  await page.goto(address);
  await page.waitForFunction(() => document.querySelector('iframe')?.contentDocument?.readyState === 'complete');
  return { page, guid, url: address };
}

/** Whether a hook in the page (or in its frame `frame` picks) answers the question a starting hook asks. */
function hooked(page: Page, frame?: string): Promise<boolean> {
  return page.evaluate((f) => {
    const doc = f ? document.querySelector<HTMLIFrameElement>(f)!.contentDocument! : document;
    return !doc.dispatchEvent(new CustomEvent('socorrito:hook', { cancelable: true }));
  }, frame);
}

/** Throws `message` from a timer in the page (or in its frame `frame` picks). */
async function throwIn(page: Page, message: string, frame?: string): Promise<void> {
  await page.evaluate((m, f) => {
    const win = f ? document.querySelector<HTMLIFrameElement>(f)!.contentWindow! : window;
    (win as unknown as { setTimeout(f: () => void): void }).setTimeout(() => {
      throw new TypeError(m);
    });
  }, message, frame);
}

/** The crashes of `guid` with the message, once the receiver has one. */
async function crashesWith(guid: string, message: string) {
  await waitFor(`a crash "${message}"`, async () => (await crashesOf(receiver, guid)).some((c) => c.annotations.JSErrorMessage === message));
  return (await crashesOf(receiver, guid)).filter((c) => c.annotations.JSErrorMessage === message);
}

/**
 * Asserts that `message`, thrown once in the page, was reported exactly once: after it arrived,
 * a second error of the page arrives too (so a copy handed on with the first would have been
 * folded into its report or stored by then), and the first is one crash counted once.
 */
async function reportedOnce(page: Page, guid: string, message: string): Promise<void> {
  const first = await crashesWith(guid, message);
  await throwIn(page, `${message} (then)`);
  await crashesWith(guid, `${message} (then)`);
  const all = (await crashesOf(receiver, guid)).filter((c) => c.annotations.JSErrorMessage === message);
  expect(all).toHaveLength(1);
  expect(first[0]!.annotations.JSRepeatCount).toBe('1');
}

type Api = { browser: { storage: { local: { get(k: string): Promise<Record<string, object>>; set(v: object): Promise<void> } } } };

describe('pages already open', () => {
  let openBefore: { page: Page; guid: string; url: string };
  let extensionPage: Page;

  /** Changes the stored settings as the options page does, and waits until the registrations follow. */
  async function setSettings(patch: Record<string, unknown>): Promise<void> {
    await extensionPage.evaluate(async (p) => {
      const storage = (globalThis as unknown as Api).browser.storage.local;
      const { settings } = await storage.get('settings');
      await storage.set({ settings: { ...settings, ...p } });
    }, patch);
    await waitFor('the content scripts to follow the settings', () =>
      extensionPage.evaluate(async (p) => {
        const scripts = await (globalThis as unknown as { browser: { scripting: { getRegisteredContentScripts(): Promise<{ excludeMatches?: string[] }[]> } } }).browser.scripting.getRegisteredContentScripts();
        if (p.enabled === false) return scripts.length === 0;
        return scripts.length === 2 && (!p.blockSites || scripts[0]!.excludeMatches!.length === (p.blockSites as string[]).length);
      }, patch),
    );
  }

  it('are brought the hook and the content script at install, frames too, and report once', async () => {
    openBefore = await openApp();
    expect(await hooked(openBefore.page)).toBe(false);
    await browser.installExtension(extensionDir);
    extensionPage = await findExtensionPage(browser);
    await waitFor('the open page to be hooked', () => hooked(openBefore.page));
    expect(await hooked(openBefore.page, 'iframe')).toBe(true);

    await throwIn(openBefore.page, 'thrown after the install');
    await reportedOnce(openBefore.page, openBefore.guid, 'thrown after the install');
    await throwIn(openBefore.page, 'thrown in the frame after the install', 'iframe');
    await crashesWith(openBefore.guid, 'thrown in the frame after the install');
  });

  it('a page given the scripts twice (it was loading as they were registered) runs each once', async () => {
    const app = await openApp();
    expect(await hooked(app.page)).toBe(true);
    await extensionPage.evaluate(async (url) => {
      const b = (globalThis as unknown as { browser: { tabs: { query(q: object): Promise<{ id: number }[]> }; scripting: { executeScript(i: object): Promise<unknown> } } }).browser;
      const tab = (await b.tabs.query({})).find((t) => (t as { url?: string }).url === url);
      await b.scripting.executeScript({ target: { tabId: tab!.id }, files: ['content.js'] });
      await b.scripting.executeScript({ target: { tabId: tab!.id }, files: ['hook.js'], world: 'MAIN' });
    }, app.url);
    await throwIn(app.page, 'thrown after a second injection');
    await reportedOnce(app.page, app.guid, 'thrown after a second injection');
    await app.page.close();
  });

  it('across an update: a page with the old hook reports once, and a blocked site gets nothing', async () => {
    const app = await openApp();
    expect(await hooked(app.page)).toBe(true);
    // A frame added while reporting is off gets nothing: after the update it has no old hook, so
    // once it is hooked the new version has been brought into this tab.
    await setSettings({ enabled: false });
    await app.page.evaluate(async (src) => {
      const frame = document.createElement('iframe');
      frame.id = 'witness';
      frame.src = src;
      const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      document.body.append(frame);
      await loaded;
    }, `/${app.guid}/frame`);
    expect(await hooked(app.page, '#witness')).toBe(false);
    await setSettings({ enabled: true });

    const blockedUrl = pages.nextUrl('/');
    await setSettings({ blockSites: [new URL(blockedUrl).hostname] });
    const blocked = await openApp(blockedUrl);
    expect(await hooked(blocked.page)).toBe(false);

    // Installing the same add-on again is an update: Firefox ends the old version (its content
    // scripts with it, but not the hook, which lives in the page's own world) and starts the new one.
    await browser.installExtension(extensionDir);
    await waitFor('the old extension page to close with the update', async () =>
      extensionPage.isClosed() || (await extensionPage.evaluate(() => location.href).catch(() => 'gone')) === 'gone',
    );
    await waitFor('the new version to reach the open tab', () => hooked(app.page, '#witness'));

    // The new content script hands the old hook's batches on, and no second hook doubles them.
    await app.page.evaluate(() => {
      const w = window as unknown as { __relays: number };
      w.__relays = 0;
      document.addEventListener('socorrito:errors', () => w.__relays++, true);
    });
    await throwIn(app.page, 'thrown after the update');
    await crashesWith(app.guid, 'thrown after the update');
    expect(await app.page.evaluate(() => (window as unknown as { __relays: number }).__relays)).toBe(1);
    await reportedOnce(app.page, app.guid, 'thrown after the update');
    await throwIn(app.page, 'thrown in the new frame after the update', '#witness');
    await crashesWith(app.guid, 'thrown in the new frame after the update');

    expect(await hooked(blocked.page)).toBe(false);
    await throwIn(blocked.page, 'thrown on a blocked site');
    const later = await openApp();
    await throwIn(later.page, 'thrown on a page opened after the update');
    await crashesWith(later.guid, 'thrown on a page opened after the update');
    expect(await crashesOf(receiver, blocked.guid)).toEqual([]);
  });
});
