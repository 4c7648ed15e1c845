import { expect, it, vi } from 'vitest';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { removeIndex } from '../helpers/webhook.ts';
import { addCrash, daysAgo, direct } from './crashes.ts';
import { rebuild } from './held-rebuild.ts';

// While the index is rebuilt, an app set up here may well have crashes not indexed yet: search's
// app menu still offers it, but does not say it has none. The second start's rebuild is held
// until the test lets it go.
vi.mock('../../receiver/src/index/rebuild.ts', async (importOriginal) => (await import('./held-rebuild.ts')).heldRebuild(importOriginal));

const BEARER = { authorization: 'Bearer test-admin-token' };
/** With source maps uploaded, and a crash stored. */
const MAPPED = 'c3333333-3333-4333-8333-333333333333';

/** The app menu's options of a search page, as [value, label, selected]. */
function appMenu(html: string): [string, string, boolean][] {
  const select = /<select name="app"[^>]*>([\s\S]*?)<\/select>/.exec(html);
  expect(select, 'the app menu').not.toBeNull();
  return [...select![1]!.matchAll(/<option value="([^"]*)"( selected="")?>([^<]*)<\/option>/g)].map((m) => [m[1]!, m[3]!, m[2] !== undefined]);
}

it('offers a set-up app without saying "no crashes yet" while the index is rebuilt, and by its name once rebuilt', async () => {
  const dir = await tempDir();
  try {
    const first = await startTestReceiver({ dataDir: dir.path });
    await first.indexRebuilt;
    const form = new FormData();
    form.set('app', MAPPED);
    form.set('release', '1.0');
    form.append('url', '~/static/app.js');
    form.append('file', new Blob(['var x = 1;\n']), 'app.js');
    expect((await fetch(`${first.url}/api/sourcemaps`, { method: 'POST', headers: BEARER, body: form })).status).toBe(200);
    await addCrash(direct(first), { signature: 'TypeError: map is undefined | draw', app: MAPPED, product: 'Maps', at: daysAgo(0) });
    await first.close();
    await removeIndex(dir.path);
    rebuild.hold();

    const second = await startTestReceiver({ dataDir: dir.path });
    try {
      const page = async (path: string, status: number): Promise<string> => {
        const res = await fetch(second.url + path, { headers: { ...BEARER, accept: 'text/html' } });
        expect(res.status, path).toBe(status);
        return res.text();
      };
      expect(appMenu(await page('/search', 200))).toEqual([
        ['', 'any app', false],
        [MAPPED, MAPPED, false],
      ]);
      // Chosen, it is selected, and the page says to come back once the index holds it.
      const chosen = await page(`/search?app=${MAPPED}`, 503);
      expect(chosen).toContain('the index is being rebuilt from the stored crashes');
      expect(appMenu(chosen)).toEqual([
        ['', 'any app', false],
        [MAPPED, MAPPED, true],
      ]);

      rebuild.letGo();
      expect(await second.indexRebuilt).toBe(true);
      expect(appMenu(await page(`/search?app=${MAPPED}`, 200))).toEqual([
        ['', 'any app', false],
        [MAPPED, 'Maps', true],
      ]);
    } finally {
      rebuild.letGo();
      await second.close();
    }
  } finally {
    await dir.cleanup();
  }
}, 60_000);
