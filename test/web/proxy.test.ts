// Behind a TLS-terminating reverse proxy the browser says `Origin: https://crashes.example.com`
// while the receiver is reached at http://127.0.0.1:<port>. Its forms (log in, resolve or
// ignore a signature, log out) must work with --trust-proxy or --public-url, and without either
// say what to set. Real requests through node:http, since fetch() will not send our own Host.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../receiver/src/config.ts';
import { Sessions } from '../../receiver/src/web/auth.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, direct } from './crashes.ts';

const PUBLIC = 'https://crashes.example.com';
/** What a proxy like `proxy_set_header Host $host; proxy_set_header X-Forwarded-Proto $scheme;` adds. */
const VIA_PROXY = { host: 'crashes.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };

interface Answer {
  status: number;
  location: string | undefined;
  cookies: Record<string, string>;
  /** The Set-Cookie headers as sent, attributes included. */
  setCookies: string[];
  body: string;
}

/** One HTTP request to the receiver with exactly these headers (Host included). */
function send(r: TestReceiver, path: string, headers: Record<string, string>, form?: Record<string, string>): Promise<Answer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: r.port,
        path,
        method: form ? 'POST' : 'GET',
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const cookies = Object.fromEntries((res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!.split(/=(.*)/s).slice(0, 2) as [string, string]));
          resolve({ status: res.statusCode!, location: res.headers.location, cookies, setCookies: res.headers['set-cookie'] ?? [], body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

/** Opens the login form and posts it, as a browser on https://crashes.example.com would through the proxy. */
async function logIn(r: TestReceiver, headers: Record<string, string> = VIA_PROXY, origin = PUBLIC): Promise<Answer> {
  const form = await send(r, '/login', headers);
  return send(r, '/login', { ...headers, origin, cookie: `socorrito_login=${form.cookies.socorrito_login}` }, { token: 'test-admin-token', csrf: csrfOf(form.body), next: '/' });
}

async function receiverWith(config: Partial<Config>): Promise<{ r: TestReceiver; signatureId: string }> {
  const r = await startTestReceiver(config);
  await r.indexRebuilt;
  const { signature_id: signatureId } = await addCrash(direct(r), { signature: 'TypeError: cart is undefined | total' });
  return { r, signatureId };
}

describe('behind a proxy, with --trust-proxy', () => {
  let r: TestReceiver;
  let signatureId: string;
  beforeAll(async () => ({ r, signatureId } = await receiverWith({ trustProxy: true })));
  afterAll(() => r.stop());

  it('logs in, resolves a signature and logs out through the forms', async () => {
    const login = await logIn(r);
    expect(login.status, login.body).toBe(303);
    const cookie = `socorrito_session=${login.cookies.socorrito_session}`;
    const page = await send(r, `/signatures/${signatureId}`, { ...VIA_PROXY, cookie });
    expect(page.status).toBe(200);
    const csrf = csrfOf(page.body);
    const resolved = await send(r, `/signatures/${signatureId}/status`, { ...VIA_PROXY, origin: PUBLIC, cookie }, { csrf, status: 'resolved', next: '/' });
    expect(resolved.status, resolved.body).toBe(303);
    const ignored = await send(r, `/signatures/${signatureId}/status`, { ...VIA_PROXY, origin: PUBLIC, cookie }, { csrf, status: 'ignored', next: '/' });
    expect(ignored.status, ignored.body).toBe(303);
    const out = await send(r, '/logout', { ...VIA_PROXY, origin: PUBLIC, cookie }, { csrf });
    expect(out.status, out.body).toBe(303);
  });

  it('marks cookies Secure when the proxy says the browser used https', async () => {
    const login = await logIn(r);
    expect(login.setCookies.find((c) => c.startsWith('socorrito_session='))).toMatch(/;\s*Secure/i);
    const plain = await send(r, '/login', { host: 'crashes.example.com', 'x-forwarded-proto': 'http' });
    expect(plain.setCookies.find((c) => c.startsWith('socorrito_login='))).not.toMatch(/;\s*Secure/i);
  });

  it('counts login attempts per client the proxy names, not for the proxy as a whole', async () => {
    const attempt = async (client: string): Promise<number> => {
      const headers = { ...VIA_PROXY, 'x-forwarded-for': `${client}, 10.0.0.1` };
      const form = await send(r, '/login', headers);
      const answer = await send(r, '/login', { ...headers, origin: PUBLIC, cookie: `socorrito_login=${form.cookies.socorrito_login}` }, { token: 'wrong-token-wrong-token', csrf: csrfOf(form.body), next: '/' });
      return answer.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await attempt('198.51.100.1'));
    expect(statuses.slice(-1)).toEqual([429]);
    expect(await attempt('198.51.100.2')).not.toBe(429);
  });

  it('counts login attempts for the address the proxy appended, whatever the client put in front of it', async () => {
    const attempt = async (claimed: string): Promise<number> => {
      // The client sent `X-Forwarded-For: <claimed>`; its proxy appended the address it saw (198.51.100.9), then an inner proxy its own.
      const headers = { ...VIA_PROXY, 'x-forwarded-for': `${claimed}, 198.51.100.9, 10.0.0.1` };
      const form = await send(r, '/login', headers);
      const answer = await send(r, '/login', { ...headers, origin: PUBLIC, cookie: `socorrito_login=${form.cookies.socorrito_login}` }, { token: 'wrong-token-wrong-token', csrf: csrfOf(form.body), next: '/' });
      return answer.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await attempt(`203.0.113.${i + 20}`));
    expect(statuses.slice(-1)).toEqual([429]);
  });

  it('takes the host from the first X-Forwarded-Host when the proxy does not pass Host on, and still refuses other sites', async () => {
    const headers = { host: `127.0.0.1:${r.port}`, 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'crashes.example.com, 10.0.0.5' };
    expect((await logIn(r, headers)).status).toBe(303);

    const refused = await logIn(r, VIA_PROXY, 'https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('came from another site');
    expect(refused.body).not.toContain('--public-url');
    // Headers the proxy did not send cannot make another site ours either: the origin they build is checked against Origin.
    expect((await logIn(r, { ...VIA_PROXY, 'x-forwarded-host': 'evil.example/x' }, 'https://evil.example')).status).toBe(403);
  });
});

describe('behind a proxy, with --trust-proxy naming the proxies', () => {
  const named = (text: string) => loadConfig({ 'trust-proxy': text }, {}).trustProxy;

  it('believes X-Forwarded-Proto and X-Forwarded-Host from a named proxy, for logins, forms and Secure cookies', async () => {
    const { r, signatureId } = await receiverWith({ trustProxy: named('10.0.0.5,127.0.0.0/8') });
    try {
      const login = await logIn(r, { host: `127.0.0.1:${r.port}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'crashes.example.com' });
      expect(login.status, login.body).toBe(303);
      expect(login.setCookies.find((c) => c.startsWith('socorrito_session='))).toMatch(/;\s*Secure/i);
      const cookie = `socorrito_session=${login.cookies.socorrito_session}`;
      const csrf = csrfOf((await send(r, `/signatures/${signatureId}`, { ...VIA_PROXY, cookie })).body);
      const resolved = await send(r, `/signatures/${signatureId}/status`, { ...VIA_PROXY, origin: PUBLIC, cookie }, { csrf, status: 'resolved', next: '/' });
      expect(resolved.status, resolved.body).toBe(303);
    } finally {
      await r.stop();
    }
  });

  it('ignores them from a connection that is not a named proxy: no Secure cookie, and the login form says what to set', async () => {
    const { r } = await receiverWith({ trustProxy: named('10.0.0.5,192.168.0.0/16,fd00::/8') });
    try {
      const form = await send(r, '/login', VIA_PROXY);
      expect(form.setCookies.find((c) => c.startsWith('socorrito_login='))).not.toMatch(/;\s*Secure/i);
      const refused = await logIn(r, { host: `127.0.0.1:${r.port}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'crashes.example.com' });
      expect(refused.status).toBe(403);
      expect(refused.cookies.socorrito_session).toBeUndefined();
      expect(refused.body).toContain('The request did not come from a proxy --trust-proxy names, so its X-Forwarded-Proto and X-Forwarded-Host were not believed.');
      expect((await logIn(r)).status).toBe(403);
    } finally {
      await r.stop();
    }
  });
});

describe('behind a proxy, without --trust-proxy or --public-url', () => {
  let r: TestReceiver;
  let signatureId: string;
  beforeAll(async () => ({ r, signatureId } = await receiverWith({})));
  afterAll(() => r.stop());

  it('does not take X-Forwarded-Proto on trust for Secure cookies', async () => {
    const form = await send(r, '/login', VIA_PROXY);
    expect(form.setCookies.find((c) => c.startsWith('socorrito_login='))).not.toMatch(/;\s*Secure/i);
  });

  it('refuses the login form, and says to set --public-url or --trust-proxy', async () => {
    const refused = await logIn(r);
    expect(refused.status).toBe(403);
    expect(refused.cookies.socorrito_session).toBeUndefined();
    expect(refused.body).toContain('Set --public-url to the address users browse to (or --trust-proxy behind a proxy that sets X-Forwarded-Proto)');
    expect(refused.body).toContain('opened at https://crashes.example.com');
  });

  it('refuses the other forms with the same advice', async () => {
    const cookie = await new Sessions({ token: 'test-admin-token', sessionMs: 60_000 }).cookieFor(Date.now() + 60_000);
    for (const path of [`/signatures/${signatureId}/status`, '/logout']) {
      const refused = await send(r, path, { ...VIA_PROXY, origin: PUBLIC, cookie }, { status: 'resolved' });
      expect(refused.status, path).toBe(403);
      // A form gets a page, not JSON.
      expect(refused.body).toContain('<h1>Cross-site request refused</h1>');
      expect(refused.body).toMatch(/--public-url.*--trust-proxy/);
    }
  });
});

describe('behind a proxy, with --public-url', () => {
  let r: TestReceiver;
  beforeAll(async () => ({ r } = await receiverWith({ publicUrl: PUBLIC })));
  afterAll(() => r.stop());

  it('logs in through the form; opened at another address of the same host, the refusal says what to set', async () => {
    const login = await logIn(r);
    expect(login.status, login.body).toBe(303);
    expect(login.cookies.socorrito_session).toBeDefined();
    const refused = await logIn(r, VIA_PROXY, 'https://crashes.example.com:8443');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('the receiver takes its address to be https://crashes.example.com. Set --public-url to the address users browse to');
  });
});
