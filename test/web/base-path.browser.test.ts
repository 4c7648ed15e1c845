// The report pages behind a reverse proxy at a path, in Chromium: `socorrito serve --public-url
// http://127.0.0.1:<proxy>/crashes/`, and a proxy that serves only /crashes/ (everything else
// is 404 there, as at a real proxy's root). Every address a page gives must keep the path, or a
// click leaves the receiver.
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { startPathProxy, type PathProxy } from '../helpers/proxy.ts';
import { spawnReceiver, tempDir, type SpawnedReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';
const AUTH = { authorization: 'Bearer test-admin-token' };

/** Every address on the page that is not under /crashes/ (the icon is `data:,` and a skip link `#main`: no request). */
async function addressesOutsideThePath(page: Page): Promise<{ count: number; outside: string[] }> {
  const all = await page.$$eval('[href], [action], [src]', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('action') ?? e.getAttribute('src')!));
  return { count: all.length, outside: all.filter((a) => a !== 'data:,' && !a.startsWith('#') && !a.startsWith('/crashes/')) };
}

describe.each([
  { proxy: 'strips /crashes', strip: true, publicPath: '/crashes/' },
  { proxy: 'passes /crashes on', strip: false, publicPath: '/crashes' },
])('report pages behind a proxy that $proxy (--public-url …$publicPath)', ({ strip, publicPath }) => {
  let proxy: PathProxy;
  let r: SpawnedReceiver;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser & { cleanupProfile(): Promise<void> };
  let page: Page;
  let base: string;
  let crashId: string;

  beforeAll(async () => {
    proxy = await startPathProxy({ prefix: '/crashes', strip });
    base = `${proxy.origin}/crashes`;
    dir = await tempDir();
    r = await spawnReceiver(dir.path, ['--public-url', `${proxy.origin}${publicPath}`]);
    proxy.forwardTo(Number(new URL(r.url).port));
    // A crash with a file, submitted through the proxy as a client configured with the public URL would.
    const submitted = await submitCrash(`${base}/submit`, jsCrashFields({ WebAppGUID: GUID }), [{ name: 'page_html', filename: 'page.html', data: new TextEncoder().encode('<p>hi</p>') }]);
    expect(submitted.crashId, submitted.body).toMatch(/^bp-/);
    crashId = submitted.crashId!;
    for (let i = 0; ; i++) {
      const answer = (await (await fetch(`${base}/api/crashes/${crashId}`, { headers: AUTH })).json()) as { processed: unknown };
      if (answer.processed) break;
      if (i > 400) throw new Error('the crash was not processed in 20 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await browser?.cleanupProfile();
    await r?.kill();
    await proxy?.close();
    await dir?.cleanup();
  });

  it('prints the public URL with its path, and where to submit crashes under it', () => {
    expect(r.output()).toContain(`public URL ${base} (--public-url)`);
    expect(r.output()).toContain(`submit crashes to ${base}/submit`);
  });

  it('sends to the login page under the path, and back to the page asked for after logging in', async () => {
    await page.goto(`${base}/apps/${GUID}?days=7`);
    const login = new URL(page.url());
    expect(login.pathname).toBe('/crashes/login');
    expect(login.searchParams.get('next')).toBe(`/apps/${GUID}?days=7`);
    const { count, outside } = await addressesOutsideThePath(page);
    expect(count).toBeGreaterThanOrEqual(5);
    expect(outside).toEqual([]);
    await page.type('input[name=token]', 'test-admin-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toBe(`${base}/apps/${GUID}?days=7`);
  });

  it('loads the stylesheet under the path', async () => {
    const sheets = await page.evaluate(() => [...document.styleSheets].map((s) => ({ href: s.href, rules: s.cssRules.length })));
    expect(sheets).toEqual([{ href: `${base}/static/socorrito.css`, rules: expect.any(Number) }]);
    expect(sheets[0]!.rules).toBeGreaterThan(10);
  });

  it('keeps the path in every address of top crashers, a signature, its status form, a report, the apps and search', async () => {
    const check = async (where: string, least: number): Promise<void> => {
      const { count, outside } = await addressesOutsideThePath(page);
      expect(outside, where).toEqual([]);
      expect(count, where).toBeGreaterThanOrEqual(least);
    };
    await check('top crashers', 12);

    await Promise.all([page.waitForNavigation(), page.click('table.topcrashers tbody tr:first-child th.sig a')]);
    expect(new URL(page.url()).pathname).toMatch(/^\/crashes\/signatures\//);
    const signaturePage = page.url();
    await check('signature', 20);

    // The status form posts through the proxy (origin and CSRF checks) and comes back here.
    await Promise.all([page.waitForNavigation(), page.click('button[name=status][value=resolved]')]);
    expect(page.url()).toBe(`${signaturePage}#triage`);
    expect(await page.$eval('strong.status', (el) => el.textContent)).toMatch(/^Resolved/);
    await check('signature, resolved', 20);

    await Promise.all([page.waitForNavigation(), page.click('table.reports tbody tr:first-child a')]);
    expect(page.url()).toBe(`${base}/report/${crashId}`);
    await check('report', 10);
    const file = await page.$eval('a[href*="/files/"]', (a) => (a as HTMLAnchorElement).href);
    expect(file).toBe(`${base}/report/${crashId}/files/page_html`);
    // A download (the pages' policy lets no script fetch it): through the proxy as the link names it.
    expect(await (await fetch(file, { headers: AUTH })).text()).toBe('<p>hi</p>');

    await Promise.all([page.waitForNavigation(), page.click('a.brand')]);
    expect(page.url()).toBe(`${base}/`);
    await check('apps', 6);

    await Promise.all([page.waitForNavigation(), page.click('header a[href$="/search"]')]);
    expect(page.url()).toBe(`${base}/search`);
    await check('search', 15);
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe('/crashes/search');
    await check('search results', 15);

    await page.goto(`${base}/no-such-page`);
    await check('not found', 6);
  });

  it('logs out to the login page under the path, and asks for a login again', async () => {
    await page.goto(`${base}/`);
    await Promise.all([page.waitForNavigation(), page.click('header form button')]);
    expect(page.url()).toBe(`${base}/login`);
    await page.goto(`${base}/search`);
    expect(new URL(page.url()).pathname).toBe('/crashes/login');
  });

  it('sent nothing outside the path', () => {
    expect(proxy.outside).toEqual([]);
  });
});
