/**
 * A declared receiver that accepts the connection and never answers, in real Firefox. Firefox
 * suspends an idle event page (30 s by default) even while a fetch waits; an attempt must end well
 * before that, the alarm must be set before it (so a suspended background is woken to go on), and
 * other apps' reports must not wait behind it. A 5 s idle time here makes the suspension certain.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firefoxPath } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { buildTempExtension, findExtensionPage, newGuid, waitForCrashes } from './harness.ts';

let browser: Browser;
let receiver: TestReceiver;
let hang: Server;
let pages: HttpServer;
const sockets = new Set<Socket>();
let cleanupBuild: () => Promise<void>;

beforeAll(async () => {
  const build = await buildTempExtension();
  cleanupBuild = build.cleanup;
  receiver = await startTestReceiver();
  hang = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.resume();
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  pages = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const submit = url.searchParams.get('submit')!;
    const guid = url.searchParams.get('guid')!;
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><meta charset="utf-8">
<meta name="socorrito:guid" content="${guid}"><meta name="socorrito:submit-url" content="${submit}"><meta name="socorrito:release" content="1.0">
<script>setTimeout(() => { throw new Error('${url.searchParams.get('msg')}'); }, 10);</script>`);
  });
  await new Promise<void>((r) => pages.listen(0, '0.0.0.0', r));
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath(),
    headless: true,
    extraPrefsFirefox: { 'extensions.background.idle.timeout': 5_000 },
  });
  await browser.installExtension(build.dir);
  await findExtensionPage(browser);
});

afterAll(async () => {
  await browser?.close();
  for (const s of sockets) s.destroy();
  hang?.close();
  pages?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

describe('a receiver that never answers', () => {
  it("does not stop the delivery of other apps' reports", async () => {
    const pagePort = (pages.address() as AddressInfo).port;
    const hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/submit`;
    const first = await browser.newPage();
    await first.goto(`http://127.0.0.2:${pagePort}/?guid=${newGuid()}&msg=to+a+receiver+that+hangs&submit=${encodeURIComponent(hangUrl)}`);
    await new Promise((r) => setTimeout(r, 3_000)); // its attempt has started and hangs
    const guid = newGuid();
    const second = await browser.newPage();
    await second.goto(`http://127.0.0.3:${pagePort}/?guid=${guid}&msg=to+a+healthy+receiver&submit=${encodeURIComponent(`${receiver.url}/submit`)}`);
    // Beside the hanging attempt, not after it.
    const crashes = await waitForCrashes(receiver, guid, 1, 20_000);
    expect(crashes).toHaveLength(1);
  }, 120_000);

  it('goes on trying it after Firefox suspends the background during an attempt', async () => {
    let connections = 0;
    const quiet = createServer((s) => {
      connections++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.resume();
    });
    await new Promise<void>((r) => quiet.listen(0, '127.0.0.1', r));
    try {
      const pagePort = (pages.address() as AddressInfo).port;
      const quietUrl = `http://127.0.0.1:${(quiet.address() as AddressInfo).port}/submit`;
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.4:${pagePort}/?guid=${newGuid()}&msg=while+suspended&submit=${encodeURIComponent(quietUrl)}`);
      // The background is suspended 5 s into the first attempt; only the alarm set before it
      // wakes it (nothing else happens meanwhile), and the attempt is made again.
      const deadline = Date.now() + 45_000;
      while (connections < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(connections).toBeGreaterThanOrEqual(2);
    } finally {
      quiet.close();
    }
  }, 60_000);
});
