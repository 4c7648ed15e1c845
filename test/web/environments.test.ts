// Environments end to end: crashes submitted over HTTP with the Environment annotation (as the
// extension sends it from socorrito:environment) are processed, indexed and shown per environment
// by top crashers, the signature page, search and the report page, pages and API alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { auth, waitProcessed } from '../processor/helpers.ts';

const GUID = 'env-shop-1';

describe('environments', () => {
  let r: TestReceiver;
  const ids: Record<string, string[]> = {};

  const submit = async (environment: string | undefined, type: string): Promise<string> => {
    const fields = jsCrashFields({ WebAppGUID: GUID, JSErrorType: type, ...(environment === undefined ? {} : { Environment: environment }) });
    const res = await submitCrash(`${r.url}/submit`, fields, []);
    expect(res.status, res.body).toBe(200);
    await waitProcessed(r.url, res.crashId!);
    (ids[environment ?? ''] ??= []).push(res.crashId!);
    return res.crashId!;
  };
  const api = async (path: string): Promise<any> => {
    const res = await fetch(`${r.url}${path}`, { headers: auth });
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const page = async (path: string): Promise<string> => {
    const res = await fetch(`${r.url}${path}`, { headers: auth });
    expect(res.status, path).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await submit('production', 'TypeError');
    await submit(' staging ', 'TypeError');
    await submit('staging', 'RangeError');
    await submit(undefined, 'TypeError');
    await submit('<b>qa</b>/x', 'TypeError');
  });
  afterAll(() => r?.stop());

  it('keeps a valid environment on the processed crash, and notes why a bad one was left out', async () => {
    const [production] = ids.production!;
    expect((await api(`/api/crashes/${production}`)).processed.environment).toBe('production');
    expect((await api(`/api/crashes/${ids[' staging ']![0]}`)).processed.environment).toBe('staging');
    const bad = (await api(`/api/crashes/${ids['<b>qa</b>/x']![0]}`)).processed;
    expect(bad.environment).toBeNull();
    expect(bad.notes).toContainEqual(expect.stringMatching(/Environment annotation is not an environment name/));

    const report = await page(`/report/${production}`);
    expect(report).toContain(`<dt>Environment</dt><dd><a href="/apps/${GUID}?environment=production">production</a></dd>`);
    // The signature link stays in the environment.
    expect(report).toMatch(new RegExp(`href="/signatures/[\\w-]+\\?app=${GUID}&amp;environment=production"`));
    // The refused value is shown as sent, escaped.
    const badReport = await page(`/report/${ids['<b>qa</b>/x']![0]}`);
    expect(badReport).toContain('&lt;b&gt;qa&lt;/b&gt;/x<span class="muted"> (left out: not an environment name, see the notes)</span>');
    expect(badReport).not.toContain('<b>qa</b>');
  });

  it('ranks top crashers in one environment or all, with the environments to choose from', async () => {
    const all = await api(`/api/apps/${GUID}/topcrashers`);
    expect(all.environment).toBeNull();
    expect(all.total).toBe(7);
    expect(all.environments).toEqual([
      { value: 'production', count: 3 },
      { value: '', count: 2 },
      { value: 'staging', count: 2 },
    ]);
    const staging = await api(`/api/apps/${GUID}/topcrashers?environment=staging`);
    expect(staging.total).toBe(2);
    expect(staging.rows.map((row: any) => row.count)).toEqual([1, 1]);
    const production = await api(`/api/apps/${GUID}/topcrashers?environment=production`);
    expect(production.rows.map((row: any) => [row.count, row.previous_count])).toEqual([[3, 0]]);

    const html = await page(`/apps/${GUID}?environment=production`);
    expect(html).toContain('<option value="production" selected="">production (3)</option>');
    expect(html).toContain('<option value="staging">staging (2)</option>');
    // First and last seen look at every environment, and say so when the list is of one.
    expect(html).toContain('First seen (any env.)</th>');
    expect(await page(`/apps/${GUID}`)).not.toContain('(any env.)');
    // Links out of the filtered list keep the environment.
    expect(html).toContain(`/signatures/${production.rows[0].signature_id}?app=${GUID}&amp;environment=production`);
    expect(html).toContain('environment=production&amp;from=');
    // An app without environments has no environment menu.
    await submitCrash(`${r.url}/submit`, jsCrashFields({ WebAppGUID: 'plain-app-1' }), []).then((res) => waitProcessed(r.url, res.crashId!));
    expect(await page('/apps/plain-app-1')).not.toContain('name="environment"');
  });

  it('narrows a signature page and search to one environment', async () => {
    const [row] = (await api(`/api/apps/${GUID}/topcrashers`)).rows.filter((row: any) => row.count === 6);
    const summary = await api(`/api/signatures/${row.signature_id}?app=${GUID}`);
    expect(summary.facets.environment).toEqual([
      { value: 'production', count: 3 },
      { value: '', count: 2 },
      { value: 'staging', count: 1 },
    ]);
    const inStaging = await api(`/api/signatures/${row.signature_id}?app=${GUID}&environment=staging`);
    expect(inStaging.count).toBe(1);
    expect(inStaging.reports.items.map((item: any) => item.crash_id)).toEqual([ids[' staging ']![0]!.replace(/^bp-/, '')]);
    const html = await page(`/signatures/${row.signature_id}?app=${GUID}&environment=staging`);
    expect(html).toMatch(/environment <strong>staging<\/strong>/);
    expect(html).toContain(`/signatures/${row.signature_id}?app=${GUID}&amp;days=28">all environments</a>`);

    // Trimmed as the receiver keeps it.
    expect((await api(`/api/search?app=${GUID}&environment=%20staging%20`)).total).toBe(2);
    const search = await api(`/api/search?app=${GUID}&environment=production`);
    expect(search.total).toBe(3);
    expect(search.items.every((item: any) => item.environment === 'production')).toBe(true);
    expect((await api(`/api/search?app=${GUID}`)).facets.environment).toEqual([
      { value: '', count: 2 },
      { value: 'staging', count: 2 },
      { value: 'production', count: 3 },
    ].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value)));
    expect(await page(`/search?environment=production`)).toContain('name="environment" value="production"');
  });
});
