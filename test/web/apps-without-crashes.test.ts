// An app the operator set up (registered for forwarding, given upload tokens, source maps
// uploaded) but that has not crashed yet is an app with no crashes, not a mistyped key.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from './crashes.ts';
import { setUpApps } from './set-up-apps.ts';

const run = promisify(execFile);
const BEARER = { authorization: 'Bearer test-admin-token' };
const SIGNATURE = 'TypeError: cart is undefined | total';
/** Registered for forwarding with `socorrito apps add` while the receiver runs, keeping no copy. */
const FORWARDED = 'a1111111-1111-4111-8111-111111111111';
/** Given an upload token. */
const TOKENED = 'b2222222-2222-4222-8222-222222222222';
/** With source maps (a script) uploaded. */
const MAPPED = 'c3333333-3333-4333-8333-333333333333';
const SET_UP = [FORWARDED, TOKENED, MAPPED];
const REGISTERED = APP_GUID.toUpperCase();
const TYPO = `${APP_GUID.slice(0, -1)}1`;

/** A page or API answer of `r`'s, as the admin. */
async function getFrom(r: TestReceiver, path: string, accept = 'application/json'): Promise<{ status: number; text: string }> {
  const res = await fetch(r.url + path, { headers: { ...BEARER, accept } });
  return { status: res.status, text: await res.text() };
}

describe('apps set up here with no crash yet', () => {
  let r: TestReceiver;
  const get = (path: string, accept?: string) => getFrom(r, path, accept);

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    await addCrash(direct(r), { signature: SIGNATURE, app: APP_GUID, product: 'Shop', at: daysAgo(0) });
    await setUpApps(r, { forwarded: FORWARDED, tokened: TOKENED, mapped: MAPPED }, ['--no-keep-copy']);
  }, 60_000);
  afterAll(() => r?.stop());

  it('answers their top crashers, search and signature app= with nothing, not 404', async () => {
    for (const app of SET_UP) {
      const top = await get(`/api/apps/${app}/topcrashers?days=28`);
      expect(top.status, app).toBe(200);
      expect(JSON.parse(top.text), app).toMatchObject({ app: { guid: app, product: '', kind: 'guid' }, total: 0, signatures: 0, rows: [], versions: [] });
      const search = await get(`/api/search?app=${app}`);
      expect(search.status, app).toBe(200);
      expect(JSON.parse(search.text), app).toMatchObject({ total: 0, items: [] });
      const signature = await get(`/api/signatures/${signatureIdOf(SIGNATURE)}?app=${app}`);
      expect(signature.status, app).toBe(200);
      expect(JSON.parse(signature.text), app).toMatchObject({ app, count: 0, total: 0 });
    }
  });

  it('shows their top crashers page as "no crashes yet", saying how they are set up and what to do', async () => {
    const pages = Object.fromEntries(await Promise.all(SET_UP.map(async (app) => [app, await get(`/apps/${app}`, 'text/html')] as const)));
    for (const app of SET_UP) {
      expect(pages[app]!.status, app).toBe(200);
      expect(pages[app]!.text, app).toContain('No crashes yet.');
      expect(pages[app]!.text, app).toContain(`&lt;meta name=&quot;socorrito:guid&quot; content=&quot;${app}&quot;&gt;`);
      expect(pages[app]!.text, app).not.toContain('No such app');
    }
    expect(pages[FORWARDED]!.text).toContain(
      'This app is set up here (registered for forwarding to https://crashes.blog.example/submit, keeping no copy: its crashes are listed on that receiver), but no crash',
    );
    expect(pages[TOKENED]!.text).toContain('This app is set up here (given upload tokens), but no crash');
    expect(pages[MAPPED]!.text).toContain('This app is set up here (source maps uploaded), but no crash');
    for (const path of [`/search?app=${TOKENED}`, `/signatures/${signatureIdOf(SIGNATURE)}?app=${MAPPED}`]) {
      expect((await get(path, 'text/html')).status, path).toBe(200);
    }
    // An app with crashes keeps its list.
    expect((await get(`/apps/${APP_GUID}`, 'text/html')).text).not.toContain('No crashes yet.');
  });

  it('keeps 404 for a key nothing knows, on the API and the pages', async () => {
    for (const path of [`/api/apps/${TYPO}/topcrashers`, `/api/search?app=${TYPO}`, `/api/signatures/${signatureIdOf(SIGNATURE)}?app=${TYPO}`]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text).error, path).toBe('not_found');
    }
    for (const path of [`/apps/${TYPO}`, `/search?app=${TYPO}`, `/signatures/${signatureIdOf(SIGNATURE)}?app=${TYPO}`]) {
      const res = await get(path, 'text/html');
      expect(res.status, path).toBe(404);
      expect(res.text, path).toContain(`No processed crash names the app ${TYPO}, and it is not set up here`);
    }
  });

  it('lists them on the apps page and in /api/apps with 0 crashes, after the apps that crashed, and in a walk by key', async () => {
    const api = JSON.parse((await get('/api/apps')).text) as { apps: { guid: string; total: number }[]; total: number };
    expect(api.total).toBe(4);
    expect(api.apps.map((a) => [a.guid, a.total])).toEqual([[APP_GUID, 1], ...SET_UP.map((g) => [g, 0])]);
    const walked: string[] = [];
    let after = '';
    for (let i = 0; i < 10; i++) {
      const page = JSON.parse((await get(`/api/apps?order=key&limit=1&after=${encodeURIComponent(after)}`)).text) as { apps: { guid: string }[]; next: string | null };
      walked.push(...page.apps.map((a) => a.guid));
      if (!page.next) break;
      after = page.next;
    }
    expect(walked).toEqual([APP_GUID, ...SET_UP].sort());
    const html = (await get('/', 'text/html')).text;
    for (const app of SET_UP) expect(html).toContain(`<a href="/apps/${app}">(no crashes yet)</a>`);
    // Once one crashes, it is listed as any other app, by its crashes' name.
    await addCrash(direct(r), { signature: SIGNATURE, app: TOKENED, product: 'Blog', at: daysAgo(0) });
    const after1 = JSON.parse((await get('/api/apps')).text) as { apps: { guid: string; product: string; total: number }[]; total: number };
    expect(after1.total).toBe(4);
    expect(after1.apps.find((a) => a.guid === TOKENED)).toMatchObject({ product: 'Blog', total: 1 });
    expect((await get(`/apps/${TOKENED}`, 'text/html')).text).not.toContain('No crashes yet.');
  });
});

// The forwarding registry matches a GUID without regard to case, the index by its exact text: an
// app registered as {0B6C…} whose pages declare 0b6c… has its crashes under the page's spelling.
// It is that one app, not a second one "with no crashes yet".
describe('an app registered in another case than its crashes name it', () => {
  let r: TestReceiver;
  const get = (path: string, accept?: string) => getFrom(r, path, accept);

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
      // Which spelling has the crashes: keys are matched as written.
      expect(page.text, key).toContain(`Its crashes name it ${APP_GUID}: app keys are matched as written.`);
      const api = await get(`/api/apps/${key}/topcrashers`);
      expect(api.status, key).toBe(404);
      expect(JSON.parse(api.text).message, key).toContain(`its crashes name it "${APP_GUID}" (keys are matched as written)`);
    }
  });
});
