import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { safeNext, Sessions } from './auth.ts';

describe('safeNext', () => {
  it('keeps a path on this site, query and fragment included', () => {
    expect(safeNext('/search?q=a%20b#top')).toBe('/search?q=a%20b#top');
    expect(safeNext('/report/bp-3c04')).toBe('/report/bp-3c04');
  });

  it('sends anything that a browser would take off-site, or cannot read, to /', () => {
    // Browsers drop tabs and line breaks from a URL and read \ as /.
    for (const next of [undefined, '', 'evil.example', '//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '/ /evil.example', '/\u0000/evil.example', '/\u007f']) {
      expect(safeNext(next), JSON.stringify(next)).toBe('/');
    }
  });

  it('keeps a path whose dot segments resolve to two slashes on this site', () => {
    for (const [next, to] of [['/.//evil.example', '/evil.example'], ['/..//evil.example/x', '/evil.example/x'], ['/%2e//evil.example', '/evil.example'], ['/x/..//evil.example?a=1', '/evil.example?a=1']]) {
      expect(safeNext(next), next).toBe(to);
    }
  });
});

describe('Sessions', () => {
  it('refuses a session logged out of, in any copy of its cookie and after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-sessions-'));
    try {
      const options = { token: 'test-admin-token', sessionMs: 60_000, endedFile: join(dir, 'ended-sessions.json') };
      const app = (sessions: Sessions) =>
        new Hono()
          .get('/who', async (c) => c.text(String(Boolean(await sessions.current(c)))))
          .post('/logout', async (c) => (await sessions.end(c), c.text('out')));
      const first = new Sessions(options);
      const cookie = await first.cookieFor(Date.now() + 60_000);
      const other = await first.cookieFor(Date.now() + 60_000);
      expect(await (await app(first).request('/who', { headers: { cookie } })).text()).toBe('true');
      await app(first).request('/logout', { method: 'POST', headers: { cookie } });
      expect(await (await app(first).request('/who', { headers: { cookie } })).text()).toBe('false');
      const restarted = new Sessions(options);
      expect(await (await app(restarted).request('/who', { headers: { cookie } })).text()).toBe('false');
      expect(await (await app(restarted).request('/who', { headers: { cookie: other } })).text()).toBe('true');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
