// Upload tokens tied to one app: one app's build pipeline cannot touch another app's source maps.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_TOKENS_FILE } from '../../receiver/src/web/app-tokens.ts';
import { CLI, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { buildShop } from '../processor/build-app.ts';

const run = promisify(execFile);
const SHOP = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';
const BLOG = '0a6b2c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';

describe('per-app upload tokens', () => {
  let r: TestReceiver;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let token = '';
  let id = '';
  const as = (t: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${t}`, ...extra });
  const upload = (t: string, app: string) => {
    const form = new FormData();
    form.set('app', app);
    form.set('release', '1.0');
    form.append('url', '~/static/app.js');
    form.append('file', new Blob(['var x = 1;\n']), 'app.js');
    return fetch(`${r.url}/api/sourcemaps`, { method: 'POST', headers: as(t), body: form });
  };

  beforeAll(async () => {
    work = await tempDir('socorrito-app-tokens-');
    r = await startTestReceiver({ viewerToken: 'viewer-token-0123456789' });
  });
  afterAll(async () => {
    await r?.stop();
    await work?.cleanup();
  });

  it('are made by the admin, shown once, and kept only as hashes', async () => {
    const made = await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens`, { method: 'POST', headers: as(r.adminToken, { 'content-type': 'application/json' }), body: '{"label":"ci"}' });
    expect(made.status).toBe(201);
    const body = (await made.json()) as { token: string; id: string; app: string; label: string };
    expect(body).toMatchObject({ app: SHOP, label: 'ci' });
    expect(body.token).toMatch(/^up_[A-Za-z0-9_-]{40}$/);
    ({ token, id } = body);
    const file = await readFile(join(r.dataDir, APP_TOKENS_FILE), 'utf8');
    expect(file).not.toContain(token);
    expect(file).toContain(id);
    const listed = (await (await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens`, { headers: as(r.adminToken) })).json()) as { tokens: object[] };
    expect(listed.tokens).toEqual([{ id, app: SHOP, label: 'ci', created_at: expect.any(String) }]);
    expect(r.logs).toContain(`upload tokens: made ${id} ("ci") for app ${SHOP} (admin)`);
    // Neither the viewer nor an upload token makes one.
    for (const t of ['viewer-token-0123456789', token]) {
      expect((await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens`, { method: 'POST', headers: as(t) })).status).toBe(403);
    }
    const typo = await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens`, { method: 'POST', headers: as(r.adminToken), body: '{"lable":"ci"}' });
    expect(await typo.json()).toEqual({ error: 'bad_field', message: 'unknown field "lable"; the only one is label' });
    const bad = await fetch(`${r.url}/api/apps/-not..a.guid/upload-tokens`, { method: 'POST', headers: as(r.adminToken) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_app' });
  });

  it("upload, list and reprocess their app's source maps with upload-sourcemaps, and nothing of another app", async () => {
    const shop = await buildShop(work.path, 'a');
    const { stdout } = await run(process.execPath, [CLI, 'upload-sourcemaps', '--url', r.url, '--app', SHOP, '--release', '1.0', '--url-prefix', '~/static/', shop.outDir], {
      env: { ...process.env, SOCORRITO_TOKEN: token },
    });
    expect(stdout).toMatch(/uploaded \d+ files to app/);
    const refused = await upload(token, BLOG);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'forbidden', message: `this upload token is for app ${SHOP}, not ${BLOG}` });
    expect((await upload(r.adminToken, BLOG)).status).toBe(200);
    // Listing shows its own app's releases only, asked for or not.
    const own = (await (await fetch(`${r.url}/api/sourcemaps`, { headers: as(token) })).json()) as { releases: { app: string }[] };
    expect(own.releases.length).toBeGreaterThan(0);
    expect(new Set(own.releases.map((x) => x.app))).toEqual(new Set([SHOP]));
    expect((await fetch(`${r.url}/api/sourcemaps?app=${BLOG}`, { headers: as(token) })).status).toBe(403);
    // The same GUID in other letters is another app (its own source maps), so another app's.
    expect((await fetch(`${r.url}/api/sourcemaps?app=${SHOP.toUpperCase()}`, { headers: as(token) })).status).toBe(403);
    expect((await upload(token, SHOP.toUpperCase())).status).toBe(403);
    // Reprocessing: its app only, and by app, not by crash ID.
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    const reprocess = (body: object) => fetch(`${r.url}/api/reprocess`, { method: 'POST', headers: as(token, { 'content-type': 'application/json' }), body: JSON.stringify(body) });
    const queued = (await (await reprocess({ app: SHOP })).json()) as { queued: number; crash_ids?: string[] };
    expect(queued.queued).toBeGreaterThan(0);
    expect(queued.crash_ids).toBeUndefined();
    expect((await reprocess({ app: BLOG })).status).toBe(403);
    expect((await reprocess({ crash_ids: [crashId] })).status).toBe(403);
    // No crash data, pages, deletions or other apps' tokens.
    for (const [method, path] of [
      ['GET', `/api/crashes/${crashId}`],
      ['GET', '/'],
      ['DELETE', `/api/sourcemaps?app=${SHOP}&release=1.0`],
      ['GET', `/api/apps/${SHOP}/upload-tokens`],
    ]) {
      expect((await fetch(`${r.url}${path}`, { method, headers: as(token) })).status, `${method} ${path}`).toBe(403);
    }
    expect(r.logs.some((l) => l.startsWith(`sourcemaps: app ${SHOP} release "1.0": stored`) && l.endsWith(`(upload token of app ${SHOP})`))).toBe(true);
  });

  it('are revoked at once, and survive a restart until then', async () => {
    await r.close();
    r = { ...(await startTestReceiver({ dataDir: r.dataDir })), stop: r.stop };
    expect((await upload(token, SHOP)).status).toBe(200);
    const revoked = await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens/${id}`, { method: 'DELETE', headers: as(r.adminToken) });
    expect(await revoked.json()).toEqual({ revoked: id, app: SHOP });
    expect((await upload(token, SHOP)).status).toBe(401);
    expect((await fetch(`${r.url}/api/apps/${SHOP}/upload-tokens/${id}`, { method: 'DELETE', headers: as(r.adminToken) })).status).toBe(404);
  });

  it('stop the start when their file is broken, rather than lock builds out unseen', async () => {
    const dir = await tempDir();
    try {
      await writeFile(join(dir.path, APP_TOKENS_FILE), '{"tokens": [{"app": 1}]}');
      await expect(startTestReceiver({ dataDir: dir.path })).rejects.toThrow(/upload-tokens\.json has no valid "tokens" list; fix it, or remove it/);
    } finally {
      await dir.cleanup();
    }
  });
});
