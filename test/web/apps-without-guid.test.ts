// Crashes with no WebAppGUID: each ProductName is its own app (key `product:<name>`, which no
// GUID can be), and crashes with neither go to one "unknown app". Real submissions through a
// real receiver, read back from /api/apps, the apps page and /apps/<key>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { auth, waitProcessed } from '../processor/helpers.ts';

const GUID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const HOSTILE = 'Blog <img src=x onerror=alert(1)>';

interface App {
  guid: string;
  product: string;
  kind: string;
  total: number;
}

describe('apps of crashes without a WebAppGUID', () => {
  let r: TestReceiver;

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    const sent: Record<string, string>[] = [
      { ProductName: 'Shop', WebAppGUID: GUID },
      { ProductName: 'Shop' },
      { ProductName: 'Shop' },
      { ProductName: HOSTILE },
      {},
    ];
    for (const fields of sent) {
      const all = { ...jsCrashFields(), ...fields };
      if (!('ProductName' in fields)) delete all.ProductName;
      if (!('WebAppGUID' in fields)) delete all.WebAppGUID;
      const res = await submitCrash(`${r.url}/submit`, all, []);
      expect(res.status, res.body).toBe(200);
      await waitProcessed(r.url, res.crashId!);
    }
    // The index hears of a crash just after its processed file is written.
    const deadline = Date.now() + 10_000;
    while ((await apps()).reduce((n, a) => n + a.total, 0) < sent.length) {
      if (Date.now() > deadline) throw new Error('the index did not count every crash within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(() => r.stop());

  const apps = async (): Promise<App[]> => ((await (await fetch(`${r.url}/api/apps`, { headers: auth })).json()) as { apps: App[] }).apps;

  it('groups them by ProductName, apart from the app with a GUID, and the rest as the unknown app', async () => {
    const byKey = Object.fromEntries((await apps()).map((a) => [a.guid, a]));
    expect(Object.keys(byKey).sort()).toEqual(['-', GUID, `product:${HOSTILE}`, 'product:Shop'].sort());
    expect(byKey[GUID]).toMatchObject({ product: 'Shop', kind: 'guid', total: 1 });
    expect(byKey['product:Shop']).toMatchObject({ product: 'Shop', kind: 'product', total: 2 });
    expect(byKey[`product:${HOSTILE}`]).toMatchObject({ product: HOSTILE, kind: 'product', total: 1 });
    expect(byKey['-']).toMatchObject({ product: '', kind: 'unknown', total: 1 });
  });

  it('gives each its own page and top crashers at /apps/<key>, with the name escaped', async () => {
    const list = await (await fetch(`${r.url}/`, { headers: auth })).text();
    expect(list).toContain('href="/apps/product%3AShop"');
    expect(list).toContain(`href="/apps/${GUID}"`);
    expect(list).toContain('href="/apps/-"');
    expect(list).toContain('(unknown app)');
    expect(list).not.toContain('<img src=x');

    const shop = await fetch(`${r.url}/apps/product%3AShop`, { headers: auth });
    expect(shop.status).toBe(200);
    const html = await shop.text();
    expect(html).toContain('Top crashers · Shop');
    expect(html).toContain('no WebAppGUID: grouped by ProductName');
    const top = (await (await fetch(`${r.url}/api/apps/product%3AShop/topcrashers?days=7`, { headers: auth })).json()) as { total: number; app: { kind: string } };
    expect(top.total).toBe(2);
    expect(top.app.kind).toBe('product');

    const hostile = await fetch(`${r.url}/apps/${encodeURIComponent(`product:${HOSTILE}`)}`, { headers: auth });
    expect(hostile.status).toBe(200);
    expect(await hostile.text()).not.toContain('<img src=x');
    const unknown = await fetch(`${r.url}/apps/-`, { headers: auth });
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toContain('Top crashers · (unknown app)');
    expect((await fetch(`${r.url}/apps/product%3ANoSuchProduct`, { headers: auth })).status).toBe(404);
  });
});
