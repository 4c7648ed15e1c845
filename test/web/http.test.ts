import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../receiver/src/app.ts';
import { REPORT_VALUE_CHARS } from '../../receiver/src/web/report-page.tsx';
import { Sessions } from '../../receiver/src/web/auth.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, appFrame, daysAgo, direct, makeCrash, signatureIdOf } from './crashes.ts';

const XSS = '<img src=x onerror=alert(1)>';
const BEARER = { authorization: 'Bearer test-admin-token' };

/** The cookies a response sets, as `name=value` pairs ready for a Cookie header. */
function cookiesOf(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

async function logIn(r: TestReceiver, next = '/'): Promise<{ cookie: string; csrf: string; response: Response }> {
  const form = await fetch(`${r.url}/login?next=${encodeURIComponent(next)}`);
  const html = await form.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const loginCookie = cookiesOf(form).socorrito_login!;
  const response = await fetch(`${r.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: r.url, cookie: `socorrito_login=${loginCookie}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: 'test-admin-token', csrf, next }),
  });
  const session = cookiesOf(response).socorrito_session;
  const cookie = `socorrito_session=${session}`;
  const page = await (await fetch(`${r.url}/`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '', response };
}

describe('report pages and API over HTTP', () => {
  let r: TestReceiver;
  let xssCrash: string;
  let signatureId: string;

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: 'TypeError: cart is undefined | total', at: daysAgo(i) });
    const p = await addCrash(direct(r), {
      signature: `Error: ${XSS} | render`,
      errorType: 'Error',
      errorMessage: XSS,
      urlPath: `/${XSS}`,
      frames: [appFrame(XSS, 'src/<b>cart</b>.ts', 12)],
      notes: [`no source map for ${XSS}`],
      annotations: { Custom: XSS },
      files: { upload_file_minidump: { filename: `${XSS}.dmp`, data: new Uint8Array([1, 2, 3]) } },
    });
    xssCrash = p.crash_id;
    signatureId = p.signature_id;
  });
  afterAll(() => r.stop());

  it('without a session, pages redirect to /login and the API answers 401 JSON', async () => {
    for (const path of ['/', `/apps/${APP_GUID}`, `/signatures/${signatureId}`, `/report/${xssCrash}`, '/search?q=x']) {
      const res = await fetch(r.url + path, { redirect: 'manual' });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    for (const path of ['/api/apps', `/api/apps/${APP_GUID}/topcrashers`, `/api/signatures/${signatureId}`, '/api/search', `/api/crashes/${xssCrash}`]) {
      const res = await fetch(r.url + path);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
    const wrong = await fetch(`${r.url}/`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const forged = await fetch(`${r.url}/`, { redirect: 'manual', headers: { cookie: 'socorrito_session=9999999999999.x.fakesig' } });
    expect(forged.status).toBe(302);
  });

  it('lets a session cookie in until it expires, and only when signed with the admin token', async () => {
    const sessions = new Sessions({ token: 'test-admin-token', sessionMs: 60_000 });
    const valid = await sessions.cookieFor(Date.now() + 60_000);
    const expired = await sessions.cookieFor(Date.now() - 1);
    const otherToken = await new Sessions({ token: 'another-token', sessionMs: 60_000 }).cookieFor(Date.now() + 60_000);
    const get = (cookie: string) => fetch(`${r.url}/api/apps`, { headers: { cookie } });
    expect((await get(valid)).status).toBe(200);
    expect((await get(expired)).status).toBe(401);
    expect((await get(otherToken)).status).toBe(401);
    // The expiry is inside the signed value: editing it breaks the signature.
    const [name, value] = valid.split('=');
    const edited = `${name}=${String(Date.now() + 10 ** 9)}${decodeURIComponent(value!).slice(13)}`;
    expect((await get(edited)).status).toBe(401);
  });

  it('reads no more than a small body on the login form and the API, and refuses a large one before inviting it', async () => {
    const big = 'a'.repeat(MAX_REQUEST_BODY_BYTES + 1);
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: r.url };
    const declared = await fetch(`${r.url}/login`, { method: 'POST', headers: form, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: 'too_large' });
    // Chunked, with no length declared: stopped while it streams in.
    const chunked = await fetch(`${r.url}/api/reprocess`, {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Expect: 100-continue: a huge upload declared to any endpoint is refused from its headers.
    for (const [path, length] of [['/login', MAX_REQUEST_BODY_BYTES + 1], ['/api/sourcemaps', 300 * 1024 ** 3]] as const) {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request(`${r.url}${path}`, { method: 'POST', headers: { expect: '100-continue', 'content-length': String(length), 'content-type': 'multipart/form-data; boundary=x' } });
        req.on('continue', () => resolve('continue'));
        req.on('response', (res) => resolve(`HTTP ${res.statusCode}`));
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(answer, path).toBe('HTTP 413');
    }
  });

  it('lets a session in beside an Authorization header of another scheme (a proxy\'s Basic auth)', async () => {
    const { cookie } = await logIn(r);
    const basic = { cookie, authorization: 'Basic Zm9vOmJhcg==' };
    expect((await fetch(`${r.url}/`, { headers: basic, redirect: 'manual' })).status).toBe(200);
    expect((await fetch(`${r.url}/api/apps`, { headers: basic })).status).toBe(200);
    // Without a session it is no way in; a wrong Bearer token is still refused.
    expect((await fetch(`${r.url}/api/apps`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).toBe(401);
    expect((await fetch(`${r.url}/api/apps`, { headers: { cookie, authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('accepts Bearer on pages and the API, and keeps /submit and health open', async () => {
    expect((await fetch(`${r.url}/`, { headers: BEARER })).status).toBe(200);
    expect((await fetch(`${r.url}/api/apps`, { headers: BEARER })).status).toBe(200);
    expect((await fetch(`${r.url}/__lbheartbeat__`)).status).toBe(200);
  });

  it('indexes a crash submitted over HTTP once the processor has processed it', async () => {
    const guid = 'e2e00000-0000-4000-8000-000000000001';
    const submitted = await submitCrash(`${r.url}/submit`, jsCrashFields({ WebAppGUID: guid, JSErrorMessage: 'submitted for the index' }), []);
    expect(submitted.status).toBe(200);
    const id = submitted.crashId!.slice('bp-'.length);
    // Poll until the background processor has been through it (no fixed sleep).
    let found: { items: { crash_id: string }[] } = { items: [] };
    for (let tries = 0; tries < 600 && found.items.length === 0; tries++) {
      // Until the crash is indexed, no crash names the app: search answers 404 for it.
      const res = await fetch(`${r.url}/api/search?app=${guid}`, { headers: BEARER });
      expect([200, 404]).toContain(res.status);
      if (res.status === 200) found = await res.json();
      else await res.body?.cancel();
      if (found.items.length === 0) await new Promise((done) => setTimeout(done, 50));
    }
    expect(found.items.map((c) => c.crash_id)).toEqual([id]);
    const top = await (await fetch(`${r.url}/api/apps/${guid}/topcrashers?days=1`, { headers: BEARER })).json();
    expect(top.total).toBe(1);
    const { processed } = await (await fetch(`${r.url}/api/crashes/${id}`, { headers: BEARER })).json();
    expect(top.rows[0].signature).toBe(processed.signature);
  });

  it('logs in through the form into a signed HttpOnly SameSite=Strict cookie, and out again', async () => {
    const { cookie, csrf, response } = await logIn(r, `/apps/${APP_GUID}?days=7`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/apps/${APP_GUID}?days=7`);
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('socorrito_session='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=604800/);
    const page = await fetch(`${r.url}/apps/${APP_GUID}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('TypeError: cart is undefined | total');
    expect((await fetch(`${r.url}/api/apps`, { headers: { cookie } })).status).toBe(200);

    // Log out needs the form's CSRF token and our own origin.
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      fetch(`${r.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body),
      });
    expect((await post({ origin: 'http://evil.example' }, { csrf })).status).toBe(403);
    expect((await post({ origin: r.url }, {})).status).toBe(403);
    const out = await post({ origin: r.url }, { csrf });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().join()).toMatch(/socorrito_session=;.*Max-Age=0/);
    // A copy of the cookie no longer lets anyone in, also after a restart (the list is on disk).
    expect((await fetch(`${r.url}/api/apps`, { headers: { cookie } })).status).toBe(401);
    const ended = JSON.parse(await readFile(join(r.dataDir, 'ended-sessions.json'), 'utf8')) as string[];
    expect(ended).toHaveLength(1);
  });

  it('refuses logins from other sites, without the form token, with a wrong token, and never redirects off-site', async () => {
    const form = await fetch(`${r.url}/login`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const cookie = `socorrito_login=${cookiesOf(form).socorrito_login}`;
    const post = (origin: string, body: Record<string, string>) =>
      fetch(`${r.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    expect((await post('http://evil.example', { token: 'test-admin-token', csrf })).status).toBe(403);
    expect((await post(r.url, { token: 'test-admin-token', csrf: 'guess' })).status).toBe(403);
    const wrong = await post(r.url, { token: 'wrong', csrf });
    expect(wrong.status).toBe(401);
    expect(cookiesOf(wrong).socorrito_session).toBeUndefined();
    // Browsers drop tabs and line breaks from a Location and read \ as /: each of these leaves the site.
    // (More cases in auth.test.ts; logins are limited to 10 a minute per address.)
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\t/evil.example']) {
      const res = await post(r.url, { token: 'test-admin-token', csrf, next });
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get('location'), JSON.stringify(next)).toBe('/');
    }
    const onSite = await post(r.url, { token: 'test-admin-token', csrf, next: '/search?q=a%20b#top' });
    expect(onSite.headers.get('location')).toBe('/search?q=a%20b#top');
  });

  it('sends a strict CSP and secure headers, and serves the stylesheet without a session', async () => {
    const res = await fetch(`${r.url}/`, { headers: BEARER });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const css = await fetch(`${r.url}/static/socorrito.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
    const html = await (await fetch(`${r.url}/apps/${APP_GUID}`, { headers: BEARER })).text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/ style=/);
  });

  it('escapes crash data on every page', async () => {
    const pages = [`/report/bp-${xssCrash}`, `/report/${xssCrash}`, `/signatures/${signatureId}`, `/search?q=${encodeURIComponent(XSS)}`, `/apps/${APP_GUID}`];
    for (const path of pages) {
      const res = await fetch(r.url + path, { headers: BEARER });
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html, path).not.toContain('<img');
      expect(html, path).not.toContain('<b>cart');
      expect(html, path).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });

  it('shows characters that reorder or hide text as [U+…] on pages, the login form included', async () => {
    const spoof = 'https://evil.example/\u202emoc.elgoog';
    const guid = 'spoof000-0000-4000-8000-000000000088';
    const crash = await addCrash(direct(r), { signature: 'spoof\u2066 sig', app: guid, errorMessage: `msg \u0000\u0007 ${spoof}`, annotations: { Link: spoof }, at: daysAgo(0) });
    for (const path of [`/report/${crash.crash_id}`, `/signatures/${crash.signature_id}`, `/apps/${guid}?version=${encodeURIComponent('1\u202e2')}`]) {
      const html = await (await fetch(r.url + path, { headers: BEARER })).text();
      expect(html, path).not.toMatch(/[\u0000\u0007\u202e\u2066]/);
    }
    const report = await (await fetch(`${r.url}/report/${crash.crash_id}`, { headers: BEARER })).text();
    expect(report).toContain('https://evil.example/[U+202E]moc.elgoog');
    expect(report).toContain('msg [U+0000][U+0007]');
    const hidden = await addCrash(direct(r), { signature: 'zero width', app: guid, errorMessage: 'goo\u200bgle \ufeffx \u2060y', at: daysAgo(0) });
    const zeroWidth = await (await fetch(`${r.url}/report/${hidden.crash_id}`, { headers: BEARER })).text();
    expect(zeroWidth).toContain('goo[U+200B]gle [U+FEFF]x [U+2060]y');
    const login = await (await fetch(`${r.url}/login?next=${encodeURIComponent('/search?q=\u202e')}`)).text();
    expect(login).not.toContain('\u202e');
  });

  it('keeps such characters in form values, so a filter chosen in a form finds what it shows', async () => {
    const guid = 'spoof000-0000-4000-8000-000000000089';
    const version = '2.0\u202e-beta';
    await addCrash(direct(r), { signature: 'bidi version', app: guid, version, at: daysAgo(0) });
    const html = await (await fetch(`${r.url}/apps/${guid}`, { headers: BEARER })).text();
    expect(html).not.toContain('\u202e');
    // The option shows [U+202E] and sends the character itself (the browser decodes the reference).
    expect(html).toContain('<option value="2.0&#x202e;-beta">2.0[U+202E]-beta (1)</option>');
    const filtered = await (await fetch(`${r.url}/api/apps/${guid}/topcrashers?version=${encodeURIComponent(version)}`, { headers: BEARER })).json();
    expect(filtered).toMatchObject({ total: 1 });
    const searched = await (await fetch(`${r.url}/search?q=${encodeURIComponent('x\u202ey')}`, { headers: BEARER })).text();
    expect(searched).toContain('value="x&#x202e;y"');
  });

  it('keeps pages small and their links working for an app or version named with a megabyte', async () => {
    const product = `P${'p'.repeat(600_000)}`;
    const crash = await addCrash(direct(r), { signature: 'huge names', app: null, product, version: '9'.repeat(100_000), mechanism: 'm'.repeat(50_000), at: daysAgo(0) });
    const home = await (await fetch(`${r.url}/`, { headers: BEARER })).text();
    const appLink = /href="(\/apps\/product%3AP[^"]*)"/.exec(home)?.[1];
    expect(appLink).toBeDefined();
    expect(home.length).toBeLessThan(100_000);
    const topCrashers = await fetch(r.url + appLink!.replace(/&amp;/g, '&'), { headers: BEARER });
    expect(topCrashers.status).toBe(200);
    const html = await topCrashers.text();
    expect(html.length).toBeLessThan(100_000);
    // Every link of the signature page (facets, search) answers, none is refused as too long.
    const signature = await (await fetch(`${r.url}/signatures/${crash.signature_id}`, { headers: BEARER })).text();
    const links = [...signature.matchAll(/href="(\/(?:signatures|search|apps)[^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect((await fetch(r.url + link, { headers: BEARER })).status, link.slice(0, 80)).toBe(200);
  });

  it('shows a report: message, frames with source and minified position, notes, annotations, files, links', async () => {
    const html = await (await fetch(`${r.url}/report/bp-${xssCrash}`, { headers: BEARER })).text();
    expect(html).toContain('src/&lt;b&gt;cart&lt;/b&gt;.ts:12:5');
    expect(html).toContain('return cart.total + shipping;');
    expect(html).toContain('minified: a @ https://shop.example/static/app.3f9a1c.js:1:1042');
    // The crashing frame's source, in a <details> shown open.
    expect(html).toContain('<details open="">');
    expect(html).toContain('no source map for &lt;img');
    expect(html).toContain(`href="/api/crashes/bp-${xssCrash}"`);
    expect(html).toContain(`href="/signatures/${signatureId}?app=${APP_GUID}"`);
    expect(html).toContain('>Custom<');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.dmp');
    const file = await fetch(`${r.url}/report/bp-${xssCrash}/files/upload_file_minidump`, { headers: BEARER });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([1, 2, 3]);
    expect((await fetch(`${r.url}/report/bp-${xssCrash}/files/..%2Fraw_crash.json`, { headers: BEARER })).status).toBe(400);
    expect((await fetch(`${r.url}/report/not-an-id`, { headers: BEARER })).status).toBe(400);
    // A signature address that cannot be one is a 400 saying so; one that could be, but is not, a 404.
    const badSignature = await fetch(`${r.url}/signatures/not-an-id`, { headers: BEARER });
    expect(badSignature.status).toBe(400);
    expect(await badSignature.text()).toContain('A signature ID is 16 letters');
    expect((await fetch(`${r.url}/api/signatures/..%2F..%2Fx`, { headers: BEARER })).status).toBe(400);
    expect((await fetch(`${r.url}/signatures/AAAAAAAAAAAAAAAA`, { headers: BEARER })).status).toBe(404);
    expect((await fetch(`${r.url}/report/bp-00000000-0000-0000-0000-000000261129`, { headers: BEARER })).status).toBe(404);
  });

  it('marks where a stack crosses an await, and shows V8\'s "async pay" as pay', async () => {
    const frame = (fn: string, async = false) => ({ function: fn, url: 'https://shop.example/app.js', line: 1, column: 5, category: 'app' as const, ...(async ? { async: true } : {}) });
    const p = await addCrash(direct(r), { signature: 'ApiError: submitOrder | pay', app: 'async-app', frames: [frame('submitOrder'), frame('async i.pay', true)] });
    const html = await (await fetch(`${r.url}/report/bp-${p.crash_id}`, { headers: BEARER })).text();
    const boundary = html.indexOf('class="async-boundary"');
    expect(boundary).toBeGreaterThan(html.indexOf('<strong>submitOrder</strong>'));
    expect(html.indexOf('<strong>i.pay</strong>')).toBeGreaterThan(boundary);
    expect(html.match(/class="async-boundary"/g)).toHaveLength(1);
  });

  it("opens the frame that threw a custom error, not the error class's constructor Firefox's stack starts in", async () => {
    const frame = (fn: string, line: number, code: string) => ({
      function: fn,
      url: 'https://shop.example/app.js',
      line: 1,
      column: line,
      category: 'app' as const,
      original: { file: 'src/api.ts', line, column: 5, function: fn, context: { pre: [], line: code, post: [] } },
    });
    const p = await addCrash(direct(r), {
      signature: 'ApiError: submitOrder',
      app: 'custom-error-app',
      errorType: 'ApiError',
      frames: [frame('ApiError.constructor', 6, 'super(message);'), frame('submitOrder', 18, 'throw new ApiError(402, `payment declined`);')],
    });
    const html = await (await fetch(`${r.url}/report/bp-${p.crash_id}`, { headers: BEARER })).text();
    // One frame is open: submitOrder's, the summary right after its <details>.
    expect(html.match(/<details open="">/g)).toHaveLength(1);
    expect(html.slice(html.indexOf('<details open="">')).indexOf('<strong>')).toBe(html.slice(html.indexOf('<details open="">')).indexOf('<strong>submitOrder</strong>'));
  });

  it("says when a crash happened by the browser's clock, apart from when it was received", async () => {
    const queued = await addCrash(direct(r), { signature: 'late', app: 'clock-app', at: daysAgo(0), annotations: { CrashTime: '1795983748' } });
    const html = await (await fetch(`${r.url}/report/bp-${queued.crash_id}`, { headers: BEARER })).text();
    expect(html).toContain(
      '<dt>Happened</dt><dd><time datetime="2026-11-29T20:22:28.000Z"><span>2026-11-29</span> <span>20:22 UTC</span></time> (the browser&#39;s clock)</dd>',
    );
    const garbled = await addCrash(direct(r), { signature: 'late', app: 'clock-app', at: daysAgo(0), annotations: { CrashTime: 'yesterday' } });
    expect(await (await fetch(`${r.url}/report/bp-${garbled.crash_id}`, { headers: BEARER })).text()).not.toContain('Happened');
  });

  it('finds a crash by its ID in any case, prefix included (BP-3C04…)', async () => {
    const upper = `BP-${xssCrash.toUpperCase()}`;
    const api = await fetch(`${r.url}/api/crashes/${upper}`, { headers: BEARER });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { raw: { crash_id: string } }).raw.crash_id).toBe(xssCrash);
    const page = await fetch(`${r.url}/report/${upper}`, { headers: BEARER });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`bp-${xssCrash}`);
    expect((await fetch(`${r.url}/report/${upper}/files/upload_file_minidump`, { headers: BEARER })).status).toBe(200);
  });

  it('answers the JSON API for apps, top crashers, signatures, search and crashes', async () => {
    const json = async (path: string, status = 200) => {
      const res = await fetch(r.url + path, { headers: BEARER });
      expect(res.status, path).toBe(status);
      return res.json();
    };
    const apps = await json('/api/apps');
    expect(apps.apps.find((a: { guid: string }) => a.guid === APP_GUID)).toMatchObject({
      guid: APP_GUID,
      product: 'Shop',
      count_24h: 2,
      count_7d: 4,
      total: 4,
    });
    const top = await json(`/api/apps/${APP_GUID}/topcrashers?days=28`);
    expect(top.period.days).toBe(28);
    expect(top.rows[0]).toMatchObject({ rank: 1, signature: 'TypeError: cart is undefined | total', count: 3, is_new: true });
    expect(top.rows[0].share).toBeCloseTo(0.75);
    const sig = await json(`/api/signatures/${signatureIdOf('TypeError: cart is undefined | total')}?days=7`);
    expect(sig).toMatchObject({ total: 3, count: 3 });
    expect(sig.facets.url_path).toEqual([{ value: '/cart', count: 3 }]);
    expect(sig.reports.items).toHaveLength(3);
    const search = await json(`/api/search?q=${encodeURIComponent('onerror=alert')}`);
    expect(search.total).toBe(1);
    expect(search.items[0].crash_id).toBe(xssCrash);
    expect(search.signatures[signatureId]).toBe(`Error: ${XSS} | render`);
    const crash = await json(`/api/crashes/bp-${xssCrash}`);
    expect(crash.processed.error_message).toBe(XSS);
    // A filter on a value no crash has is still shown as the filter, so sending the form keeps it.
    const noSuchApp = await (await fetch(`${r.url}/search?app=nope`, { headers: BEARER })).text();
    expect(noSuchApp).toMatch(/<option value="nope" selected[^>]*>nope<\/option>/);
    const noSuchVersion = await (await fetch(`${r.url}/apps/${APP_GUID}?version=9.9.9`, { headers: BEARER })).text();
    expect(noSuchVersion).toMatch(/<option value="9\.9\.9" selected[^>]*>9\.9\.9 \(0\)<\/option>/);
    // No filter at all: the newest crashes, as the API gives them.
    const everything = await (await fetch(`${r.url}/search`, { headers: BEARER })).text();
    expect(everything).toContain('<table class="reports"');
    expect(everything).toContain(xssCrash);
    const pastTheEnd = await (await fetch(`${r.url}/search?q=${encodeURIComponent('onerror=alert')}&page=7`, { headers: BEARER })).text();
    expect(pastTheEnd).toContain('Page 7 is past the last one (1).');
    expect(pastTheEnd).not.toContain('No crash matches');

    const bad = await json(`/api/apps/${APP_GUID}/topcrashers?days=5&limit=x&ignored=maybe`, 400);
    expect(bad.problems).toHaveLength(3);
    expect(bad.problems.join('\n')).toMatch(/ignored must be 0 or 1/);
    expect((await json('/api/search?from=yesterday', 400)).error).toBe('bad_query');
    // A misspelled or repeated parameter is refused, not ignored (the answer would be about everything).
    expect((await json('/api/search?signatur=x&page=1&page=2', 400)).problems).toEqual([
      expect.stringMatching(/^"signatur" is not a parameter here; it takes app, version, environment, signature/),
      'page is given 2 times',
    ]);
    expect((await json(`/api/apps/${APP_GUID}/topcrashers?day=7`, 400)).problems).toHaveLength(1);
    // Days and times that do not exist are refused (Date.parse would roll them over); no zone is UTC.
    for (const bad of ['2026-02-30', '2026-11-29T24:00:00Z', '2026-11-29T10:61']) expect((await json(`/api/search?from=${bad}`, 400)).problems, bad).toHaveLength(1);
    expect((await json('/api/search?from=2026-11-29T10:00')).query.from).toBe('2026-11-29T10:00:00.000Z');
    expect((await json('/api/apps/nope/topcrashers', 404)).error).toBe('not_found');
    expect((await json('/api/signatures/AAAAAAAAAAAAAAAA', 404)).error).toBe('not_found');
    expect((await json('/api/signatures/nope', 400)).error).toBe('bad_signature_id');
    // A wrong address: a page for a browser, JSON for a program.
    const page = await fetch(`${r.url}/no-such-page`, { headers: { ...BEARER, accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('There is no page at /no-such-page.');
    // `npm run firefox` pointed at a receiver without the demo.
    const demo = await fetch(`${r.url}/demo/`, { headers: { ...BEARER, accept: 'text/html' } });
    expect(await demo.text()).toContain('The demo app is off on this receiver: it runs with --demo (as npm start does).');
    expect((await json('/api/no-such-thing', 404)).error).toBe('not_found');
  });

  it("keeps the page's period in its links: top crashers' search and the signature's JSON count what the page counts", async () => {
    const page = async (path: string) => (await fetch(r.url + path, { headers: BEARER })).text();
    const link = (html: string, text: string) => {
      const m = new RegExp(`<a href="([^"]+)">${text}</a>`).exec(html);
      expect(m, text).not.toBeNull();
      return m![1]!.replaceAll('&amp;', '&');
    };
    // The app has 4 crashes, 2 of them today.
    const top = await page(`/apps/${APP_GUID}?days=1`);
    expect(top).toMatch(/<strong>2<\/strong> crashes from /);
    const searchLink = link(top, 'Search these crashes');
    expect(searchLink).toMatch(/[?&]from=\d{4}-\d{2}-\d{2}/);
    const found = (await (await fetch(`${r.url}/api${searchLink}`, { headers: BEARER })).json()) as { total: number };
    expect(found.total).toBe(2);

    const id = signatureIdOf('TypeError: cart is undefined | total');
    const sig = await page(`/signatures/${id}?days=1&app=${APP_GUID}`);
    expect(sig).toMatch(/Crashes in period<\/dt>\s*<dd>\s*<strong>1<\/strong>/);
    const json = (await (await fetch(r.url + link(sig, 'JSON'), { headers: BEARER })).json()) as { count: number; period: { days: number } };
    expect(json).toMatchObject({ count: 1, period: { days: 1 } });

    const none = await page(`/apps/${APP_GUID}?version=9.9.9`);
    expect(none).toContain('No crashes of version 9.9.9 in this period.');
  });

  it('renders bad page parameters as a 400 page, and a search form refilled with what was typed', async () => {
    const res = await fetch(`${r.url}/search?from=${encodeURIComponent(XSS)}`, { headers: BEARER });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('from must be an ISO date');
    expect(html).not.toContain('<img');
    expect((await fetch(`${r.url}/apps/${APP_GUID}?days=2`, { headers: BEARER })).status).toBe(400);
  });

  it('keeps a time in the search form\'s From and To (a date picker would drop it), and offers the picker for days', async () => {
    const timed = await (await fetch(`${r.url}/search?from=2026-11-29T12:45:00Z&to=2026-11-30`, { headers: BEARER })).text();
    expect(timed).toMatch(/<input type="text" name="from" value="2026-11-29T12:45:00Z"/);
    expect(timed).toMatch(/<input type="date" name="to" value="2026-11-30"/);
  });

  it('lists the top 50 signatures and offers the top 100', async () => {
    const guid = 'many0000-0000-4000-8000-000000000055';
    for (let i = 0; i < 55; i++) await addCrash(direct(r), { signature: `many ${i}`, app: guid, at: daysAgo(0) });
    const rows = (html: string): number => html.split('<tr>').length - 2; // minus the header row
    const top50 = await (await fetch(`${r.url}/apps/${guid}`, { headers: BEARER })).text();
    expect(rows(top50)).toBe(50);
    expect(top50).toContain('55 signatures; show top');
    expect(top50).toContain(`href="/apps/${guid}?days=7&amp;limit=100"`);
    const top100 = await (await fetch(`${r.url}/apps/${guid}?days=7&limit=100`, { headers: BEARER })).text();
    expect(rows(top100)).toBe(55);
    // With fewer signatures than any offered limit, a smaller limit still says there are more.
    const few = 'few00000-0000-4000-8000-000000000006';
    for (let i = 0; i < 6; i++) await addCrash(direct(r), { signature: `few ${i}`, app: few, at: daysAgo(0) });
    const top3 = await (await fetch(`${r.url}/apps/${few}?days=7&limit=3`, { headers: BEARER })).text();
    expect(rows(top3)).toBe(3);
    expect(top3).toContain('6 signatures; show top');
  });

  it('pages a signature\'s reports, newest first', async () => {
    const guid = 'page0000-0000-4000-8000-000000000055';
    for (let i = 0; i < 55; i++) await addCrash(direct(r), { signature: 'paged', app: guid, at: new Date(Date.now() - i * 60_000), errorMessage: `number ${i}` });
    const id = signatureIdOf('paged');
    const first = await (await fetch(`${r.url}/signatures/${id}`, { headers: BEARER })).text();
    expect(first).toContain('page 1 of 2');
    expect(first.indexOf('number 0<')).toBeLessThan(first.indexOf('number 49<'));
    expect(first).not.toContain('number 50<');
    expect(first).toContain(`href="/signatures/${id}?days=28&amp;page=2" rel="next"`);
    const second = await (await fetch(`${r.url}/signatures/${id}?days=28&page=2`, { headers: BEARER })).text();
    expect(second).toContain('page 2 of 2');
    expect(second).toContain('number 54<');
    expect(second).not.toContain('number 49<');
    const beyond = await (await fetch(`${r.url}/signatures/${id}?days=28&page=9`, { headers: BEARER })).text();
    expect(beyond).toContain('Page 9 is past the last one (2).');
    expect(beyond).not.toContain('No reports in this period');
  });

  it('links "(none)" where a filter picks it out (version, environment) and not elsewhere', async () => {
    const guid = 'none0000-0000-4000-8000-000000000077';
    await addCrash(direct(r), { signature: 'no version', app: guid, version: '', browser: null, at: daysAgo(0) });
    await addCrash(direct(r), { signature: 'no version', app: guid, version: '2.0', at: daysAgo(0) });
    const sig = await (await fetch(`${r.url}/signatures/${signatureIdOf('no version')}`, { headers: BEARER })).text();
    // The browser breakdown's "(none)" has no filter; the version breakdown's is `version=(none)`.
    expect(sig).toMatch(/<th scope="row" class="sig">\(none\)<\/th>/);
    expect(sig).toMatch(/<a href="[^"]*version=%28none%29[^"]*">\(none\)<\/a>/);
    expect(sig).toMatch(/<a href="[^"]*version=2\.0[^"]*">2\.0<\/a>/);
    const app = await (await fetch(`${r.url}/apps/${guid}`, { headers: BEARER })).text();
    expect(app).toContain('<option value="2.0">2.0 (1)</option>');
    expect(app).toContain('<option value="(none)">(none) (1)</option>');
  });

  it('finds the crashes of one page by url (exact, prefix, ID pattern) and of one OS, on the page and the API', async () => {
    const guid = 'urls0000-0000-4000-8000-000000000042';
    for (const urlPath of ['/products/1432', '/products/88', '/products/88', '/caf%C3%A9', '/checkout']) {
      await addCrash(direct(r), { signature: 'by page', app: guid, urlPath, os: urlPath === '/checkout' ? 'Windows' : 'Linux', at: daysAgo(0) });
    }
    const api = async (query: string, status = 200) => {
      const res = await fetch(`${r.url}/api/search?app=${guid}&${query}`, { headers: BEARER });
      expect(res.status, query).toBe(status);
      return res.json();
    };
    expect((await api('url=/checkout')).total).toBe(1);
    expect((await api('url=/products/*')).total).toBe(3);
    expect((await api('url=/products/8*')).total).toBe(2);
    expect((await api(`url=${encodeURIComponent('/products/<n>')}`)).total).toBe(3);
    // A prefix right after a placeholder: the * is not part of the segment.
    expect((await api(`url=${encodeURIComponent('/products/<n>*')}`)).total).toBe(3);
    // A pasted address counts by its path, percent-encoded as the browser sent it.
    const pasted = await api(`url=${encodeURIComponent('https://shop.example/café?step=2#top')}`);
    expect(pasted).toMatchObject({ total: 1, query: { url: '/caf%C3%A9' } });
    expect((await api('os=Windows')).total).toBe(1);
    expect((await api('os=windows')).total).toBe(1);
    expect((await api('os=Linux&url=/checkout')).total).toBe(0);
    expect((await api('url=%3Fstep%3D2&os=x&os=y', 400)).problems).toEqual(['os is given 2 times', 'url must be a page path such as /checkout, got "?step=2"']);
    expect((await api('path=/checkout', 400)).problems).toEqual([
      '"path" is not a parameter here; it takes app, version, environment, signature, q, browser, os, mechanism, url, from, to, page, after',
    ]);
    const page = await (await fetch(`${r.url}/search?app=${guid}&url=/products/*&os=Linux`, { headers: BEARER })).text();
    expect(page).toContain('<input name="url" value="/products/*"');
    expect(page).toContain('<input name="os" value="Linux"');
    expect(page).toMatch(/<strong>3<\/strong> crashes/);
  });

  it('links breakdown and facet values to the search for them, one row for a page with many IDs', async () => {
    const guid = 'urls0000-0000-4000-8000-000000000043';
    const long = `/${'a'.repeat(3000)}`; // the index keeps 200 characters of it
    // A page address that did not parse is kept as it came.
    for (const urlPath of ['/items/1432', '/items/88', '/items/88', '/basket', long, 'not a url']) {
      await addCrash(direct(r), { signature: 'linked facets', app: guid, urlPath, os: urlPath === '/basket' ? 'macOS' : urlPath === long || urlPath === 'not a url' ? 'Linux' : 'Android', at: daysAgo(0) });
    }
    const html = async (path: string) => (await fetch(r.url + path, { headers: BEARER })).text();
    const found = async (page: string, label: string): Promise<number> => {
      const link = new RegExp(`<a href="(/search\\?[^"]+)">${label}</a>`).exec(page)?.[1];
      expect(link, label).toBeDefined();
      return ((await (await fetch(`${r.url}/api${link!.replaceAll('&amp;', '&')}`, { headers: BEARER })).json()) as { total: number }).total;
    };
    const signature = await html(`/signatures/${signatureIdOf('linked facets')}?days=7`);
    expect(signature).not.toContain('>/items/88</a>'); // in the breakdown; the reports list each page as it was
    expect(await found(signature, '/items/&lt;n&gt;')).toBe(3);
    expect(await found(signature, '/basket')).toBe(1);
    expect(await found(signature, `/${'a'.repeat(199)}…`)).toBe(1); // the cut value searched as a prefix
    expect(await found(signature, 'not a url')).toBe(1);
    expect(await found(signature, 'Android')).toBe(3);
    const search = await html(`/search?app=${guid}`);
    expect(await found(search, '/items/&lt;n&gt;')).toBe(3);
    expect(await found(search, 'macOS')).toBe(1);
  });

  it('clips a long message in report lists, and shows it whole on the report page', async () => {
    const long = `${'é'.repeat(5000)} THE END`;
    const crash = await addCrash(direct(r), { signature: 'long message', at: daysAgo(0), errorMessage: long });
    const list = await (await fetch(`${r.url}/signatures/${signatureIdOf('long message')}`, { headers: BEARER })).text();
    expect(list).toContain(`${'é'.repeat(300)}…`);
    expect(list).not.toContain('THE END');
    const report = await (await fetch(`${r.url}/report/${crash.crash_id}`, { headers: BEARER })).text();
    expect(report).toContain(long);

    // Megabytes in one annotation: the report page shows the start, the raw JSON the whole.
    const huge = `${'x'.repeat(REPORT_VALUE_CHARS)}${'y'.repeat(80_000)}`;
    const big = await addCrash(direct(r), { signature: 'long message', at: daysAgo(0), errorMessage: huge, annotations: { Custom: huge } });
    const page = await (await fetch(`${r.url}/report/${big.crash_id}`, { headers: BEARER })).text();
    expect(page).not.toContain('y'.repeat(10));
    // The message, and the JSErrorMessage and Custom annotations.
    expect(page.match(/\(80,000 more characters in the raw JSON\)/g)).toHaveLength(3);
    const { raw } = (await (await fetch(`${r.url}/api/crashes/${big.crash_id}`, { headers: BEARER })).json()) as { raw: { annotations: Record<string, string> } };
    expect(raw.annotations.Custom).toBe(huge);
  });

  it('shows a crash that is not processed yet with its raw annotations', async () => {
    const { raw } = makeCrash({ signature: 'unused', errorMessage: 'waiting for the processor' });
    await direct(r).storage.saveRaw(raw, new Map());
    const html = await (await fetch(`${r.url}/report/${raw.crash_id}`, { headers: BEARER })).text();
    expect(html).toContain('Not processed yet');
    expect(html).toContain('waiting for the processor');
  });

  // Last: it spends this client's login attempts.
  it('slows down guessing: at most 10 login attempts a minute from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${r.url}/login`, {
        method: 'POST',
        headers: { origin: r.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: 'guess' }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(10);
  });
});

describe('behind a TLS-terminating proxy (--public-url https://…)', () => {
  it('accepts the public origin and marks cookies Secure', async () => {
    const r = await startTestReceiver({ publicUrl: 'https://crash.example' });
    try {
      const base = `http://127.0.0.1:${r.port}`;
      const form = await fetch(`${base}/login`);
      expect(form.headers.getSetCookie()[0]).toMatch(/; Secure/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const res = await fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: 'https://crash.example', cookie: `socorrito_login=${cookiesOf(form).socorrito_login}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: 'test-admin-token', csrf }),
      });
      expect(res.status).toBe(303);
      const session = res.headers.getSetCookie().find((c) => c.startsWith('socorrito_session='))!;
      expect(session).toMatch(/; Secure/);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000; includeSubDomains');
    } finally {
      await r.stop();
    }
  });
});
