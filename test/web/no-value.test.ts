// "(none)" as a filter, end to end: crashes submitted over HTTP without an environment or a
// version are found by `environment=(none)` / `version=(none)` on the API and the pages, the
// "(none)" facet rows and menu entries link to that filter, and a real value spelt "(none)" is
// still found, as `\(none)`. Also: the API addresses that took any query parameter now refuse
// an unknown one, as the others do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { auth, waitProcessed } from '../processor/helpers.ts';

const GUID = 'none-shop-1';
/** How the pages write `(none)` and `\(none)` in a link (URLSearchParams, then HTML). */
const NONE_IN_LINK = '%28none%29';
const REAL_NONE_IN_LINK = '%5C%28none%29';

describe('filtering on "(none)"', () => {
  let r: TestReceiver;
  /** Crash IDs (without bp-) by a name for what each was sent with. */
  const ids: Record<string, string> = {};

  const submit = async (name: string, fields: Record<string, string | undefined>): Promise<void> => {
    // undefined leaves the field out.
    const sent = Object.fromEntries(Object.entries({ ...jsCrashFields({ WebAppGUID: GUID }), ...fields }).filter((e): e is [string, string] => e[1] !== undefined));
    const res = await submitCrash(`${r.url}/submit`, sent, []);
    expect(res.status, res.body).toBe(200);
    await waitProcessed(r.url, res.crashId!);
    ids[name] = res.crashId!.replace(/^bp-/, '');
  };
  const get = async (path: string, status = 200): Promise<Response> => {
    const res = await fetch(`${r.url}${path}`, { headers: auth });
    expect(res.status, path).toBe(status);
    return res;
  };
  const api = async (path: string): Promise<any> => (await get(path)).json();
  const page = async (path: string): Promise<string> => (await get(path)).text();
  const foundIds = (result: { items: { crash_id: string }[] }): string[] => result.items.map((item) => item.crash_id).sort();
  const named = (...names: string[]): string[] => names.map((n) => ids[n]!).sort();
  /** The address of the link whose text is `text` in the section of `html` headed `heading`. */
  const linkIn = (html: string, heading: string, text: string): string | undefined => {
    const section = html.slice(html.indexOf(`<h3>${heading}</h3>`));
    const match = new RegExp(`<a href="([^"]*)">${text.replace(/[()\\]/g, '\\$&')}</a>`).exec(section.slice(0, section.indexOf('</section>')));
    return match?.[1]?.replaceAll('&amp;', '&');
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    await submit('prod', { Environment: 'production', Version: '1.0' });
    await submit('prod2', { Environment: 'production', Version: '1.0' });
    await submit('bare', { Environment: undefined, Version: undefined });
    await submit('noEnv', { Environment: undefined, Version: '1.0' });
    // Real values that read "(none)": both are allowed, and must not be taken for none.
    await submit('named', { Environment: '(none)', Version: '(none)' });
  });
  afterAll(() => r?.stop());

  it('finds the crashes without an environment or a version through /api/search', async () => {
    const noEnv = await api('/api/search?environment=(none)');
    expect(foundIds(noEnv)).toEqual(named('bare', 'noEnv'));
    expect(noEnv.query.environment).toBe('');
    // Trimmed as any environment filter.
    expect(foundIds(await api(`/api/search?environment=%20${NONE_IN_LINK}%20`))).toEqual(named('bare', 'noEnv'));
    expect(foundIds(await api('/api/search?version=(none)'))).toEqual(named('bare'));
    expect(foundIds(await api(`/api/search?version=(none)&environment=${NONE_IN_LINK}`))).toEqual(named('bare'));
    // The real "(none)" is `\(none)`, and `\\(none)` a real `\(none)` (there is none).
    expect(foundIds(await api(`/api/search?environment=${REAL_NONE_IN_LINK}`))).toEqual(named('named'));
    expect(foundIds(await api(`/api/search?version=${REAL_NONE_IN_LINK}`))).toEqual(named('named'));
    expect((await api('/api/search?version=%5C%5C(none)')).total).toBe(0);
    // An empty filter is still no filter.
    expect((await api('/api/search?environment=&version=')).total).toBe(5);
    const facets = (await api('/api/search')).facets;
    expect(facets.environment).toContainEqual({ value: '', count: 2 });
    expect(facets.environment).toContainEqual({ value: '(none)', count: 1 });
  });

  it('narrows top crashers and a signature to "(none)" on the API', async () => {
    const noEnv = await api(`/api/apps/${GUID}/topcrashers?environment=(none)`);
    expect(noEnv.environment).toBe('');
    expect(noEnv.total).toBe(2);
    const noVersion = await api(`/api/apps/${GUID}/topcrashers?version=(none)`);
    expect(noVersion.version).toBe('');
    expect(noVersion.total).toBe(1);
    expect((await api(`/api/apps/${GUID}/topcrashers?environment=${REAL_NONE_IN_LINK}`)).total).toBe(1);
    expect((await api(`/api/apps/${GUID}/topcrashers`)).environment).toBeNull();

    const signatureId = (await api(`/api/crashes/${ids.bare}`)).processed.signature_id;
    const summary = await api(`/api/signatures/${signatureId}?app=${GUID}&environment=(none)`);
    expect(summary.environment).toBe('');
    expect(foundIds(summary.reports)).toEqual(named('bare', 'noEnv'));
  });

  it('offers "(none)" in the top crashers menus and keeps it in the page\'s links', async () => {
    const all = await page(`/apps/${GUID}`);
    expect(all).toContain(`<option value="(none)">(none) (2)</option>`);
    expect(all).toContain(`<option value="\\(none)">(none) (1)</option>`);
    // The version menu: the crash without one, and the real "(none)".
    expect(all).toContain(`<option value="(none)">(none) (1)</option>`);

    const html = await page(`/apps/${GUID}?environment=(none)`);
    expect(html).toContain(`<option value="(none)" selected="">(none) (2)</option>`);
    expect(html).toContain('Top crashers · Shop · no environment');
    expect(html).toContain('First seen (any env.)</th>');
    // Links out of the list stay on the crashes without an environment.
    expect(html).toContain(`&amp;environment=${NONE_IN_LINK}&amp;from=`);
    expect(html).toMatch(new RegExp(`href="/signatures/[\\w-]+\\?app=${GUID}&amp;environment=${NONE_IN_LINK}&amp;days=7"`));
    expect(html).toContain(`href="/apps/${GUID}?days=28&amp;environment=${NONE_IN_LINK}"`);

    const real = await page(`/apps/${GUID}?environment=${REAL_NONE_IN_LINK}&version=${REAL_NONE_IN_LINK}`);
    expect(real).toContain(`<option value="\\(none)" selected="">(none) (1)</option>`);
    expect(real).toContain(`&amp;environment=${REAL_NONE_IN_LINK}&amp;from=`);

    const empty = await page(`/apps/${GUID}?version=(none)&environment=production`);
    expect(empty).toContain('No crashes without a version in production in this period.');
    expect(empty).toContain(`<option value="(none)" selected="">(none) (0)</option>`);
  });

  it('links the "(none)" breakdown rows of the signature page to the crashes without one', async () => {
    const signatureId = (await api(`/api/crashes/${ids.bare}`)).processed.signature_id;
    const html = await page(`/signatures/${signatureId}?app=${GUID}`);
    const environmentLink = linkIn(html, 'Environment', '(none)');
    expect(environmentLink).toBe(`/signatures/${signatureId}?app=${GUID}&environment=${NONE_IN_LINK}&days=28`);
    const narrowed = await page(environmentLink!);
    expect(narrowed).toContain('environment <strong>(none)</strong>');
    expect(narrowed).toContain(ids.bare!);
    expect(narrowed).not.toContain(ids.prod!);
    // The search for these crashes keeps the filter.
    expect(narrowed).toContain(`&amp;environment=${NONE_IN_LINK}&amp;from=`);

    const versionLink = linkIn(html, 'Version', '(none)');
    expect(versionLink).toContain(`version=${NONE_IN_LINK}`);
    const search = await page(versionLink!);
    expect(search).toContain(ids.bare!);
    expect(search).not.toContain(ids.noEnv!);
  });

  it('links the search page\'s "(none)" facet rows to the filter and shows it back in the form', async () => {
    const html = await page('/search');
    const link = linkIn(html, 'Environment', '(none)');
    expect(link).toBe(`/search?environment=${NONE_IN_LINK}`);
    // The real "(none)" links to its own spelling.
    expect(html).toContain(`<a href="/search?environment=${REAL_NONE_IN_LINK}">(none)</a>`);
    const narrowed = await page(link!);
    expect(narrowed).toContain('name="environment" value="(none)"');
    expect(narrowed).toContain('<strong>2</strong> crashes');
    for (const id of named('bare', 'noEnv')) expect(narrowed).toContain(id);
    expect(narrowed).not.toContain(ids.named!);
    // The JSON link says the same.
    expect(narrowed).toContain(`/api/search?environment=${NONE_IN_LINK}`);
    expect(await page(`/search?version=${REAL_NONE_IN_LINK}`)).toContain('name="version" value="\\(none)"');
  });

  it('refuses unknown query parameters on the triage and stats addresses, as the rest of the API', async () => {
    const signatureId = (await api(`/api/crashes/${ids.bare}`)).processed.signature_id;
    const put = (path: string, body: unknown) =>
      fetch(`${r.url}${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const status = await put(`/api/signatures/${signatureId}/status?status=open`, { status: 'ignored' });
    expect(status.status).toBe(400);
    expect(await status.json()).toEqual(expect.objectContaining({ error: 'bad_query', problems: ['"status" is not a parameter here; it takes none'] }));
    // Refused, not applied.
    expect((await api(`/api/signatures/${signatureId}`)).status).toBe('open');
    expect((await put(`/api/signatures/${signatureId}/status`, { status: 'ignored' })).status).toBe(200);
    expect((await api(`/api/signatures/${signatureId}`)).status).toBe('ignored');

    const bugs = await put(`/api/signatures/${signatureId}/bugs?bug=1`, { bugs: ['https://bugs.example/1'] });
    expect(bugs.status).toBe(400);
    expect((await bugs.json()).error).toBe('bad_query');
    expect((await api(`/api/signatures/${signatureId}`)).bugs).toEqual([]);
    expect((await put(`/api/signatures/${signatureId}/bugs`, { bugs: ['https://bugs.example/1'] })).status).toBe(200);

    const stats = await get('/api/stats?verbose=1', 400);
    expect(await stats.json()).toEqual(expect.objectContaining({ error: 'bad_query', problems: ['"verbose" is not a parameter here; it takes none'] }));
    expect((await api('/api/stats')).collector.accepted).toBe(5);
  });
});
