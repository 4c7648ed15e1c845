// The whole way through, in Chromium: a minified app throws, the crash is submitted, its maps
// are uploaded first, the receiver's own processor symbolicates it and the index learns of it;
// then a person logs in and finds it from top crashers down to the original source line.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { CLI, REPO_ROOT, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { buildShop, serveStatic, type ShopBuild } from '../processor/build-app.ts';
import { waitProcessed } from '../processor/helpers.ts';

const run = promisify(execFile);
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web');
const GUID = '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98';
const RELEASE = '2.0.0';

describe('from a minified crash to its original source line, in Chromium', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let r: TestReceiver;
  let site: Awaited<ReturnType<typeof serveStatic>>;
  let shop: ShopBuild;
  let browser: Browser & { cleanupProfile(): Promise<void> };
  let page: Page;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    work = await tempDir('socorrito-web-shop-');
    shop = await buildShop(work.path, 'a');
    site = await serveStatic([shop.outDir], { '/shop.html': `<!doctype html><title>shop</title><script src="/static/${shop.script}"></script>` });
    r = await startTestReceiver();
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await browser?.cleanupProfile();
    await r?.stop();
    await site?.close();
    await work?.cleanup();
  });

  it('shows the processed crash on top crashers, its signature and its report with source', async () => {
    await run(process.execPath, [CLI, 'upload-sourcemaps', '--url', r.url, '--app', GUID, '--release', RELEASE, '--url-prefix', '~/static/', shop.outDir], {
      env: { ...process.env, SOCORRITO_TOKEN: r.adminToken },
    });
    await page.goto(`${site.url}/shop.html`);
    await page.waitForFunction(() => Boolean((window as unknown as { shop?: unknown }).shop));
    const thrown = await page.evaluate(() => {
      try {
        (window as unknown as { shop: { onClick: () => string } }).shop.onClick();
        return null;
      } catch (e) {
        const err = e as Error;
        return { name: err.name, message: err.message, stack: err.stack ?? '', userAgent: navigator.userAgent, url: location.href };
      }
    });
    expect(thrown).not.toBeNull();
    const submitted = await submitCrash(
      `${r.url}/submit`,
      {
        ProductName: 'Web Shop',
        Version: RELEASE,
        WebAppGUID: GUID,
        URL: thrown!.url,
        JSErrorType: thrown!.name,
        JSErrorMessage: thrown!.message,
        JSStack: thrown!.stack,
        JSMechanism: 'onerror',
        UserAgent: thrown!.userAgent,
      },
      [],
    );
    expect(submitted.status, submitted.body).toBe(200);
    const processed = await waitProcessed(r.url, submitted.crashId!);
    expect(processed.frames[0]!.original?.file).toMatch(/cart\.ts$/);

    // A person logs in and walks down from the app.
    await page.goto(`${r.url}/`);
    await page.type('input[name=token]', r.adminToken);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/apps/${GUID}"]`)]);
    const firstRow = await page.$eval('table.topcrashers tbody tr', (tr) => (tr as HTMLElement).innerText);
    expect(firstRow).toContain(processed.signature);
    expect(firstRow).toContain('NEW');
    await Promise.all([page.waitForNavigation(), page.click('table.topcrashers th.sig a')]);
    expect(await page.$eval('h1', (h) => h.textContent)).toBe(processed.signature);
    await Promise.all([page.waitForNavigation(), page.click('table.reports tbody a')]);
    expect(page.url()).toBe(`${r.url}/report/${submitted.crashId}`);

    const frames = await page.$eval('.frames', (el) => (el as HTMLElement).innerText);
    expect(frames).toMatch(new RegExp(`cart\\.ts:${shop.lines.reduce}:\\d+`));
    expect(frames).toMatch(new RegExp(`minified: .* @ http://127\\.0\\.0\\.1:\\d+/static/${shop.script.replace('.', '\\.')}:1:\\d+`));
    // The crashing app frame is shown open, with its line in its source.
    const hit = await page.$eval('.frames details[open] .context .hit', (el) => (el as HTMLElement).innerText);
    expect(hit).toContain('this.items!.reduce');
    expect(hit).toContain(String(shop.lines.reduce));
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-report.png'), fullPage: true });
  });
});
