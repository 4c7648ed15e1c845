// The upload token: what a CI job gets so it can upload source maps without holding the key to
// every crash.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { buildShop } from '../processor/build-app.ts';

const run = promisify(execFile);
const UPLOAD_TOKEN = 'ci-upload-token-0123456789';
const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

describe('the upload token', () => {
  let r: TestReceiver;
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('socorrito-upload-token-');
    r = await startTestReceiver({ uploadToken: UPLOAD_TOKEN });
  });
  afterAll(async () => {
    await r?.stop();
    await work?.cleanup();
  });

  it('uploads source maps with upload-sourcemaps and lists them', async () => {
    const shop = await buildShop(work.path, 'a');
    const { stdout } = await run(process.execPath, [CLI, 'upload-sourcemaps', '--url', r.url, '--app', GUID, '--release', '1.0', '--url-prefix', '~/static/', shop.outDir], {
      env: { ...process.env, SOCORRITO_TOKEN: UPLOAD_TOKEN },
    });
    expect(stdout).toMatch(/uploaded \d+ files to app/);
    const list = await fetch(`${r.url}/api/sourcemaps?app=${GUID}`, { headers: { authorization: `Bearer ${UPLOAD_TOKEN}` } });
    expect(list.status).toBe(200);
  });

  it('reads no crash data, pages or settings', async () => {
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    const auth = { authorization: `Bearer ${UPLOAD_TOKEN}` };
    for (const [method, path] of [
      ['GET', `/api/crashes/${crashId}`],
      ['GET', '/api/apps'],
      ['GET', '/'],
      ['GET', `/report/${crashId}`],
      ['DELETE', `/api/sourcemaps?app=${GUID}&release=1.0`],
      ['GET', '/api/forwarding/apps'],
    ]) {
      const res = await fetch(`${r.url}${path}`, { method, headers: auth });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.text()).toMatch(/may only upload source maps/);
    }
    // The admin token still does everything, and a wrong token is still a 401.
    expect((await fetch(`${r.url}/api/crashes/${crashId}`, { headers: { authorization: `Bearer ${r.adminToken}` } })).status).toBe(200);
    expect((await fetch(`${r.url}/api/sourcemaps?app=${GUID}`, { headers: { authorization: 'Bearer ci-upload-token-wrong' } })).status).toBe(401);
  });

  it("reprocesses an app's crashes without learning their IDs", async () => {
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    const reprocess = (token: string) =>
      fetch(`${r.url}/api/reprocess`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ app: GUID }) });
    const byUpload = (await (await reprocess(UPLOAD_TOKEN)).json()) as { queued: number; crash_ids?: string[] };
    expect(byUpload.queued).toBeGreaterThan(0);
    expect(byUpload.crash_ids).toBeUndefined();
    const byAdmin = (await (await reprocess(r.adminToken)).json()) as { queued: number; crash_ids: string[] };
    expect(byAdmin.crash_ids).toContain(crashId);
    // Every app at once is the admin's: it reaches apps the build machine has no business with.
    const all = (token: string, body: object) =>
      fetch(`${r.url}/api/reprocess`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await all(UPLOAD_TOKEN, { all: true });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toBe('an upload token reprocesses one app, not all');
    expect((await all(r.adminToken, { all: true, app: GUID })).status).toBe(400);
    expect((await all(r.adminToken, { all: true, crash_ids: [crashId] })).status).toBe(400);
    expect(((await (await all(r.adminToken, { all: true })).json()) as { crash_ids: string[] }).crash_ids).toContain(crashId);
  });
});
