import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, daysAgo, direct } from './crashes.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };

// Anyone can submit, so the apps list can be long (a ProductName per made-up app): it comes a page at a time.
describe('apps page and /api/apps with many apps', () => {
  let r: TestReceiver;
  const APPS = 205;
  const get = async (path: string, status = 200): Promise<string> => {
    const res = await fetch(r.url + path, { headers: BEARER });
    expect(res.status, path).toBe(status);
    return res.text();
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    // app-000 is the busiest (3 crashes this week), then app-001 (2); the rest have one, app-204's the oldest.
    for (let i = 0; i < APPS; i++) {
      const crashes = i === 0 ? 3 : i === 1 ? 2 : 1;
      for (let n = 0; n < crashes; n++) {
        await addCrash(direct(r), { signature: 's', app: `app-${String(i).padStart(3, '0')}`, product: `Product ${i}`, at: daysAgo(i < 2 ? 0 : 8 + i / 100) });
      }
    }
  }, 120_000);
  afterAll(() => r.stop());

  it('shows 100 apps a page, busiest first, with links to the quieter ones', async () => {
    const first = await get('/');
    expect(first).toContain('Apps 1–100 of 205, busiest first.');
    expect(first.indexOf('Product 0<')).toBeLessThan(first.indexOf('Product 1<'));
    expect(first).toContain('href="/?page=2"');
    expect(first).not.toContain('Product 150<');
    const last = await get('/?page=3');
    expect(last).toContain('Apps 201–205 of 205');
    expect(last).toContain('Product 204<');
    expect(last).not.toContain('Product 0<');
    expect(await get('/?page=9')).toContain('Page 9 is past the last one (3)');
    expect(await get('/?page=abc', 400)).toContain('page must be a whole number');
  });

  it('pages the API the same way and refuses what it does not take', async () => {
    const page = JSON.parse(await get('/api/apps?limit=2&page=1')) as { apps: { guid: string; count_7d: number }[]; total: number; pages: number };
    expect(page).toMatchObject({ total: APPS, pages: 103, page: 1, limit: 2 });
    expect(page.apps.map((a) => [a.guid, a.count_7d])).toEqual([
      ['app-000', 3],
      ['app-001', 2],
    ]);
    const all = JSON.parse(await get('/api/apps')) as { apps: unknown[]; limit: number };
    expect([all.apps.length, all.limit]).toEqual([100, 100]);
    expect(await get('/api/apps?limit=1001', 400)).toContain('limit must be a whole number from 1 to 1000');
    expect(JSON.parse(await get('/api/apps?pgae=2', 400)).message).toBe('"pgae" is not a parameter here; it takes page, limit, order, after');
  });

  it("offers the busiest apps in search's app list, and the one asked for by name even when it is not among them", async () => {
    const busiest = await get('/search');
    expect(busiest).toContain('>Product 0</option>');
    expect(busiest).not.toContain('>Product 204</option>');
    const asked = await get('/search?app=app-204');
    expect(asked).toMatch(/<option value="app-204" selected="">Product 204<\/option>/);
  });
});
