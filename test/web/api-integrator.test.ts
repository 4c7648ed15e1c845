import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, direct, signatureIdOf } from './crashes.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };

interface Listed {
  page: number | null;
  total: number;
  items: { crash_id: string }[];
  next: string | null;
}

// What a script that pages, deletes and reprocesses through the API trips on (a trial as an integrator).
describe('the JSON API as a script uses it', () => {
  let r: TestReceiver;
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(r.url + path, { ...init, headers: { ...BEARER, ...(init.headers as Record<string, string>) } });
    expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
    return { status: res.status, body: await res.json() };
  };
  const t0 = Date.parse('2026-11-20T12:00:00Z');

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
  });
  afterAll(() => r.stop());

  it('walks search results and a signature\'s reports with `next`, seeing each crash once while new ones arrive', async () => {
    const signature = 'Error: paged | walk';
    const early: string[] = [];
    // 55 crashes, two of them in the same millisecond (ties are ordered by crash ID).
    for (let i = 0; i < 55; i++) {
      const at = new Date(Date.now() - 3_600_000 + Math.min(i, 53) * 1000);
      early.push((await addCrash(direct(r), { signature, app: 'pager', at })).crash_id);
    }
    const sig = signatureIdOf(signature);
    for (const [first, more] of [
      ['/api/search?app=pager', (after: string) => `/api/search?app=pager&after=${after}`],
      [`/api/signatures/${sig}?days=1`, (after: string) => `/api/signatures/${sig}?days=1&after=${after}`],
    ] as const) {
      const list = (body: any): Listed => (body.reports ?? body) as Listed;
      const page1 = list((await call(first)).body);
      expect(page1.items).toHaveLength(50);
      expect(page1.next, first).toEqual(expect.any(String));
      // Three crashes arrive before the script asks for the rest: by page number it would see
      // three of page 1 again.
      for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature, app: 'pager', at: new Date() });
      expect(list((await call(`${first}&page=2`)).body).items.filter((item) => page1.items.some((seen) => seen.crash_id === item.crash_id)), 'page=2 repeats').toHaveLength(3);
      const page2 = list((await call(more(page1.next!))).body);
      expect(page2.page).toBeNull();
      expect(page2.next).toBeNull();
      const walked = [...page1.items, ...page2.items].map((item) => item.crash_id);
      expect(new Set(walked).size).toBe(walked.length);
      expect(walked.toSorted()).toEqual(early.toSorted());
      // Ready for the next round: the three newcomers are part of the list from now on.
      early.push(...list((await call(first)).body).items.slice(0, 3).map((item) => item.crash_id));
    }
  });

  it('refuses a cursor that is not one, and one given with page', async () => {
    const bad = await call('/api/search?after=2');
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual(['after must be the "next" of an earlier answer, got "2"']);
    const both = await call(`/api/search?after=${t0}.00000000-0000-4000-8000-000000261120&page=2`);
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('after and page cannot be given together');
  });

  it('refuses a misspelt parameter of DELETE /api/sourcemaps rather than deleting the whole release, and says why a delete found nothing', async () => {
    const form = new FormData();
    form.append('app', APP_GUID);
    form.append('release', '2.0');
    form.append('url', '~/static/app.js');
    form.append('file', new Blob(['function a(){}\n//# sourceMappingURL=app.js.map\n']), 'app.js');
    form.append('url', '~/static/app.js.map');
    form.append('file', new Blob(['{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA"}']), 'app.js.map');
    expect((await call('/api/sourcemaps', { method: 'POST', body: form })).status).toBe(200);

    const typo = await call(`/api/sourcemaps?app=${APP_GUID}&release=2.0&uri=~/static/app.js`, { method: 'DELETE' });
    expect(typo).toEqual({ status: 400, body: expect.objectContaining({ error: 'bad_query', problems: ['"uri" is not a parameter here; it takes app, release, url'] }) });
    const listed = await call(`/api/sourcemaps?app=${APP_GUID}&release=2.0`);
    expect(listed.body.releases[0].files).toHaveLength(2);
    expect((await call(`/api/sourcemaps?ap=${APP_GUID}`)).status).toBe(400);

    expect((await call(`/api/sourcemaps?app=${APP_GUID}&release=2.0&url=~/static/app.js`, { method: 'DELETE' })).body.deleted).toBe(1);
    const again = await call(`/api/sourcemaps?app=${APP_GUID}&release=2.0&url=~/static/app.js`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: 'not_found', message: `no file "~/static/app.js" in release "2.0" of app ${APP_GUID}`, deleted: 0 });
  });

  it('refuses an upload with a field it does not take or a replace that is not true or false, and stores nothing', async () => {
    const upload = (extra: [string, string]) => {
      const form = new FormData();
      form.append('app', APP_GUID);
      form.append('release', '3.0');
      form.append(...extra);
      form.append('url', '~/static/app.js');
      form.append('file', new Blob(['function a(){}\n']), 'app.js');
      return call('/api/sourcemaps', { method: 'POST', body: form });
    };
    const typo = await upload(['relase', '3.1']);
    expect(typo).toEqual({ status: 400, body: expect.objectContaining({ error: 'unknown_field', message: expect.stringContaining('unknown field "relase"') }) });
    const ture = await upload(['replace', 'ture']);
    expect(ture).toEqual({ status: 400, body: expect.objectContaining({ error: 'bad_replace', message: 'replace is true or false, not "ture"' }) });
    expect((await call(`/api/sourcemaps?app=${APP_GUID}&release=3.0`)).body.releases).toEqual([]);
    expect((await upload(['replace', 'false'])).status).toBe(200);
  });

  it('refuses query parameters on the forwarding registry and upload token addresses, which take none', async () => {
    for (const [method, path] of [
      ['GET', '/api/forwarding/apps'],
      ['GET', `/api/forwarding/apps/${APP_GUID}`],
      ['DELETE', `/api/forwarding/apps/${APP_GUID}`],
      ['GET', `/api/apps/${APP_GUID}/upload-tokens`],
      ['DELETE', `/api/apps/${APP_GUID}/upload-tokens/nope`],
    ] as const) {
      const refused = await call(`${path}?guid=${APP_GUID}`, { method });
      expect(refused, `${method} ${path}`).toEqual({ status: 400, body: expect.objectContaining({ error: 'bad_query', problems: ['"guid" is not a parameter here; it takes none'] }) });
    }
    expect((await call('/api/forwarding/apps')).status).toBe(200);
    expect((await call(`/api/apps/${APP_GUID}/upload-tokens`)).status).toBe(200);
  });

  it('refuses reprocess fields it does not take or cannot use, rather than reprocessing the whole app', async () => {
    const stored = await addCrash(direct(r), { signature: 'Error: reprocess me', version: '1.4.2' });
    const post = (body: unknown, query = '') =>
      call(`/api/reprocess${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const misspelt = await post({ app: APP_GUID, relase: '1.4.2' });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body).toMatchObject({ error: 'bad_request', problems: ['unknown field "relase"; it takes app, release, crash_ids, all'] });
    expect((await post({ app: APP_GUID, release: 142 })).body.problems).toEqual(['release must be a non-empty string, got 142']);
    expect((await post({ app: APP_GUID, release: '' })).status).toBe(400);
    expect((await post({ all: 'true' })).body.problems).toEqual(['all must be true or false, got "true"']);
    expect((await post({}, `?app=${APP_GUID}&relase=1.4.2`)).body.error).toBe('bad_query');

    const absent = 'bp-00000000-0000-4000-8000-000000261129';
    const none = await post({ crash_ids: [absent] });
    expect(none).toEqual({ status: 404, body: { error: 'not_found', message: `no crash named is stored here: ${absent}`, queued: 0, crash_ids: [], unknown: [absent] } });
    expect(await post({ app: APP_GUID, release: '1.4.2' })).toMatchObject({ status: 200, body: { queued: 1, crash_ids: [`bp-${stored.crash_id}`] } });
  });

  it('refuses parameters /api/crashes does not take', async () => {
    const crash = await addCrash(direct(r), { signature: 'Error: fetched' });
    expect((await call(`/api/crashes/bp-${crash.crash_id}`)).status).toBe(200);
    const extra = await call(`/api/crashes/bp-${crash.crash_id}?format=json`);
    expect(extra).toEqual({ status: 400, body: expect.objectContaining({ error: 'bad_query', problems: ['"format" is not a parameter here; it takes none'] }) });
    expect((await call(`/api/crashes/bp-${crash.crash_id}/files/upload_file_minidump?x=1`)).status).toBe(400);
  });

  it('refuses forwarding list limits and parameters it cannot use, and says why a retry did nothing', async () => {
    for (const path of ['/api/forwarding/outbox?limit=5000', '/api/forwarding/outbox?limit=abc', '/api/forwarding/failed?limit=0']) {
      const res = await call(path);
      expect(res.status, path).toBe(400);
      expect(res.body.problems[0], path).toMatch(/^limit must be a whole number from 1 to 1000, got /);
    }
    expect((await call('/api/forwarding/outbox?limit=1000')).status).toBe(200);
    const typo = await call('/api/forwarding/failed/retry?ap=someone', { method: 'POST' });
    expect(typo).toEqual({ status: 400, body: expect.objectContaining({ problems: ['"ap" is not a parameter here; it takes app'] }) });
    // No registry entry names this crash's app: there is nothing to send.
    const crash = await addCrash(direct(r), { signature: 'Error: not forwarded' });
    const retry = await call(`/api/crashes/bp-${crash.crash_id}/forwarding/retry`, { method: 'POST' });
    expect(retry.status).toBe(409);
    expect(retry.body).toMatchObject({ error: 'not_retried', retried: false });
    expect(retry.body.message).toContain('has nothing to send again');
  });

  it('answers OPTIONS with Allow, and a method a path does not take with 405 naming those it does', async () => {
    const options = await fetch(`${r.url}/api/apps`, { method: 'OPTIONS', headers: BEARER });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, HEAD, OPTIONS']);
    const post = await call('/api/apps', { method: 'POST' });
    expect(post).toEqual({ status: 405, body: { error: 'method_not_allowed', message: '/api/apps takes GET, HEAD, OPTIONS, not POST' } });
    expect((await call('/api/signatures/AAAAAAAAAAAAAAAA/status')).body.message).toBe('/api/signatures/AAAAAAAAAAAAAAAA/status takes PUT, OPTIONS, not GET');
    const patch = await fetch(`${r.url}/api/sourcemaps`, { method: 'PATCH', headers: BEARER });
    expect([patch.status, patch.headers.get('allow')]).toEqual([405, 'DELETE, GET, HEAD, POST, OPTIONS']);
    // An address no route has is still not found.
    expect(await call('/api/nothing-here')).toEqual({ status: 404, body: { error: 'not_found', message: 'no route GET /api/nothing-here' } });
  });

  it('says a + in a time zone must be encoded', async () => {
    const res = await call('/api/search?to=2026-11-30T10:00:00+01:00');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('a + in a query string means a space: send the zone as %2B01:00');
    expect((await call('/api/search?to=2026-11-30T10:00:00%2B01:00')).status).toBe(200);
  });
});
