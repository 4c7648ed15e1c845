import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { REPO_ROOT, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, direct, APP_GUID, appFrame, daysAgo } from './crashes.ts';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web');
const XSS = '<img src=x onerror=alert(1)>';
const TOP_SIGNATURE = 'TypeError: cart is undefined | total';

describe('report pages in Chromium', () => {
  let r: TestReceiver;
  let browser: Browser & { cleanupProfile(): Promise<void> };
  let page: Page;
  let xssCrash: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 5; i++) {
      await addCrash(direct(r), { signature: TOP_SIGNATURE, at: daysAgo(i % 3), frames: [appFrame('total', 'src/cart.ts', 12)] });
    }
    await addCrash(direct(r), { signature: 'RangeError: too deep | walk', errorType: 'RangeError', errorMessage: 'Maximum call stack size exceeded', at: daysAgo(1) });
    xssCrash = (await addCrash(direct(r), { signature: `Error: ${XSS}`, errorType: 'Error', errorMessage: XSS, frames: [appFrame(XSS, 'src/x.ts', 3)] })).crash_id;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });
  afterAll(async () => {
    await browser?.close();
    await browser?.cleanupProfile();
    await r?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const text = (selector: string) => page.$eval(selector, (el) => (el as HTMLElement).innerText);

  it('logs in through the form, then shows apps and top crashers', async () => {
    await page.goto(`${r.url}/apps/${APP_GUID}?days=7`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await shot('1-login');
    await page.type('input[name=token]', 'test-admin-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toBe(`${r.url}/apps/${APP_GUID}?days=7`);
    const rows = await page.$$eval('table.topcrashers tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
    expect(rows[0]).toContain(TOP_SIGNATURE);
    expect(rows[0]).toMatch(/\b5\b/);
    expect(await page.$$eval('table.topcrashers svg.spark', (s) => s.length)).toBe(rows.length);
    await shot('2-top-crashers');
    await Promise.all([page.waitForNavigation(), page.click('a.brand')]);
    expect(await text('main table')).toContain('Shop');
    await shot('2b-apps');
  });

  it('follows a signature to its page and a report, and shows the original file and source line', async () => {
    await page.goto(`${r.url}/apps/${APP_GUID}?days=7`);
    await Promise.all([page.waitForNavigation(), page.click('table.topcrashers tbody tr:first-child th.sig a')]);
    expect(await text('h1')).toBe(TOP_SIGNATURE);
    expect(await page.$$eval('svg.chart rect', (bars) => bars.length)).toBe(7);
    expect(await text('.grid')).toContain('Firefox 153.0');
    await shot('3-signature');

    await Promise.all([page.waitForNavigation(), page.click('table.reports tbody tr:first-child a')]);
    expect(new URL(page.url()).pathname).toMatch(/^\/report\/bp-/);
    expect(await text('.frames')).toContain('src/cart.ts:12:5');
    // The crashing app frame shows its source open, as Sentry opens the first in-app frame; it
    // folds and opens again without script (<details>).
    const sourceShown = () => page.$eval('.context .hit', (el) => el.checkVisibility());
    expect(await sourceShown()).toBe(true);
    expect(await text('.context .hit')).toContain('return cart.total + shipping;');
    await page.click('.frames summary');
    expect(await sourceShown()).toBe(false);
    expect(await text('.frames')).not.toContain('return cart.total + shipping;');
    await page.click('.frames summary');
    expect(await sourceShown()).toBe(true);
    expect(await text('.frames')).toContain('minified: a @ https://shop.example/static/app.3f9a1c.js:1:1042');
    await shot('4-report');
  });

  it('runs a search from the form into a shareable URL', async () => {
    await page.goto(`${r.url}/search`);
    await page.type('input[name=q]', 'call stack');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('call stack');
    const results = await text('table.reports tbody');
    expect(results).toContain('Maximum call stack size exceeded');
    expect(results).not.toContain('cart is undefined');
    await shot('5-search');
  });

  it('shows a hostile error message as text and runs nothing', async () => {
    await page.goto(`${r.url}/report/bp-${xssCrash}`);
    expect(await page.$eval('#error-message', (el) => el.textContent)).toBe(XSS);
    expect(await page.$$eval('main img', (imgs) => imgs.length)).toBe(0);
    await page.goto(`${r.url}/search?q=${encodeURIComponent('onerror')}`);
    expect(await text('table.reports tbody')).toContain(XSS);
    expect(await page.$$eval('main img', (imgs) => imgs.length)).toBe(0);
    await shot('6-xss-as-text');
    expect(dialogs).toEqual([]);
  });

  it('works with JavaScript turned off: log in, top crashers, a report with its source folded and open', async () => {
    const context = await browser.createBrowserContext();
    const noJs = await context.newPage();
    await noJs.setJavaScriptEnabled(false);
    await noJs.goto(`${r.url}/apps/${APP_GUID}?days=28`);
    await noJs.type('input[name=token]', 'test-admin-token');
    await Promise.all([noJs.waitForNavigation(), noJs.click('button[type=submit]')]);
    expect(await noJs.$eval('table.topcrashers tbody tr', (tr) => (tr as HTMLElement).innerText)).toContain(TOP_SIGNATURE);
    await Promise.all([noJs.waitForNavigation(), noJs.click('table.topcrashers th.sig a')]);
    await Promise.all([noJs.waitForNavigation(), noJs.click('table.reports tbody a')]);
    const sourceShown = () => noJs.$eval('.context .hit', (el) => el.checkVisibility());
    expect(await sourceShown()).toBe(true);
    await noJs.click('.frames summary');
    expect(await sourceShown()).toBe(false);
    await noJs.click('.frames summary');
    expect(await sourceShown()).toBe(true);
    await Promise.all([noJs.waitForNavigation(), noJs.click('form[action="/logout"] button')]);
    expect(new URL(noJs.url()).pathname).toBe('/login');
    await noJs.goto(`${r.url}/`);
    expect(new URL(noJs.url()).pathname).toBe('/login');
    await context.close();
  });

  it('sends a fresh browser without the cookie to the login page', async () => {
    const context = await browser.createBrowserContext();
    const fresh = await context.newPage();
    await fresh.goto(`${r.url}/signatures/anything`);
    expect(new URL(fresh.url()).pathname).toBe('/login');
    expect(new URL(fresh.url()).searchParams.get('next')).toBe('/signatures/anything');
    await context.close();
  });
});
