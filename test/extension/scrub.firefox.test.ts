/**
 * URL scrubbing end to end in real headless Firefox with the extension installed, against a real
 * receiver: a Java-style app whose page and script URLs carry `;jsessionid=` and whose error
 * message carries a percent-encoded URL and a one-word relative query. What Firefox writes into
 * the stack must reach the receiver without them, and still parse to the script, line and column.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGuid, useFirefoxWithExtension, waitFor, waitForCrashes } from './harness.ts';

const env = useFirefoxWithExtension();

const SESSION = '1A2B3C4D5E6F';
/** The script the page loads; `load` throws on line 2, at column 9 (`new Error`). */
const SCRIPT = [
  'function load() {',
  "  throw new Error('fetch failed for api?token=T0KEN and https%3A%2F%2Fidp.example%2Fcb%3Fkey%3DK3Y');",
  '}',
  'setTimeout(load, 0);',
].join('\n');

/** An inline script whose error names relative URLs with the session in their paths. */
const RELATIVE_SCRIPT = `setTimeout(() => { throw new Error('GET /cart;jsessionid=${SESSION} failed, then ./api;sid=${SESSION} and ../x;token=${SESSION}'); }, 0);`;

/** An inline script whose error names paths relative to the page, with no leading `/`. */
const BARE_SCRIPT = `setTimeout(() => { throw new Error('GET api/user;jsessionid=${SESSION} failed, then fetch("v2/cart;sid=${SESSION}")'); }, 0);`;

/** The page's declaration of the app, reporting to the test's receiver. */
function declaration(guid: string): string {
  return (
    `<meta name="socorrito:guid" content="${guid}">` +
    `<meta name="socorrito:submit-url" content="${env.receiver.url}/submit"><meta name="socorrito:release" content="2.0.0">`
  );
}

/**
 * A server that, like a Java servlet container without cookies, names the session in every path:
 * `/cart;jsessionid=…` and the script it loads, `/static/app.js;jsessionid=…`.
 */
let app: { server: Server; url: string };

beforeAll(async () => {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app.invalid');
    if (url.pathname === `/static/app.js;jsessionid=${SESSION}`) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(SCRIPT);
    } else if (url.pathname === `/orders;jsessionid=${SESSION}` || url.pathname === `/account;jsessionid=${SESSION}`) {
      // The app names its own relative URLs in its error, session ID and all.
      const script = url.pathname.startsWith('/orders') ? RELATIVE_SCRIPT : BARE_SCRIPT;
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(`<!doctype html><title>Java Shop</title>${declaration(url.searchParams.get('guid') ?? '')}<script>${script}</script>`);
    } else if (url.pathname === `/cart;jsessionid=${SESSION}`) {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(
          `<!doctype html><title>Java Shop</title>${declaration(url.searchParams.get('guid') ?? '')}` +
            `<script src="/static/app.js;jsessionid=${SESSION}"></script>`,
        );
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  app = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});

afterAll(async () => {
  app?.server.closeAllConnections();
  await new Promise<void>((resolve) => (app ? app.server.close(() => resolve()) : resolve()));
});

describe('URL scrubbing in Firefox', () => {
  it('reports a jsessionid app without its session ID, encoded query or one-word query, and the stack still parses', async () => {
    const guid = newGuid();
    const page = await env.browser.newPage();
    await page.goto(`${app.url}/cart;jsessionid=${SESSION}?guid=${guid}`);
    const [crash] = await waitForCrashes(env.receiver, guid);
    await page.close();
    const a = crash!.annotations;
    expect(JSON.stringify(a)).not.toContain(SESSION);
    expect(JSON.stringify(a)).not.toContain('T0KEN');
    expect(JSON.stringify(a)).not.toContain('K3Y');
    expect(a.URL).toBe(`${app.url}/cart`);
    expect(a.JSFilename).toBe(`${app.url}/static/app.js`);
    expect(a.JSErrorMessage).toBe('fetch failed for api and https%3A%2F%2Fidp.example%2Fcb');
    // Firefox's own frame, with the parameter gone and its line and column kept.
    expect(a.JSStack).toMatch(new RegExp(`(^|\\n)load@${app.url.replaceAll('.', '\\.')}/static/app\\.js:2:9\\n`));

    // The receiver reads the frame as the script, line and column Firefox gave.
    const processed = await waitFor('the crash processed', async () => {
      const response = await fetch(`${env.receiver.url}/api/crashes/${crash!.crash_id}`, { headers: { authorization: 'Bearer test-admin-token' } });
      const body = (await response.json()) as { processed: { frames: { function: string | null; url: string | null; line: number | null; column: number | null }[] } | null };
      return body.processed ?? undefined;
    });
    expect(processed.frames[0]).toMatchObject({ function: 'load', url: `${app.url}/static/app.js`, line: 2, column: 9 });
  });

  it('reports relative URLs in the message without their path parameters', async () => {
    const guid = newGuid();
    const page = await env.browser.newPage();
    await page.goto(`${app.url}/orders;jsessionid=${SESSION}?guid=${guid}`);
    const [crash] = await waitForCrashes(env.receiver, guid);
    await page.close();
    const a = crash!.annotations;
    expect(JSON.stringify(a)).not.toContain(SESSION);
    expect(a.JSErrorMessage).toBe('GET /cart failed, then ./api and ../x');
    expect(a.URL).toBe(`${app.url}/orders`);
  });

  it('reports paths relative to the page, with no leading /, without their path parameters', async () => {
    const guid = newGuid();
    const page = await env.browser.newPage();
    await page.goto(`${app.url}/account;jsessionid=${SESSION}?guid=${guid}`);
    const [crash] = await waitForCrashes(env.receiver, guid);
    await page.close();
    const a = crash!.annotations;
    expect(JSON.stringify(a)).not.toContain(SESSION);
    expect(a.JSErrorMessage).toBe('GET api/user failed, then fetch("v2/cart")');
    expect(a.URL).toBe(`${app.url}/account`);
  });
});
