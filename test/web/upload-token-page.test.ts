// An upload token sent to open a page (a header extension left set to the CI token, say) is
// answered as a page a person can read, saying what the token is for and how to get in; the
// API keeps answering JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

const UPLOAD_TOKEN = 'ci-upload-token-0123456789';
const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

describe('an upload token on the pages', () => {
  let r: TestReceiver;
  let appToken = '';
  let crashId = '';
  beforeAll(async () => {
    r = await startTestReceiver({ uploadToken: UPLOAD_TOKEN, publicUrl: 'https://tools.example.com/crashes' });
    const made = await fetch(`${r.localUrl}/api/apps/${GUID}/upload-tokens`, { method: 'POST', headers: { authorization: `Bearer ${r.adminToken}` } });
    appToken = ((await made.json()) as { token: string }).token;
    const submitted = await submitCrash(`${r.localUrl}/submit`, jsCrashFields(), []);
    expect(submitted.crashId).toBeTruthy();
    crashId = submitted.crashId!;
  });
  afterAll(() => r?.stop());

  it('gets an HTML 403 page saying what the token does and how to log in, for either kind of upload token', async () => {
    for (const [token, says] of [
      [UPLOAD_TOKEN, 'The token sent is the upload token (--upload-token): it may only upload source maps'],
      [appToken, `The token sent is an upload token of the app ${GUID}: it may only upload source maps of that app`],
    ] as const) {
      for (const path of [`/report/${crashId}`, '/', `/apps/${GUID}`, '/search?q=x']) {
        const res = await fetch(r.localUrl + path, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } });
        expect(res.status, path).toBe(403);
        expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
        const html = await res.text();
        expect(html, path).toContain('<h1>This token only uploads source maps</h1>');
        expect(html, path).toContain(says);
        expect(html, path).toContain('To read crashes, log in at /crashes/login with the admin token or the viewer token');
        expect(html, path).not.toContain(crashId);
      }
    }
  });

  it('keeps the JSON 403 for the API', async () => {
    for (const token of [UPLOAD_TOKEN, appToken]) {
      const res = await fetch(`${r.localUrl}/api/crashes/${crashId}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('forbidden');
    }
  });
});

describe('an upload token in the login form', () => {
  let r: TestReceiver;
  afterAll(() => r?.stop());

  it('is named for what it is, with the tokens that log in', async () => {
    r = await startTestReceiver({ uploadToken: UPLOAD_TOKEN });
    const made = await fetch(`${r.url}/api/apps/${GUID}/upload-tokens`, { method: 'POST', headers: { authorization: `Bearer ${r.adminToken}` } });
    const appToken = ((await made.json()) as { token: string }).token;
    const tryLogin = async (token: string): Promise<{ status: number; text: string }> => {
      const form = await fetch(`${r.url}/login`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const res = await fetch(`${r.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: r.url, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, csrf, next: '/' }),
      });
      return { status: res.status, text: (await res.text()).replace(/<[^>]*>/g, '') };
    };
    const global = await tryLogin(UPLOAD_TOKEN);
    expect(global.status).toBe(401);
    expect(global.text).toContain('That is the upload token (--upload-token): it only uploads source maps and asks for reprocessing, and opens no page. Log in with the admin token.');
    const perApp = await tryLogin(appToken);
    expect(perApp.status).toBe(401);
    expect(perApp.text).toContain(`That is an upload token of the app ${GUID}: it only uploads source maps`);
    // Any other wrong token is just wrong.
    expect((await tryLogin('not-a-token-of-any-kind')).text).toContain('That is not the admin token.');
    expect((await tryLogin(r.adminToken)).status).toBe(303);
  });
});
