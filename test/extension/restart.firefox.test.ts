/**
 * Nothing lost across a restart of the extension in real Firefox: a report queued while the
 * receiver is down is still in browser.storage.local when the extension's background starts
 * again (here: the add-on reloads itself, as on a browser restart or an update), and it is
 * delivered once a receiver listens on the port again.
 */
import { createServer } from 'node:net';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { type FixtureServer, buildTempExtension, extensionStorage, findExtensionPage, newGuid, startFixtureServer, waitFor, waitForCrashes } from './harness.ts';

let browser: Browser;
let fixture: FixtureServer;
let receiver: TestReceiver | undefined;
let cleanupBuild: () => Promise<void>;
let port: number;

beforeAll(async () => {
  const build = await buildTempExtension();
  cleanupBuild = build.cleanup;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  fixture = await startFixtureServer(`http://127.0.0.1:${port}/submit`);
  browser = await launchFirefox();
  await browser.installExtension(build.dir);
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

describe('a restart of the extension', () => {
  it('keeps the queue in storage and delivers it after the background starts again', async () => {
    const extensionPage = await findExtensionPage(browser);
    const guid = newGuid();
    const page = await browser.newPage();
    await page.goto(`${fixture.url}/index.html?case=module&guid=${guid}`);
    await waitFor('the report to be queued after a failed attempt', async () => {
      const { reports } = await extensionStorage<{ reports?: { status: string; attempts: number }[] }>(extensionPage, ['reports']);
      return reports?.[0]?.status === 'queued' && reports[0].attempts === 1;
    });

    // The add-on reloads: its background and pages end, its storage stays.
    await extensionPage.evaluate(() => {
      (globalThis as unknown as { browser: { runtime: { reload(): void } } }).browser.runtime.reload();
    });
    // Proof that it did: the extension's pages closed with it.
    await waitFor('the extension page to close with the reload', async () =>
      extensionPage.isClosed() || (await extensionPage.evaluate(() => location.href).catch(() => 'gone')) === 'gone',
    );
    receiver = await startTestReceiver({ port });
    const [crash] = await waitForCrashes(receiver, guid, 1, 45_000);
    expect(crash!.annotations.JSErrorType).toBe('TypeError');
    expect(crash!.annotations.JSStack).toMatch(/applyCoupon@http:\/\/127\.0\.0\.1:\d+\/module\.js:\d+:\d+/);
    await page.close();
  });
});
