import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from './crashes.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };

// An integrator who mistypes an app's key must be told so, by every address about one app,
// not be answered "no crashes"; an app the receiver knows with nothing matching is still 200.
describe('an app the receiver has no crash of', () => {
  let r: TestReceiver;
  const SIGNATURE = 'TypeError: cart is undefined | total';
  const sig = signatureIdOf(SIGNATURE);
  // One character off the real GUID: what a mistyped script sends.
  const TYPO = `${APP_GUID.slice(0, -1)}1`;
  const call = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(r.url + path, { headers: BEARER });
    expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
    return { status: res.status, body: await res.json() };
  };
  const page = async (path: string): Promise<{ status: number; html: string }> => {
    const res = await fetch(r.url + path, { headers: { ...BEARER, accept: 'text/html' } });
    return { status: res.status, html: await res.text() };
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    await addCrash(direct(r), { signature: SIGNATURE, app: APP_GUID, product: 'Shop', version: '1.0', at: daysAgo(0) });
  });
  afterAll(() => r.stop());

  it('answers 404 with error and message from top crashers, search and a signature, saying where the known apps are listed', async () => {
    for (const path of [`/api/apps/${TYPO}/topcrashers`, `/api/search?app=${TYPO}`, `/api/signatures/${sig}?app=${TYPO}&days=7`]) {
      const { status, body } = await call(path);
      expect(status, path).toBe(404);
      expect(body, path).toEqual({ error: 'not_found', message: `no processed crash names the app "${TYPO}", and it is not set up here (GET /api/apps lists the apps)` });
    }
    // A key with a space pasted after it is not the app either, and the message shows the space.
    expect((await call(`/api/search?app=${APP_GUID}%20`)).body.message).toContain(`"${APP_GUID} "`);
  });

  it('still answers 200 with nothing listed for a known app whose crashes the filters leave out', async () => {
    const top = await call(`/api/apps/${APP_GUID}/topcrashers?version=9.9`);
    expect(top.status).toBe(200);
    expect(top.body).toMatchObject({ total: 0, rows: [] });
    const search = await call(`/api/search?app=${APP_GUID}&version=9.9`);
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ total: 0, items: [], next: null });
    const signature = await call(`/api/signatures/${sig}?app=${APP_GUID}&environment=nowhere`);
    expect(signature.status).toBe(200);
    expect(signature.body).toMatchObject({ count: 0, reports: { total: 0, items: [] } });
    // And with the app it lists its crash.
    expect((await call(`/api/search?app=${APP_GUID}`)).body.total).toBe(1);
  });

  it('answers the pages for it 404 too, as the top crashers page does, keeping the search form filled in', async () => {
    expect((await page(`/apps/${TYPO}`)).status).toBe(404);
    const signature = await page(`/signatures/${sig}?app=${TYPO}`);
    expect(signature.status).toBe(404);
    expect(signature.html).toContain(`No processed crash names the app ${TYPO}, and it is not set up here`);
    const search = await page(`/search?app=${TYPO}&q=cart`);
    expect(search.status).toBe(404);
    expect(search.html).toContain(`No processed crash names the app ${TYPO}, and it is not set up here`);
    expect(search.html).toMatch(new RegExp(`<option value="${TYPO}" selected[^>]*>${TYPO}</option>`));
    expect(search.html).toContain('value="cart"');
    // Known app, nothing matching: the pages answer as before.
    expect((await page(`/signatures/${sig}?app=${APP_GUID}&environment=nowhere`)).status).toBe(200);
    const none = await page(`/search?app=${APP_GUID}&version=9.9`);
    expect(none.status).toBe(200);
    expect(none.html).toContain('No crash matches.');
  });

  it('shows a hostile app key as text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const search = await page(`/search?app=${encodeURIComponent(hostile)}`);
    expect(search.status).toBe(404);
    expect(search.html).not.toContain(hostile);
    expect(search.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const signature = await page(`/signatures/${sig}?app=${encodeURIComponent(hostile)}`);
    expect(signature.status).toBe(404);
    expect(signature.html).not.toContain(hostile);
  });
});

// What /api/search repeats of its query: a script reads the filters back from it.
describe('the query a search answer repeats', () => {
  let r: TestReceiver;
  const call = async (path: string): Promise<any> => (await fetch(r.url + path, { headers: BEARER })).json();

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: 'Error: echoed', app: APP_GUID, urlPath: '/caf%C3%A9', at: daysAgo(0) });
  });
  afterAll(() => r.stop());

  it('gives the filters as used, dates in ISO, and the page, or after a cursor the cursor and no page number', async () => {
    const first = await call(`/api/search?app=${APP_GUID}&version=(none)&url=${encodeURIComponent('/café')}&from=2026-11-01&to=2026-11-29`);
    expect(first.query).toEqual({ app: APP_GUID, version: '', url: '/caf%C3%A9', from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z', page: 1 });
    expect(first.page).toBe(1);
    const all = await call(`/api/search?app=${APP_GUID}&environment=%20(none)`);
    expect(all.query).toEqual({ app: APP_GUID, environment: '', page: 1 });
    const cursor = `${Date.now() + 60_000}.00000000-0000-4000-8000-000000000000`;
    const after = await call(`/api/search?app=${APP_GUID}&after=${cursor}`);
    expect(after.query).toEqual({ app: APP_GUID, after: cursor });
    expect([after.page, after.total, after.items.length]).toEqual([null, 3, 3]);
  });
});

interface AppsAnswer {
  apps: { guid: string; count_7d: number }[];
  total: number;
  page: number | null;
  pages: number;
  limit: number;
  next?: string | null;
}

// The busiest-first ranking moves as crashes arrive, so a script listing every app walks by key.
describe('/api/apps walked with next while apps gain crashes', () => {
  let r: TestReceiver;
  const call = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(r.url + path, { headers: BEARER });
    return { status: res.status, body: await res.json() };
  };
  const keys = ['app-a', 'app-b', 'app-c', 'app-d', 'app-e', 'product:Zoë 🦊', '-'];

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    // app-a the busiest, the others one crash each.
    for (const app of keys) {
      for (let n = 0; n < (app === 'app-a' ? 5 : 1); n++) await addCrash(direct(r), { signature: `Error: ${app}`, app, at: daysAgo(1) });
    }
  });
  afterAll(() => r.stop());

  it('lists every app exactly once, in key order, however crashes reorder the ranking between pages', async () => {
    const first = await call('/api/apps?order=key&limit=3');
    expect(first.status).toBe(200);
    const page1 = first.body as AppsAnswer;
    expect(page1).toMatchObject({ total: keys.length, page: 1, pages: 3, limit: 3 });
    expect(page1.next).toBe(page1.apps[2]!.guid);
    // The apps not listed yet become the busiest, and a new app arrives before the cursor.
    for (const app of ['app-d', 'app-e', 'app-c']) for (let n = 0; n < 10; n++) await addCrash(direct(r), { signature: `Error: ${app}`, app, at: daysAgo(0) });
    await addCrash(direct(r), { signature: 'Error: 0', app: '0-new', at: daysAgo(0) });
    const walked = [...page1.apps];
    let answer = page1;
    while (answer.next) {
      const next = await call(`/api/apps?after=${encodeURIComponent(answer.next)}&limit=3`);
      expect(next.status, answer.next).toBe(200);
      answer = next.body as AppsAnswer;
      expect(answer.page).toBeNull();
      walked.push(...answer.apps);
    }
    expect(answer.next).toBeNull();
    // Each app once, sorted as SQLite sorts text (its UTF-8 bytes), the newcomer before the cursor not among them.
    expect(walked.map((a) => a.guid)).toEqual(keys.toSorted((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(walked.find((a) => a.guid === 'app-d')!.count_7d).toBe(11);
    // Busiest first, by page number, the same change would have shown app-d twice: it is still the order pages use.
    expect(((await call('/api/apps?limit=3')).body as AppsAnswer).apps.map((a) => a.guid)).toEqual(['app-c', 'app-d', 'app-e']);
  });

  it('refuses a cursor with a page number or with the busiest-first order, and an order it does not know', async () => {
    expect((await call('/api/apps?after=app-b&page=2')).body.problems).toEqual(['after and page cannot be given together: after already says where the page starts']);
    expect((await call('/api/apps?after=app-b&order=busiest')).body.problems).toEqual(['after walks the apps by key: give it without order, or with order=key']);
    const bad = await call('/api/apps?order=name');
    expect([bad.status, bad.body.problems]).toEqual([400, ['order must be busiest or key, got "name"']]);
    // Busiest first answers have no cursor to give.
    expect((await call('/api/apps')).body.next).toBeUndefined();
    // An empty cursor starts the walk by key, as order=key does: a script's first call may send its empty cursor.
    const fromStart = (await call('/api/apps?after=&limit=3')).body as AppsAnswer;
    expect(fromStart).toEqual((await call('/api/apps?order=key&limit=3')).body);
  });
});
