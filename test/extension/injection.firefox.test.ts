/**
 * What the extension puts into pages, in real Firefox through the real extension: with reporting
 * off, or on a blocked site, a page finds no trace of it (what a page's own script can check:
 * whether a listener reads a synthetic error event, whether the relay event comes after a real
 * error, new globals), and once reporting is back on a newly loaded page reports again. A page
 * hooked before its site was blocked keeps the hook until it is reloaded, and the background
 * still refuses its reports.
 */
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { crashesOf, newGuid, useFirefoxWithExtension, useInlinePages, waitFor, waitForCrashes } from './harness.ts';

const env = useFirefoxWithExtension();
const pages = useInlinePages();

/**
 * A page that declares an app and looks for Socorrito the way any page could: it dispatches a
 * synthetic error event whose error has a `message` getter (a listener that reads it is the
 * hook's; nothing of the page listens), counts the relay events on document (written to
 * sessionStorage when the page is left, after the hook's own pagehide listener has handed on what
 * it held) and lists globals named after it. Unless `?quiet`, a timer then throws.
 */
function appPage(guid: string): string {
  return `<!doctype html><html><head><meta charset="utf-8">
<meta name="socorrito:guid" content="${guid}">
<meta name="socorrito:submit-url" content="${env.receiver.url}/submit">
<meta name="socorrito:release" content="1.0">
<script>
  window.__relays = 0;
  document.addEventListener('socorrito:errors', () => { window.__relays++; }, true);
  addEventListener('pagehide', () => sessionStorage.setItem('relays', String(window.__relays)), true);
  addEventListener('error', () => { window.__thrown = true; });
  let touched = false;
  dispatchEvent(new ErrorEvent('error', { message: 'probe', error: { get message() { touched = true; return 'probe'; } } }));
  window.__probeRead = touched;
  window.__globals = Object.getOwnPropertyNames(window).concat(Object.getOwnPropertyNames(document)).filter((n) => /socorrito/i.test(n));
  if (!location.search.includes('quiet')) setTimeout(() => { throw new TypeError('thrown by ${guid}'); });
</script></head><body></body></html>`;
}

pages.serve('/left', '<!doctype html><title>left</title>');

interface Trace {
  probeRead: boolean;
  globals: string[];
}

/** Opens a new app on a host of its own; `host` picks one already used (a site set up before). */
async function openApp(options: { quiet?: boolean; url?: string } = {}): Promise<{ page: Page; guid: string; url: string; trace: Trace }> {
  const guid = newGuid();
  pages.serve(`/${guid}`, appPage(guid));
  const url = options.url ? new URL(`/${guid}`, options.url).href : pages.nextUrl(`/${guid}`);
  const page = await env.browser.newPage();
  await page.goto(options.quiet ? `${url}?quiet` : url);
  return { page, guid, url, trace: await traceOf(page) };
}

function traceOf(page: Page): Promise<Trace> {
  return page.evaluate(() => {
    const w = window as unknown as { __probeRead: boolean; __globals: string[] };
    return { probeRead: w.__probeRead, globals: w.__globals };
  });
}

/** Once the page's timer has thrown, leaves the page for another of its origin and says how many relay events the page saw. */
async function relaysAfterLeaving(page: Page, url: string): Promise<number> {
  await page.waitForFunction(() => (window as unknown as { __thrown?: boolean }).__thrown === true);
  await page.goto(new URL('/left', url).href);
  return Number(await page.evaluate(() => sessionStorage.getItem('relays')));
}

type Registered = { id: string; js?: string[]; world?: string; excludeMatches?: string[] }[];

function registered(): Promise<Registered> {
  return env.extensionPage.evaluate(() =>
    (globalThis as unknown as { browser: { scripting: { getRegisteredContentScripts(): Promise<Registered> } } }).browser.scripting.getRegisteredContentScripts(),
  ) as Promise<Registered>;
}

/** Changes the stored settings as the options page does, and waits until the registrations follow. */
async function setSettings(patch: Record<string, unknown>, until: (scripts: Registered) => boolean): Promise<void> {
  await env.extensionPage.evaluate(async (p) => {
    const storage = (globalThis as unknown as { browser: { storage: { local: { get(k: string): Promise<Record<string, object>>; set(v: object): Promise<void> } } } }).browser.storage.local;
    const { settings } = await storage.get('settings');
    await storage.set({ settings: { ...settings, ...p } });
  }, patch);
  await waitFor('the content scripts to follow the settings', async () => until(await registered()));
}

const hookOf = (scripts: Registered) => scripts.find((s) => s.js?.includes('hook.js'));

describe('what the extension puts into pages', () => {
  it('registers the hook in the page world and the content script while reporting is on', async () => {
    const scripts = await registered();
    expect(scripts.map((s) => s.js).sort()).toEqual([['content.js'], ['hook.js']]);
    expect(hookOf(scripts)?.world).toBe('MAIN');
  });

  it('leaves no trace in a page while reporting is off, and a page loaded after it is turned on reports again', async () => {
    await setSettings({ enabled: false }, (scripts) => scripts.length === 0);
    const off = await openApp();
    expect(off.trace).toEqual({ probeRead: false, globals: [] });
    expect(await relaysAfterLeaving(off.page, off.url)).toBe(0);
    await off.page.close();

    await setSettings({ enabled: true }, (scripts) => scripts.length === 2);
    const on = await openApp();
    expect(on.trace).toEqual({ probeRead: true, globals: [] });
    await waitFor('the thrown error to arrive', async () =>
      (await crashesOf(env.receiver, on.guid)).some((c) => c.annotations.JSErrorMessage === `thrown by ${on.guid}`),
    );
    expect(await relaysAfterLeaving(on.page, on.url)).toBeGreaterThan(0);
    await on.page.close();
    // Its content script was not there either: nothing of the page that loaded while off arrived.
    expect(await crashesOf(env.receiver, off.guid)).toEqual([]);
  });

  it('puts nothing into a blocked site, and still hooks every other one', async () => {
    const blockedUrl = pages.nextUrl('/');
    const blockedHost = new URL(blockedUrl).hostname;
    // An IPv6 address and a domain with its subdomains beside it: every entry must stay a valid pattern.
    await setSettings({ blockSites: [blockedHost, '[::1]', 'shop.example'] }, (scripts) => hookOf(scripts)?.excludeMatches?.length === 3);
    try {
      const blocked = await openApp({ url: blockedUrl });
      expect(blocked.trace).toEqual({ probeRead: false, globals: [] });
      expect(await relaysAfterLeaving(blocked.page, blocked.url)).toBe(0);
      await blocked.page.close();

      const other = await openApp();
      expect(other.trace.probeRead).toBe(true);
      await waitForCrashes(env.receiver, other.guid);
      await other.page.close();
      expect(await crashesOf(env.receiver, blocked.guid)).toEqual([]);
    } finally {
      await setSettings({ blockSites: [] }, (scripts) => (hookOf(scripts)?.excludeMatches ?? []).length === 0);
    }
  });

  it('leaves the hook in a page open when its site is blocked until it is reloaded, and refuses what it sends', async () => {
    const open = await openApp({ quiet: true });
    expect(open.trace.probeRead).toBe(true);
    const host = new URL(open.url).hostname;
    await setSettings({ blockSites: [host] }, (scripts) => hookOf(scripts)?.excludeMatches?.length === 1);
    try {
      const before = await open.page.evaluate(() => (window as unknown as { __relays: number }).__relays);
      await open.page.evaluate(() => setTimeout(() => { throw new RangeError('thrown after the site was blocked'); }));
      // The hook is still there and hands the error on; the background refuses it.
      await open.page.waitForFunction((n) => (window as unknown as { __relays: number }).__relays > n, {}, before);
      // A later error of another site arrives: the blocked one, handed on first, was refused by then.
      const later = await openApp();
      await waitForCrashes(env.receiver, later.guid);
      await later.page.close();
      const messages = (await crashesOf(env.receiver, open.guid)).map((c) => c.annotations.JSErrorMessage);
      expect(messages).not.toContain('thrown after the site was blocked');

      await open.page.reload();
      expect(await traceOf(open.page)).toEqual({ probeRead: false, globals: [] });
      await open.page.close();
    } finally {
      await setSettings({ blockSites: [] }, (scripts) => (hookOf(scripts)?.excludeMatches ?? []).length === 0);
    }
  });
});
