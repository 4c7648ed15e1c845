import { expect, it, vi } from 'vitest';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { removeIndex } from '../helpers/webhook.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from './crashes.ts';
import { rebuild } from './held-rebuild.ts';

// The second start's rebuild is held until the test lets it go, so the receiver can be asked
// about an app the index being rebuilt does not hold yet.
vi.mock('../../receiver/src/index/rebuild.ts', async (importOriginal) => (await import('./held-rebuild.ts')).heldRebuild(importOriginal));

const BEARER = { authorization: 'Bearer test-admin-token' };
const SIGNATURE = 'TypeError: cart is undefined | total';

it('answers 503 with Retry-After, not 404, for an app the index being rebuilt does not hold yet, and 200 once rebuilt', async () => {
  const dir = await tempDir();
  try {
    const first = await startTestReceiver({ dataDir: dir.path });
    await first.indexRebuilt;
    await addCrash(direct(first), { signature: SIGNATURE, app: APP_GUID, product: 'Shop', version: '1.0', at: daysAgo(0) });
    await first.close();
    await removeIndex(dir.path);
    rebuild.hold();

    const second = await startTestReceiver({ dataDir: dir.path });
    try {
      const ask = (path: string, accept = 'application/json') => fetch(second.url + path, { headers: { ...BEARER, accept } });
      const apiPaths = [`/api/apps/${APP_GUID}/topcrashers`, `/api/search?app=${APP_GUID}`, `/api/signatures/${signatureIdOf(SIGNATURE)}?app=${APP_GUID}`];
      // The signature is not indexed either while the rebuild waits: it answers 404 for that.
      for (const path of apiPaths.slice(0, 2)) {
        const res = await ask(path);
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after'), path).toBe('30');
        expect(await res.json(), path).toEqual({
          error: 'index_rebuilding',
          message: `no crash of the app "${APP_GUID}" is indexed yet: the index is being rebuilt from the stored crashes; try again in a minute`,
        });
      }
      for (const path of [`/apps/${APP_GUID}`, `/search?app=${APP_GUID}`]) {
        const res = await ask(path, 'text/html');
        expect(res.status, path).toBe(503);
        expect(await res.text(), path).toContain('the index is being rebuilt from the stored crashes');
      }

      rebuild.letGo();
      expect(await second.indexRebuilt).toBe(true);
      for (const path of apiPaths) expect((await ask(path)).status, path).toBe(200);
      // A key no crash names is a mistake again, once the index is whole.
      const typo = await ask(`/api/search?app=${APP_GUID.slice(0, -1)}1`);
      expect(typo.status).toBe(404);
      expect(((await typo.json()) as { error: string }).error).toBe('not_found');
    } finally {
      rebuild.letGo();
      await second.close();
    }
  } finally {
    await dir.cleanup();
  }
}, 60_000);
