// The apps page ranks apps by their crashes, which move as crashes arrive: walking it by page
// number can show an app twice or never. By key (as /api/apps?order=key), each "next" link
// starts after the last key shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, daysAgo, direct } from './crashes.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };
const APPS = ['app-a', 'app-b', 'app-c', 'app-d', 'app-e'];

/** The app keys the apps page lists, in its order. */
function listed(html: string): string[] {
  return [...html.matchAll(/<a href="\/apps\/([^"]+)">/g)].map((m) => decodeURIComponent(m[1]!));
}

/** The page's "next →" link, as a browser would follow it; null when there is none. */
function nextLink(html: string): string | null {
  const m = /<a href="([^"]+)" rel="next">next →<\/a>/.exec(html);
  return m ? m[1]!.replaceAll('&amp;', '&') : null;
}

describe('apps page by key', () => {
  let r: TestReceiver;
  const get = async (path: string, status = 200): Promise<string> => {
    const res = await fetch(r.url + path, { headers: { ...BEARER, accept: 'text/html' } });
    expect(res.status, path).toBe(status);
    return res.text();
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    // app-e the busiest, app-a the quietest.
    for (const [i, app] of APPS.entries()) {
      for (let n = 0; n <= i; n++) await addCrash(direct(r), { signature: 's', app, product: app, at: daysAgo(0) });
    }
  });
  afterAll(() => r.stop());

  it('walks every app once, in key order, following "next" while crashes reorder the ranking', async () => {
    expect(listed(await get('/?limit=2'))).toEqual(['app-e', 'app-d']);
    const seen: string[] = [];
    let path: string | null = '/?order=key&limit=2';
    for (let i = 0; path && i < 10; i++) {
      const html = await get(path);
      expect(html).toContain('aria-current="page" href="/?order=key&amp;limit=2">by key</a>');
      seen.push(...listed(html));
      path = nextLink(html);
      // Between pages the quietest app becomes the busiest: a walk by rank would now repeat or skip.
      if (i === 0) for (let n = 0; n < 10; n++) await addCrash(direct(r), { signature: 's', app: 'app-a', product: 'app-a', at: daysAgo(0) });
    }
    expect(seen).toEqual(APPS);
    const last = await get('/?order=key&limit=2&after=app-d');
    expect(nextLink(last)).toBeNull();
    expect(last).toContain('<a href="/?order=key&amp;limit=2">← first</a>');
    expect(await get('/?after=app-e')).toContain('No app comes after app-e by key.');
  });

  it('keeps busiest first as the default and refuses what it cannot use', async () => {
    const html = await get('/');
    expect(html).toContain('aria-current="page" href="/">busiest first</a>');
    expect(listed(html)[0]).toBe('app-a');
    expect(await get('/?order=nope', 400)).toContain('order must be busiest or key');
    expect(await get('/?order=key&after=app-b&page=2', 400)).toContain('after and page cannot be given together');
  });
});

// The apps page's own links (order, next, and the busiest-first pager) stay under --public-url's path.
it('links the apps pages under the public URL path', async () => {
  const r = await startTestReceiver({ publicUrl: 'https://tools.example.com/crashes' });
  try {
    for (const app of ['app-a', 'app-b']) await addCrash(direct(r), { signature: 's', app, product: app, at: daysAgo(0) });
    const get = async (path: string): Promise<string> => (await fetch(r.localUrl + path, { headers: BEARER })).text();
    const byKey = await get('/?order=key&limit=1');
    expect(byKey).toContain('<a href="/crashes/?order=key&amp;after=app-a&amp;limit=1" rel="next">next →</a>');
    expect(await get('/?limit=1')).toContain('<a href="/crashes/?page=2&amp;limit=1" rel="next">quieter →</a>');
  } finally {
    await r.stop();
  }
});
