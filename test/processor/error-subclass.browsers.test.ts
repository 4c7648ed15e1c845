// The demo's "Pay" bug: `throw new PaymentDeclinedError(...)`, a subclass of Error. Firefox's
// stack starts in the subclass's constructor (the `super(...)` line), V8's at the `new`. Thrown
// in real Firefox and Chromium from an esbuild build of the demo's own sources, symbolicated
// with its source map: one signature, and Firefox's constructor frame still on the report.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchFirefox } from '../helpers/browsers.ts';
import { REPO_ROOT, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { serveStatic } from './build-app.ts';
import { auth, waitProcessed } from './helpers.ts';

const GUID = '6d1f0c2b-3a4e-4f5a-8b9c-0d1e2f3a4b5c';
const RELEASE = '2.3.0';

async function payInPage(browser: Browser, pageUrl: string): Promise<{ name: string; message: string; stack: string; userAgent: string }> {
  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    await page.waitForFunction(() => Boolean((window as unknown as { pay?: unknown }).pay));
    return await page.evaluate(() => {
      try {
        (window as unknown as { pay: (amount: number) => unknown }).pay(42);
        throw new Error('pay did not fail');
      } catch (e) {
        const err = e as Error;
        return { name: err.name, message: err.message, stack: err.stack ?? '', userAgent: navigator.userAgent };
      }
    });
  } finally {
    await page.close();
  }
}

describe('a custom Error subclass thrown in Firefox and Chromium', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let receiver: TestReceiver;
  let site: Awaited<ReturnType<typeof serveStatic>>;
  let script: string;

  beforeAll(async () => {
    work = await tempDir('socorrito-pay-');
    const outDir = join(work.path, 'dist', 'static');
    await mkdir(outDir, { recursive: true });
    const entry = join(work.path, 'entry.js');
    await writeFile(entry, `import { pay } from ${JSON.stringify(join(REPO_ROOT, 'demo/src/payment.js'))};\nwindow.pay = pay;\n`);
    await build({ entryPoints: [entry], bundle: true, minify: true, sourcemap: 'external', format: 'iife', outfile: join(outDir, 'pay.js'), logLevel: 'silent' });
    script = await readFile(join(outDir, 'pay.js'), 'utf8');
    site = await serveStatic([outDir], { '/index.html': '<!doctype html><title>pay</title><script src="/static/pay.js"></script>' });
    receiver = await startTestReceiver();
    const form = new FormData();
    form.append('app', GUID);
    form.append('release', RELEASE);
    form.append('url', '~/static/pay.js');
    form.append('file', new Blob([script]), 'pay.js');
    form.append('url', '~/static/pay.js.map');
    form.append('file', new Blob([await readFile(join(outDir, 'pay.js.map'))]), 'pay.js.map');
    const res = await fetch(`${receiver.url}/api/sourcemaps`, { method: 'POST', body: form, headers: auth });
    expect(res.status, await res.clone().text()).toBe(200);
  });
  afterAll(async () => {
    await receiver?.stop();
    await site?.close();
    await work?.cleanup();
  });

  it('gives the same signature, skipping only for the signature the constructor frame Firefox adds', async () => {
    const processed = [];
    for (const launch of [launchFirefox, launchChromium]) {
      const browser = await launch();
      let thrown: Awaited<ReturnType<typeof payInPage>>;
      try {
        thrown = await payInPage(browser, `${site.url}/index.html`);
      } finally {
        await browser.close();
        await (browser as { cleanupProfile?: () => Promise<void> }).cleanupProfile?.();
      }
      const res = await submitCrash(
        `${receiver.url}/submit`,
        { ProductName: 'Demo', Version: RELEASE, WebAppGUID: GUID, JSErrorType: thrown.name, JSErrorMessage: thrown.message, JSStack: thrown.stack, UserAgent: thrown.userAgent },
        [],
      );
      expect(res.status, res.body).toBe(200);
      processed.push(await waitProcessed(receiver.url, res.crashId!));
    }
    const [firefox, chromium] = processed as [(typeof processed)[0], (typeof processed)[0]];
    // The real stacks differ: Firefox's innermost frame is the constructor's `super(...)` line.
    expect(firefox.frames[0]!.original).toMatchObject({ file: expect.stringMatching(/demo\/src\/errors\.js$/), line: 3, function: 'PaymentDeclinedError.constructor' });
    expect(firefox.frames[0]!.original!.context!.line).toContain('super(');
    expect(chromium.frames[0]!.original).toMatchObject({ file: expect.stringMatching(/demo\/src\/payment\.js$/), function: 'authorize' });
    expect(firefox.signature).toBe('PaymentDeclinedError: authorize | pay');
    expect(chromium.signature).toBe(firefox.signature);
    expect(firefox.signature_notes!.join('\n')).toMatch(/error-constructor-frames: skipped "PaymentDeclinedError.constructor"/);
  }, 120_000);
});
