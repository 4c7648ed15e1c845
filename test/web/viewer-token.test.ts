// The viewer token: what an admin hands to colleagues so they can read crashes and share links
// without being able to change triage, source maps or forwarding.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../receiver/src/config.ts';
import { StartupError } from '../../receiver/src/server.ts';
import { Sessions } from '../../receiver/src/web/auth.ts';
import { startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { logIn } from '../triage/session.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { addCrash, APP_GUID, direct } from './crashes.ts';

const VIEWER_TOKEN = 'colleague-viewer-token-0123';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const VIEWER = { authorization: `Bearer ${VIEWER_TOKEN}` };

describe('the viewer token', () => {
  let r: TestReceiver;
  let signatureId: string;
  beforeAll(async () => {
    r = await startTestReceiver({ viewerToken: VIEWER_TOKEN });
    await r.indexRebuilt;
    signatureId = (await addCrash(direct(r), { signature: 'TypeError: cart is undefined | total' })).signature_id;
  });
  afterAll(() => r?.stop());

  it('reads every page and the API with a Bearer header, and changes nothing', async () => {
    for (const path of ['/', `/apps/${APP_GUID}`, `/signatures/${signatureId}`, '/search', '/api/apps', `/api/signatures/${signatureId}`, '/api/search']) {
      expect((await fetch(r.url + path, { headers: VIEWER })).status, path).toBe(200);
    }
    for (const [method, path, body] of [
      ['PUT', `/api/signatures/${signatureId}/status`, JSON.stringify({ status: 'ignored' })],
      ['POST', '/api/reprocess', JSON.stringify({ app: APP_GUID })],
      ['DELETE', `/api/sourcemaps?app=${APP_GUID}&release=1.0`, undefined],
      ['PUT', `/api/forwarding/apps/${APP_GUID}`, JSON.stringify({ url: 'https://private.example/submit' })],
    ] as const) {
      const res = await fetch(r.url + path, { method, headers: { ...VIEWER, 'content-type': 'application/json' }, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as { message: string }).message).toBe('the viewer token may only read; changes need the admin token');
    }
    expect(((await (await fetch(`${r.url}/api/signatures/${signatureId}`, { headers: ADMIN })).json()) as { status: string }).status).toBe('open');
  });

  it("sees the forwarding registry without the query of a submit URL, where a key may be", async () => {
    const put = await fetch(`${r.url}/api/forwarding/apps/${APP_GUID}`, {
      method: 'PUT',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ submit_url: 'https://private.example/submit?key=SECRET123' }),
    });
    expect(put.status).toBe(201);
    const asViewer = (await (await fetch(`${r.url}/api/forwarding/apps`, { headers: VIEWER })).json()) as { apps: { submit_url: string }[] };
    expect(asViewer.apps.map((a) => a.submit_url)).toEqual(['https://private.example/submit?…']);
    const one = (await (await fetch(`${r.url}/api/forwarding/apps/${APP_GUID}`, { headers: VIEWER })).json()) as { app: { submit_url: string } };
    expect(one.app.submit_url).toBe('https://private.example/submit?…');
    const asAdmin = (await (await fetch(`${r.url}/api/forwarding/apps`, { headers: ADMIN })).json()) as { apps: { submit_url: string }[] };
    expect(asAdmin.apps.map((a) => a.submit_url)).toEqual(['https://private.example/submit?key=SECRET123']);
    // A crash on its way there: its status and report page show the target without the query too.
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields({ WebAppGUID: APP_GUID }), []);
    const status = async (headers: Record<string, string>) =>
      ((await (await fetch(`${r.url}/api/crashes/${crashId}/forwarding`, { headers })).json()) as { forwarding: { target: string } }).forwarding.target;
    expect(await status(VIEWER)).toBe('https://private.example/submit?…');
    expect(await status(ADMIN)).toBe('https://private.example/submit?key=SECRET123');
    const report = await (await fetch(`${r.url}/report/${crashId}`, { headers: VIEWER })).text();
    expect(report).toContain('https://private.example/submit?…');
    expect(report).not.toContain('SECRET123');
    await fetch(`${r.url}/api/forwarding/apps/${APP_GUID}`, { method: 'DELETE', headers: ADMIN });
  });

  it('logs in through the form into a read-only session, which may still log out', async () => {
    expect(await (await fetch(`${r.url}/login`)).text()).toContain('or the viewer token you were given');
    const viewer = await logIn(r, VIEWER_TOKEN);
    expect(viewer.status).toBe(303);
    const page = await (await fetch(`${r.url}/signatures/${signatureId}`, { headers: { cookie: viewer.cookie } })).text();
    expect(page).toContain('read only');
    expect(page).toContain('You are logged in with the viewer token, which reads only');
    expect(page).not.toMatch(/action="\/signatures\/[^"]+\/status"/);
    // The form's request, made by hand, is refused too.
    const triage = await fetch(`${r.url}/signatures/${signatureId}/status`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: viewer.cookie, origin: r.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: viewer.csrf, status: 'ignored', next: '/' }),
    });
    expect(triage.status).toBe(403);
    expect(await triage.text()).toContain('You are logged in with the viewer token');

    const logout = await fetch(`${r.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: viewer.cookie, origin: r.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: viewer.csrf }),
    });
    expect(logout.status).toBe(303);
    expect((await fetch(`${r.url}/`, { headers: { cookie: viewer.cookie }, redirect: 'manual' })).status).toBe(302);

    // An admin session still shows the buttons.
    const admin = await logIn(r, 'test-admin-token');
    const adminPage = await (await fetch(`${r.url}/signatures/${signatureId}`, { headers: { cookie: admin.cookie } })).text();
    expect(adminPage).toMatch(/action="\/signatures\/[^"]+\/status"/);
    expect(adminPage).not.toContain('read only');
    // A wrong token names both.
    const wrong = await logIn(r, 'not-a-token-at-all-here');
    expect(wrong.status).toBe(401);
  });

  it('ends viewer sessions when the viewer token changes or is removed, not admin ones', async () => {
    const now = () => new Date('2026-11-29T12:00:00Z');
    const options = { token: 'admin-token-0123456789', sessionMs: 3_600_000, now };
    const before = new Sessions({ ...options, viewerToken: 'viewer-token-one-0123' });
    const app = new Hono();
    app.post('/login/:role', async (c) => (await before.start(c, c.req.param('role') as 'admin' | 'viewer'), c.text('ok')));
    const cookie = async (role: string) => (await app.request(`/login/${role}`, { method: 'POST' })).headers.get('set-cookie')!.split(';')[0]!;
    const viewerCookie = await cookie('viewer');
    const adminCookie = await cookie('admin');
    const current = async (sessions: Sessions, cookieHeader: string) => {
      const probe = new Hono();
      probe.get('/', async (c) => {
        const session = await sessions.current(c);
        return c.text(session ? sessions.sessionRole(session) : 'none');
      });
      return (await probe.request('/', { headers: { cookie: cookieHeader } })).text();
    };
    expect(await current(before, viewerCookie)).toBe('viewer');
    expect(await current(before, adminCookie)).toBe('admin');
    const changed = new Sessions({ ...options, viewerToken: 'viewer-token-two-0123' });
    expect(await current(changed, viewerCookie)).toBe('none');
    expect(await current(changed, adminCookie)).toBe('admin');
    expect(await current(new Sessions(options), viewerCookie)).toBe('none');
  });

  it('must differ from the admin and upload tokens, the admin token kept in the data dir too', async () => {
    expect(() => loadConfig({ 'admin-token': 'same-token-0123456789', 'viewer-token': 'same-token-0123456789' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ 'upload-token': 'same-token-0123456789', 'viewer-token': 'same-token-0123456789' }, {})).toThrow(/viewer token must differ/);
    const dir = await tempDir();
    try {
      await writeFile(join(dir.path, 'admin-token'), 'kept-admin-token-0123456789\n');
      const clash = await startTestReceiver({ dataDir: dir.path, adminToken: undefined, viewerToken: 'kept-admin-token-0123456789' }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(StartupError);
      expect((clash as Error).message).toBe(`--viewer-token must differ from the admin token kept in ${join(dir.path, 'admin-token')}: it would have the admin's rights`);
      const fine = await startTestReceiver({ dataDir: dir.path, adminToken: undefined, viewerToken: VIEWER_TOKEN });
      expect((await fetch(`${fine.url}/api/apps`, { headers: { authorization: 'Bearer kept-admin-token-0123456789' } })).status).toBe(200);
      await fine.stop();
    } finally {
      await dir.cleanup();
    }
  });
});
