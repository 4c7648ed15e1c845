// The forwarding registry matches a GUID without regard to case, the index by its exact text: an
// app registered as {0B6C…} whose pages declare 0b6c… has its crashes under the page's spelling.
// It is that one app, not a second one "with no crashes yet".
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct } from './crashes.ts';

const run = promisify(execFile);
const BEARER = { authorization: 'Bearer test-admin-token' };
const REGISTERED = APP_GUID.toUpperCase();

describe('an app registered in another case than its crashes name it', () => {
  let r: TestReceiver;
  const get = async (path: string, accept = 'application/json'): Promise<{ status: number; text: string }> => {
    const res = await fetch(r.url + path, { headers: { ...BEARER, accept } });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    await run(process.execPath, [CLI, 'apps', 'add', '--data-dir', r.dataDir, '--guid', REGISTERED, '--submit-url', 'https://crashes.shop.example']);
    await addCrash(direct(r), { signature: 'TypeError: cart is undefined | total', app: APP_GUID, product: 'Shop', at: daysAgo(0) });
  }, 60_000);
  afterAll(() => r?.stop());

  it('is listed once, with its crashes', async () => {
    const api = JSON.parse((await get('/api/apps')).text) as { apps: { guid: string; total: number }[]; total: number };
    expect(api.apps.map((a) => [a.guid, a.total])).toEqual([[APP_GUID, 1]]);
    expect(api.total).toBe(1);
    expect((await get('/', 'text/html')).text).not.toContain('(no crashes yet)');
  });

  it('is not said to have no crashes yet under the registered spelling', async () => {
    for (const key of [REGISTERED, `${APP_GUID.slice(0, 4)}${APP_GUID.slice(4).toUpperCase()}`]) {
      const page = await get(`/apps/${key}`, 'text/html');
      expect(page.text, key).not.toContain('No crashes yet.');
      expect(page.status, key).toBe(404);
      expect((await get(`/api/apps/${key}/topcrashers`)).status, key).toBe(404);
    }
  });
});
