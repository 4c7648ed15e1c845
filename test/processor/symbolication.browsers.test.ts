// The end-to-end check of issue 3: the same bug thrown from two builds of a small multi-file
// app (minified, content-hashed, different minified names) in real Firefox and real Chromium,
// submitted, its maps uploaded late with the CLI and the crashes reprocessed with the CLI:
// one signature, frames pointing at the original files and lines, with context.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessedCrash } from '../../receiver/src/storage/types.ts';
import { launchChromium, launchFirefox } from '../helpers/browsers.ts';
import { CLI, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { buildShop, serveStatic, type ShopBuild } from './build-app.ts';
import { TOKEN, waitProcessed } from './helpers.ts';

const run = promisify(execFile);
const GUID = '0b8e6f4e-5c1d-4a3b-9e2f-7d6c5b4a3f21';
const RELEASES = { a: '1.0.0', b: '1.1.0' } as const;

interface Thrown {
  name: string;
  message: string;
  stack: string;
  userAgent: string;
  url: string;
}

async function throwInPage(browser: Browser, pageUrl: string): Promise<Thrown> {
  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    await page.waitForFunction(() => Boolean((window as unknown as { shop?: unknown }).shop));
    return await page.evaluate(() => {
      try {
        (window as unknown as { shop: { onClick: () => string } }).shop.onClick();
        throw new Error('the shop did not fail');
      } catch (e) {
        const err = e as Error;
        return { name: err.name, message: err.message, stack: err.stack ?? '', userAgent: navigator.userAgent, url: location.href };
      }
    });
  } finally {
    await page.close();
  }
}

describe('symbolication and signatures across builds and browsers', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let receiver: TestReceiver;
  let site: Awaited<ReturnType<typeof serveStatic>>;
  const builds = {} as Record<'a' | 'b', ShopBuild>;

  beforeAll(async () => {
    work = await tempDir('socorrito-shop-');
    builds.a = await buildShop(work.path, 'a');
    builds.b = await buildShop(work.path, 'b');
    const page = (script: string): string => `<!doctype html><title>shop</title><script src="/static/${script}"></script>`;
    site = await serveStatic([builds.a.outDir, builds.b.outDir], { '/a.html': page(builds.a.script), '/b.html': page(builds.b.script) });
    receiver = await startTestReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
    await site?.close();
    await work?.cleanup();
  });

  it('gives one signature to the same bug from two builds in Firefox and Chromium, with original files, lines and context', async () => {
    expect(builds.a.script).not.toBe(builds.b.script);
    expect(builds.a.lines.reduce).not.toBe(builds.b.lines.reduce);

    const thrown: { build: 'a' | 'b'; browser: string; error: Thrown }[] = [];
    for (const [name, launch] of [['firefox', launchFirefox], ['chromium', launchChromium]] as const) {
      const browser = await launch();
      try {
        for (const build of ['a', 'b'] as const) thrown.push({ build, browser: name, error: await throwInPage(browser, `${site.url}/${build}.html`) });
      } finally {
        await browser.close();
        await (browser as { cleanupProfile?: () => Promise<void> }).cleanupProfile?.();
      }
    }
    // Real stacks in each engine's own format, and differently worded messages.
    const firefox = thrown.find((t) => t.browser === 'firefox')!.error;
    const chromium = thrown.find((t) => t.browser === 'chromium')!.error;
    expect(firefox.stack).toMatch(/^total@http:\/\/127\.0\.0\.1:\d+\/static\/main\.\w+\.js:1:\d+$/m);
    expect(chromium.stack).toMatch(/^\s+at \w+\.total \(http:\/\/127\.0\.0\.1:\d+\/static\/main\.\w+\.js:1:\d+\)$/m);
    expect(firefox.message).not.toBe(chromium.message);

    // With no usable frame, the two browsers' wordings still make one fallback signature.
    const fallback = new Set<string>();
    for (const error of [firefox, chromium]) {
      const res = await submitCrash(`${receiver.url}/submit`, { ProductName: 'Shop', JSErrorType: error.name, JSErrorMessage: error.message }, []);
      fallback.add((await waitProcessed(receiver.url, res.crashId!)).signature);
    }
    expect([...fallback]).toEqual(['TypeError: Cannot read properties of undefined (reading reduce)']);

    const crashes: { build: 'a' | 'b'; browser: string; id: string }[] = [];
    for (const t of thrown) {
      const res = await submitCrash(
        `${receiver.url}/submit`,
        {
          ProductName: 'Shop',
          Version: RELEASES[t.build],
          WebAppGUID: GUID,
          URL: t.error.url,
          JSErrorType: t.error.name,
          JSErrorMessage: t.error.message,
          JSStack: t.error.stack,
          JSMechanism: 'manual',
          UserAgent: t.error.userAgent,
        },
        [],
      );
      expect(res.status, res.body).toBe(200);
      crashes.push({ build: t.build, browser: t.browser, id: res.crashId! });
    }

    // Processed before any map exists: frames stay minified and say why.
    const before: ProcessedCrash[] = [];
    for (const c of crashes) before.push(await waitProcessed(receiver.url, c.id));
    for (const p of before) {
      expect(p.frames[0]!.original).toBeUndefined();
      expect(p.frames[0]!.notes?.join(' ')).toMatch(/no source map for ~\/static\/main\.\w+\.js in release 1\.[01]\.0/);
    }

    // Maps uploaded late, with the CLI, then the crashes reprocessed with the CLI.
    const env = { ...process.env, SOCORRITO_TOKEN: TOKEN };
    for (const build of ['a', 'b'] as const) {
      const { stdout } = await run(
        process.execPath,
        [CLI, 'upload-sourcemaps', '--url', receiver.url, '--app', GUID, '--release', RELEASES[build], '--url-prefix', '~/static/', builds[build].outDir],
        { env },
      );
      expect(stdout).toContain(`matched  ~/static/${builds[build].script} -> ~/static/${builds[build].script}.map`);
      expect(stdout).toMatch(/uploaded 2 files to app/);
    }
    const { stdout: reprocessed } = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--app', GUID], { env });
    expect(reprocessed).toContain('queued 4 crashes');

    const after = new Map<string, ProcessedCrash>();
    for (const [i, c] of crashes.entries()) after.set(c.id, await waitProcessed(receiver.url, c.id, 30_000, before[i]!.processed_at));

    const signatures = new Set([...after.values()].map((p) => p.signature));
    expect([...signatures]).toEqual(['TypeError: Cart.total | checkout | onClick']);
    expect(new Set([...after.values()].map((p) => p.signature_id)).size).toBe(1);

    for (const c of crashes) {
      const p = after.get(c.id)!;
      const lines = builds[c.build].lines;
      const [total, checkout, onClick] = p.frames;
      expect(p.browser?.name).toBe(c.browser === 'firefox' ? 'Firefox' : 'Chrome');
      expect(p.version).toBe(RELEASES[c.build]);
      expect(total!.line).toBe(1);
      expect(total!.category).toBe('app');
      expect(total!.original).toMatchObject({ line: lines.reduce, function: 'Cart.total' });
      expect(total!.original!.file).toMatch(new RegExp(`src-${c.build}/cart\\.ts$`));
      expect(total!.original!.context!.line).toContain('this.items!.reduce');
      expect(total!.original!.context!.pre).toHaveLength(5);
      expect(total!.original!.context!.post.length).toBeGreaterThan(0);
      expect(checkout!.original).toMatchObject({ line: lines.callTotal, function: 'checkout' });
      expect(checkout!.original!.file).toMatch(/checkout\.ts$/);
      expect(onClick!.original).toMatchObject({ line: lines.callCheckout, function: 'onClick' });
      expect(onClick!.original!.file).toMatch(/main\.ts$/);
      expect(p.notes.join(' ')).toMatch(/symbolicated [3-9] of \d+ frames/);
    }
  }, 180_000);
});
