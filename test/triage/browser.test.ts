import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { REPO_ROOT, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from '../web/crashes.ts';
import { getJson } from './session.ts';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'triage');
const TOP = 'TypeError: cart is undefined | total';
const NOISE = 'Error: noisy extension | inject';

describe('resolving and ignoring in Chromium', () => {
  let r: TestReceiver;
  let browser: Browser & { cleanupProfile(): Promise<void> };
  let page: Page;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 4; i++) await addCrash(direct(r), { signature: TOP, at: daysAgo(i % 2) });
    for (let i = 0; i < 2; i++) await addCrash(direct(r), { signature: NOISE, errorType: 'Error', at: daysAgo(1) });
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await browser?.cleanupProfile();
    await r?.stop();
  });

  const rows = () => page.$$eval('table.topcrashers tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));

  it('logs in, resolves a signature with its button, and sees it marked on top crashers', async () => {
    const signaturePath = `/signatures/${signatureIdOf(TOP)}?app=${APP_GUID}&days=7`;
    await page.goto(`${r.url}${signaturePath}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.type('input[name=token]', 'test-admin-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(page.url()).toBe(`${r.url}${signaturePath}`);
    expect(await page.$eval('.triage .status', (el) => (el as HTMLElement).innerText)).toBe('Open');

    await page.type('.triage input[name=note]', 'fixed in cart.ts');
    await Promise.all([page.waitForNavigation(), page.click('.triage button[value=resolved]')]);
    expect(page.url()).toBe(`${r.url}${signaturePath}#triage`); // back where we were (303), at the status
    expect(await page.$eval('.triage .status', (el) => (el as HTMLElement).innerText)).toMatch(/^Resolved at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await page.$eval('.triage', (el) => (el as HTMLElement).innerText)).toContain('fixed in cart.ts');
    expect(await getJson(`${r.url}/api/signatures/${signatureIdOf(TOP)}`, )).toMatchObject({ status: 'resolved', triage: { note: 'fixed in cart.ts' } });
    await page.screenshot({ path: join(ARTIFACTS, '1-resolved.png'), fullPage: true });

    await page.goto(`${r.url}/apps/${APP_GUID}?days=7`);
    const listed = await rows();
    const topRow = listed.find((t) => t.includes(TOP))!;
    expect(topRow).toMatch(/\bRESOLVED\b/i);
    expect(await page.$$eval('table.topcrashers .badge.resolved', (b) => b.length)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, '2-top-crashers.png'), fullPage: true });
  });

  it('ignores a signature: top crashers hides it and links to show it', async () => {
    await page.goto(`${r.url}/signatures/${signatureIdOf(NOISE)}`);
    await Promise.all([page.waitForNavigation(), page.click('.triage button[value=ignored]')]);
    expect(await page.$eval('.triage .status', (el) => (el as HTMLElement).innerText)).toMatch(/^Ignored since /);

    await page.goto(`${r.url}/apps/${APP_GUID}?days=7`);
    expect((await rows()).some((t) => t.includes(NOISE))).toBe(false);
    expect(await page.$eval('.hidden-note', (el) => (el as HTMLElement).innerText)).toBe('1 ignored signature (2 crashes) hidden · show ignored');
    await Promise.all([page.waitForNavigation(), page.click('.hidden-note a')]);
    expect(new URL(page.url()).searchParams.get('ignored')).toBe('1');
    expect((await rows()).find((t) => t.includes(NOISE))).toMatch(/\bIGNORED\b/i);
    await page.screenshot({ path: join(ARTIFACTS, '3-show-ignored.png'), fullPage: true });
  });

  it('takes Enter in a field as the form\'s own action: the note is saved, a bug is added, nothing else changes', async () => {
    const id = signatureIdOf(NOISE);
    await page.goto(`${r.url}/signatures/${id}`);
    const before = (await getJson<{ status: string }>(`${r.url}/api/signatures/${id}`)).status;
    await page.$eval('.triage input[name=note]', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('.triage input[name=note]', 'from the ad blocker');
    await Promise.all([page.waitForNavigation(), page.focus('.triage input[name=note]').then(() => page.keyboard.press('Enter'))]);
    expect(await getJson(`${r.url}/api/signatures/${id}`)).toMatchObject({ status: before, triage: { note: 'from the ad blocker' } });

    for (const url of ['https://github.com/shop/web/issues/77', 'https://github.com/shop/web/issues/78']) {
      await page.type('.triage input[name=add]', url);
      await Promise.all([page.waitForNavigation(), page.focus('.triage input[name=add]').then(() => page.keyboard.press('Enter'))]);
    }
    expect(await getJson(`${r.url}/api/signatures/${id}`)).toMatchObject({
      status: before,
      bugs: ['https://github.com/shop/web/issues/77', 'https://github.com/shop/web/issues/78'],
    });
    await Promise.all([page.waitForNavigation(), page.click('.triage button[name=remove][value="https://github.com/shop/web/issues/77"]')]);
    expect(await getJson(`${r.url}/api/signatures/${id}`)).toMatchObject({ bugs: ['https://github.com/shop/web/issues/78'] });
    await page.screenshot({ path: join(ARTIFACTS, '4-bugs.png'), fullPage: true });
  });
});
