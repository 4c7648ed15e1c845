// Anyone who can submit can send any ProductName with an app's WebAppGUID: the app keeps the
// name most of its crashes carry. Real submissions through a real receiver, read back from
// /api/apps, the apps page and the app's top crashers page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { auth, waitProcessed } from '../processor/helpers.ts';

const GUID = '3e1d2c4b-5a69-4788-9a0b-c1d2e3f4a5b6';

describe('the name an app is shown by', () => {
  let r: TestReceiver;

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    // Three crashes of the shop, then one stray crash that calls it "Demo".
    const names = ['Socorrito demo shop', 'Socorrito demo shop', 'Socorrito demo shop', 'Demo'];
    for (const ProductName of names) {
      const res = await submitCrash(`${r.url}/submit`, jsCrashFields({ ProductName, WebAppGUID: GUID }), []);
      expect(res.status, res.body).toBe(200);
      await waitProcessed(r.url, res.crashId!);
    }
    // The index hears of a crash just after its processed file is written.
    const deadline = Date.now() + 10_000;
    while (r.index.count() < names.length) {
      if (Date.now() > deadline) throw new Error('the index did not count every crash within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(() => r.stop());

  it('is the ProductName most of its crashes carry, not the latest one', async () => {
    const { apps } = (await (await fetch(`${r.url}/api/apps`, { headers: auth })).json()) as { apps: { guid: string; product: string }[] };
    expect(apps.find((a) => a.guid === GUID)?.product).toBe('Socorrito demo shop');
    const page = await (await fetch(`${r.url}/apps/${GUID}`, { headers: auth })).text();
    expect(page).toContain('Top crashers · Socorrito demo shop');
    expect(page).not.toContain('Top crashers · Demo');
    expect(await (await fetch(`${r.url}/`, { headers: auth })).text()).toContain('Socorrito demo shop');
    // The signature page's App breakdown names the app too, and links to the signature in it.
    const [crash] = ((await (await fetch(`${r.url}/api/search?app=${GUID}`, { headers: auth })).json()) as { items: { signature_id: string }[] }).items;
    const signature = await (await fetch(`${r.url}/signatures/${crash!.signature_id}`, { headers: auth })).text();
    expect(signature).toMatch(new RegExp(`<a href="/signatures/${crash!.signature_id}\\?app=${GUID}&amp;days=\\d+">Socorrito demo shop</a>`));
  });
});
