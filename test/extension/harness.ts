/**
 * Shared pieces of the extension's end-to-end tests: a fresh build of the extension, the
 * fixture web app on a tiny local server, the extension's own page in the browser (to read its
 * storage and drive its options), and a way to read back what a receiver stored.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { launchFirefox } from '../helpers/browsers.ts';
// @ts-expect-error: the build script is plain JavaScript (run by node, no types)
import { buildExtension as buildExtensionJs } from '../../extension/build.mjs';
import type { RawCrash } from '../../receiver/src/storage/types.ts';
import { REPO_ROOT, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import type { TestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

export { waitFor };

export const FIXTURE_DIR = join(REPO_ROOT, 'test', 'fixtures', 'webapp');
export const RELEASE = '1.4.2';

const buildExtension = buildExtensionJs as (options?: { outDir?: string; minify?: boolean }) => Promise<string>;

/** Builds the extension into a temp folder of its own (test files run in parallel). */
export async function buildTempExtension(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const tmp = await tempDir('socorrito-ext-');
  const dir = await buildExtension({ outDir: join(tmp.path, 'dist') });
  return { dir, cleanup: tmp.cleanup };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export interface FixtureServer {
  url: string;
  /** Where pages declare reports go; change it between tests. */
  submitUrl: string;
  /** Every path and query asked for, in order (what the browser and the extension fetched). */
  requested: string[];
  close(): Promise<void>;
}

/**
 * Serves test/fixtures/webapp on 127.0.0.1:0, filling `{{SUBMIT_URL}}`, `{{GUID}}` (from the
 * request's `guid` parameter, so each test can be its own app) and `{{RELEASE}}`.
 */
export async function startFixtureServer(submitUrl: string): Promise<FixtureServer> {
  const state = { submitUrl };
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    requested.push(req.url ?? '');
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fixture.invalid');
      const name = normalize(url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
      if (name.startsWith('..') || name.includes('/')) {
        res.writeHead(404).end();
        return;
      }
      let body: string;
      try {
        body = await readFile(join(FIXTURE_DIR, name), 'utf8');
      } catch {
        res.writeHead(404).end('not found');
        return;
      }
      // A file fetched without its own ?guid= (a frame) takes the page's, from the Referer.
      const referer = req.headers.referer ? new URL(req.headers.referer) : null;
      const guid = url.searchParams.get('guid') ?? referer?.searchParams.get('guid') ?? 'a5f0c1de-0000-4000-8000-000000000000';
      body = body.replaceAll('{{SUBMIT_URL}}', state.submitUrl).replaceAll('{{GUID}}', guid).replaceAll('{{RELEASE}}', RELEASE);
      const headers: Record<string, string> = { 'content-type': TYPES[extname(name)] ?? 'text/plain', 'cache-control': 'no-store' };
      // ?csp=strict: the strictest usual policy (no inline script, no connections elsewhere).
      // ?cookie=1: the page sets a session cookie (for 127.0.0.1, any port) that must never be reported.
      if (url.searchParams.get('cookie') === '1') headers['set-cookie'] = 'sid=s3cret-session; Path=/; SameSite=Lax';
      if (url.searchParams.get('csp') === 'strict') headers['content-security-policy'] = "default-src 'self'; script-src 'self'; connect-src 'self'";
      res.writeHead(200, headers).end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get submitUrl() {
      return state.submitUrl;
    },
    set submitUrl(value: string) {
      state.submitUrl = value;
    },
    requested,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Every raw crash a receiver has stored. */
export async function storedCrashes(receiver: Pick<TestReceiver, 'storage'>): Promise<RawCrash[]> {
  const crashes: RawCrash[] = [];
  for await (const id of receiver.storage.listCrashIds()) {
    const raw = await receiver.storage.getRaw(id);
    if (raw) crashes.push(raw);
  }
  return crashes;
}

/** Crashes of one app (by WebAppGUID). */
export async function crashesOf(receiver: Pick<TestReceiver, 'storage'>, guid: string): Promise<RawCrash[]> {
  return (await storedCrashes(receiver)).filter((c) => c.annotations.WebAppGUID === guid);
}

/** Waits until the app has at least `count` crashes on the receiver and returns them. */
export function waitForCrashes(receiver: Pick<TestReceiver, 'storage'>, guid: string, count = 1, timeoutMs = 15_000): Promise<RawCrash[]> {
  return waitFor(`${count} crash(es) of app ${guid}`, async () => {
    const found = await crashesOf(receiver, guid);
    return found.length >= count ? found : undefined;
  }, timeoutMs);
}

/**
 * The extension's page that Firefox opened on install (the options page): WebDriver BiDi will
 * not navigate a tab to a moz-extension:// URL, but it can script a page the extension opened.
 */
export async function findExtensionPage(browser: Browser): Promise<Page> {
  return waitFor('the options page the extension opens on install', async () => {
    for (const page of await browser.pages()) {
      const href = await page.evaluate(() => location.href).catch(() => '');
      if (/^(moz|chrome)-extension:\/\//.test(href)) return page;
    }
    return undefined;
  });
}

/** Reads the extension's browser.storage.local through one of its pages. */
export async function extensionStorage<T = Record<string, unknown>>(extensionPage: Page, keys: string[] | null = null): Promise<T> {
  return (await extensionPage.evaluate(
    (k) => (globalThis as unknown as { browser: { storage: { local: { get(k: string[] | null): Promise<unknown> } } } }).browser.storage.local.get(k),
    keys,
  )) as T;
}

/** Opens one of the extension's pages (e.g. `popup.html`) in the given extension tab and waits for it to be ready. */
export async function showExtensionPage(extensionPage: Page, file: string): Promise<void> {
  await extensionPage.evaluate((f) => {
    // The old document must not pass for the new one while the navigation is under way.
    if (document.body) document.body.dataset.ready = 'leaving';
    location.href = new URL(f, location.href).href;
  }, file);
  await waitFor(`${file} to load`, () =>
    extensionPage.evaluate((f) => location.pathname.endsWith(f.split('?')[0]!) && document.body?.dataset.ready === 'true', file),
  );
}

/**
 * Clicks the element `selector` finds in an extension page, finding and clicking it in one step
 * (retried until it is there): the popup redraws its list whenever a report's state changes (a
 * delivery, a retry), which can detach an element between finding it and clicking it.
 */
export async function clickInExtensionPage(extensionPage: Page, selector: string): Promise<void> {
  await waitFor(`${selector} to click`, () =>
    extensionPage.evaluate((s) => {
      const element = document.querySelector<HTMLElement>(s);
      element?.click();
      return element !== null;
    }, selector),
  );
}

/**
 * Counts, in the page, the batches the hook hands on (the relay event is visible to the page
 * by design). Call before `goto`; then `waitForRelay` says the page's errors have left it.
 */
export async function countRelays(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __relays: number };
    w.__relays = 0;
    document.addEventListener('socorrito:errors', () => w.__relays++);
  });
}

export async function waitForRelay(page: Page, count = 1): Promise<void> {
  await page.waitForFunction((n) => (window as unknown as { __relays?: number }).__relays! >= n, {}, count);
}

/**
 * Registers a small server of pages written inline, each opened on a loopback host of its own:
 * every address of 127/8 is this machine, and one host per page is one site per page, so the
 * extension's per-site limits never mix the tests. `serve(path, html)` adds a page, `nextUrl(path)`
 * is its address on a host not used yet, and `port()` the server's port (once it listens).
 */
export function useInlinePages(): { serve: (path: string, html: string) => void; nextUrl: (path: string) => string; port: () => number } {
  let server: Server;
  let port = 0;
  const bodies = new Map<string, string>();
  let nextHost = 2;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  return {
    serve: (path, html) => void bodies.set(path, html),
    nextUrl: (path) => `http://127.0.0.${nextHost++}:${port}${path}`,
    port: () => port,
  };
}

/**
 * Registers inline pages (useInlinePages), each declaring a new app that reports to
 * `env.receiver`, and returns `openApp(script)`, which opens such a page running `script` on a
 * host of its own.
 */
export function useInlineApps(env: FirefoxExtensionEnv): (script: string) => Promise<{ page: Page; guid: string }> {
  const pages = useInlinePages();
  return async (script) => {
    const guid = newGuid();
    pages.serve(`/${guid}`, `<!doctype html><html><head><meta charset="utf-8">
<meta name="socorrito:guid" content="${guid}">
<meta name="socorrito:submit-url" content="${env.receiver.url}/submit">
<meta name="socorrito:release" content="1.0"></head><body><script>${script}</script></body></html>`);
    const page = await env.browser.newPage();
    await page.goto(pages.nextUrl(`/${guid}`));
    return { page, guid };
  };
}

/** A fresh app GUID per test, so apps (and their rate limits) never mix between tests. */
export function newGuid(): string {
  return crypto.randomUUID();
}

/** What a Firefox test file of the extension works with, set up once for the file. */
export interface FirefoxExtensionEnv {
  browser: Browser;
  /** A test may replace it (stop the receiver, start another on the same port). */
  receiver: TestReceiver;
  fixture: FixtureServer;
  /** The options page the extension opened on install, to read its storage and open its pages. */
  extensionPage: Page;
}

/**
 * Registers beforeAll/afterAll that build the extension, start a receiver and the fixture app,
 * and install the extension in one headless Firefox for the whole test file.
 */
export function useFirefoxWithExtension(): FirefoxExtensionEnv {
  const env = {} as FirefoxExtensionEnv;
  let cleanupBuild: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const build = await buildTempExtension();
    cleanupBuild = build.cleanup;
    env.receiver = await startTestReceiver();
    env.fixture = await startFixtureServer(`${env.receiver.url}/submit`);
    env.browser = await launchFirefox();
    await env.browser.installExtension(build.dir);
    env.extensionPage = await findExtensionPage(env.browser);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.fixture?.close();
    await env.receiver?.stop();
    await cleanupBuild?.();
  });
  return env;
}
