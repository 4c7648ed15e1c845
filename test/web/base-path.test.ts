// A receiver served under a path (`--public-url https://tools.example.com/crashes/`) still
// listens at `/`, where a proxy that strips the path sends requests; it takes requests that
// still carry the path too (a proxy that passes it on, or someone browsing to it directly).
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reprocessCommand } from '../../receiver/src/cli/reprocess.ts';
import { uploadSourcemapsCommand } from '../../receiver/src/cli/upload-sourcemaps.ts';
import { DEMO_GUID } from '../../receiver/src/demo/build.ts';
import { type PathProxy, startPathProxy } from '../helpers/proxy.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

const AUTH = { authorization: 'Bearer test-admin-token' };

describe('a receiver whose public URL has a path', () => {
  let r: TestReceiver;
  beforeAll(async () => {
    r = await startTestReceiver({ publicUrl: 'https://tools.example.com/crashes' });
  });
  afterAll(() => r.stop());

  it('takes requests with the path and without it', async () => {
    for (const path of ['/__lbheartbeat__', '/crashes/__lbheartbeat__']) expect((await fetch(`${r.localUrl}${path}`)).status, path).toBe(200);
    for (const path of ['/api/apps', '/crashes/api/apps', '/crashes/api/apps?page=1']) {
      expect((await fetch(`${r.localUrl}${path}`, { headers: AUTH })).status, path).toBe(200);
    }
    // Only at a segment boundary: /crashesx is not under /crashes.
    expect((await fetch(`${r.localUrl}/crashesx/__lbheartbeat__`, { headers: AUTH })).status).toBe(404);
    // A page that does not exist is named as the browser asked for it, under the path.
    const missing = await fetch(`${r.localUrl}/crashes/no-such-page`, { headers: { ...AUTH, accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('There is no page at /crashes/no-such-page.');
    // The host is shared with whatever else the proxy serves: HSTS binds it, not its subdomains.
    expect(missing.headers.get('strict-transport-security')).toBe('max-age=15552000');
  });

  it('takes submissions under the path, from the fast path and through Expect: 100-continue, in either request form', async () => {
    for (const url of [`${r.localUrl}/crashes/submit`, `${r.localUrl}/crashes/submit/`, `${r.localUrl}/submit`]) {
      const res = await submitCrash(url, jsCrashFields(), []);
      expect(res.crashId, `${url}: ${res.body}`).toMatch(/^bp-/);
    }
    // Refused on its headers before the body is invited, as at /submit.
    const early = await new Promise<number>((resolve, reject) => {
      const req = request(`${r.localUrl}/crashes/submit`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '100', expect: '100-continue' } });
      req.on('continue', () => reject(new Error('the body was invited')));
      req.on('response', (res) => (res.resume(), resolve(res.statusCode!)));
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(early).toBe(415);
    // The absolute form a forward proxy sends: `POST http://host/crashes/submit`.
    const body = 'a'.repeat(10);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(r.port, '127.0.0.1', () =>
        socket.write(`POST http://127.0.0.1:${r.port}/crashes/submit HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
      );
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    // The collector judged it (415: not multipart), rather than the router (404).
    expect(answer).toMatch(/^HTTP\/1\.1 415/);
  });
});

describe('a public URL path that begins like one of the receiver\'s own', () => {
  let r: TestReceiver;
  beforeAll(async () => {
    r = await startTestReceiver({ publicUrl: 'https://tools.example.com/api' });
  });
  afterAll(() => r.stop());

  it('is not taken off requests (it could not be told from /api/…), and the log says the proxy must strip it', async () => {
    expect(r.logs.join('\n')).toContain("public URL: its path /api begins like the receiver's own /api/");
    expect((await fetch(`${r.localUrl}/api/apps`, { headers: AUTH })).status).toBe(200);
    expect((await fetch(`${r.localUrl}/api/__lbheartbeat__`, { headers: AUTH })).status).toBe(404);
  });
});

/** A receiver at `/crashes/` behind a proxy that strips the path, as nginx's `proxy_pass http://…/;` does. */
async function behindProxy(config: Parameters<typeof startTestReceiver>[0] = {}): Promise<{ proxy: PathProxy; r: TestReceiver; base: string }> {
  const proxy = await startPathProxy({ prefix: '/crashes', strip: true });
  const r = await startTestReceiver({ ...config, publicUrl: `${proxy.origin}/crashes` });
  proxy.forwardTo(r.port);
  return { proxy, r, base: `${proxy.origin}/crashes` };
}

/** One request, redirects not followed; `Set-Cookie` headers by cookie name. */
async function send(url: string, init: RequestInit = {}): Promise<{ status: number; location: string | null; cookies: Record<string, string>; body: string }> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  const cookies = Object.fromEntries(res.headers.getSetCookie().map((c) => [c.split('=')[0]!, c]));
  return { status: res.status, location: res.headers.get('location'), cookies, body: await res.text() };
}

describe('redirects and cookies behind a proxy at /crashes/', () => {
  let proxy: PathProxy;
  let r: TestReceiver;
  let base: string;
  beforeAll(async () => ({ proxy, r, base } = await behindProxy()));
  afterAll(async () => {
    await r.stop();
    await proxy.close();
  });

  it('sends to the login form under the path, scopes its cookies to the path, and redirects back under it', async () => {
    const guarded = await send(`${base}/apps/x?days=7`);
    expect(guarded.status).toBe(302);
    expect(guarded.location).toBe('/crashes/login?next=%2Fapps%2Fx%3Fdays%3D7');
    expect(JSON.parse((await send(`${base}/api/apps`)).body).message).toContain('log in at /crashes/login');

    const form = await send(`${base}${guarded.location!.slice('/crashes'.length)}`);
    expect(form.status).toBe(200);
    expect(form.cookies.socorrito_login).toMatch(/; Path=\/crashes\/login(;|$)/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const next = /name="next" value="([^"]+)"/.exec(form.body)![1]!;
    expect(next).toBe('/apps/x?days=7');

    // The browser's Origin is the proxy's: --public-url's origin, so the form is accepted.
    const login = await send(`${base}/login`, {
      method: 'POST',
      headers: { origin: proxy.origin, cookie: form.cookies.socorrito_login!.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'test-admin-token', csrf, next }).toString(),
    });
    expect(login.status, login.body).toBe(303);
    expect(login.location).toBe('/crashes/apps/x?days=7');
    expect(login.cookies.socorrito_session).toMatch(/; Path=\/crashes(;|$)/);
    expect(login.cookies.socorrito_login).toMatch(/Max-Age=0; Path=\/crashes\/login(;|$)/);
    const session = login.cookies.socorrito_session!.split(';')[0]!;

    const again = await send(`${base}/login?next=%2Fsearch`, { headers: { cookie: session } });
    expect([again.status, again.location]).toEqual([303, '/crashes/search']);

    const page = await send(`${base}/search`, { headers: { cookie: session } });
    const logoutCsrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const out = await send(`${base}/logout`, {
      method: 'POST',
      headers: { origin: proxy.origin, cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: logoutCsrf }).toString(),
    });
    expect([out.status, out.location]).toEqual([303, '/crashes/login']);
    expect(out.cookies.socorrito_session).toMatch(/Max-Age=0; Path=\/crashes(;|$)/);
    expect(proxy.outside).toEqual([]);
  });
});

describe('the demo behind a proxy at /crashes/', () => {
  let proxy: PathProxy;
  let r: TestReceiver;
  let base: string;
  beforeAll(async () => ({ proxy, r, base } = await behindProxy({ demo: true })));
  afterAll(async () => {
    await r.stop();
    await proxy.close();
  });

  it('names the receiver and its submit URL under the path, and its scripts\' maps are uploaded under it', async () => {
    const bare = await send(`${base}/demo`);
    expect([bare.status, bare.location]).toEqual([302, '/crashes/demo/']);
    const html = (await send(`${base}/demo/`)).body;
    expect(html).toContain(`<meta name="socorrito:submit-url" content="${base}/submit">`);
    expect(html).toContain(`<a href="${base}/">this receiver</a>`);
    const script = /<script type="module" src="(assets\/main-[^"]+\.js)"><\/script>/.exec(html)![1]!;
    expect((await send(`${base}/demo/${script}`)).status).toBe(200);
    const { releases } = JSON.parse((await send(`${base}/api/sourcemaps?app=${DEMO_GUID}`, { headers: AUTH })).body) as { releases: { files: { key: string }[] }[] };
    // Under the path, as the browser loads them through the proxy, and without, as from the receiver itself.
    expect(releases[0]!.files.map((f) => f.key)).toEqual(expect.arrayContaining([`~/crashes/demo/${script}`, `~/demo/${script}`]));
    expect(proxy.outside).toEqual([]);
  });

  it('takes upload-sourcemaps and reprocess given the public URL with its path', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: { SOCORRITO_TOKEN: 'test-admin-token' } };
    const assets = join(r.dataDir, 'demo-build', 'assets');
    expect(await uploadSourcemapsCommand(['--url', `${base}/`, '--app', DEMO_GUID, '--release', 'behind-proxy', '--url-prefix', '~/crashes/demo/assets/', assets], io), lines.join('\n')).toBe(0);
    expect(lines.at(-1)).toMatch(/^uploaded 4 files to app/);
    expect((await submitCrash(`${base}/submit`, jsCrashFields({ WebAppGUID: DEMO_GUID, Version: 'behind-proxy' }), [])).status).toBe(200);
    expect(await reprocessCommand(['--url', base, '--app', DEMO_GUID, '--release', 'behind-proxy'], io), lines.join('\n')).toBe(0);
    expect(proxy.outside).toEqual([]);
  });
});
