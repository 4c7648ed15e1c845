import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from './crashes.ts';

/**
 * Every data table's rows have a header cell, the one that names the row (the signature, app,
 * crash, value, day, annotation, file), so a screen reader says "TypeError: … , 12 crashes"
 * rather than a bare "12" when moving along a row (WCAG 1.3.1).
 */
const XSS = '<img src=x onerror=alert(1)>';
const SIGNATURE = 'TypeError: cart is undefined | total';
const HOSTILE = `Error: ${XSS} | render`;

type Cell = { tag: string; attrs: string; html: string };

/** Each table of a page: its class, and its body rows as cells. */
function tables(page: string): { class: string; rows: Cell[][] }[] {
  return [...page.matchAll(/<table( class="([^"]*)")?>([\s\S]*?)<\/table>/g)].map((t) => ({
    class: t[2] ?? '',
    rows: [...(/<tbody>([\s\S]*?)<\/tbody>/.exec(t[3]!)?.[1] ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
      [...row[1]!.matchAll(/<(th|td)(\s[^>]*)?>([\s\S]*?)<\/\1>/g)].map((c) => ({ tag: c[1]!, attrs: c[2] ?? '', html: c[3]! })),
    ),
  }));
}

describe('row headers in the report pages\' tables', () => {
  let r: TestReceiver;
  let crashId: string;
  const html = async (path: string) => {
    const res = await fetch(`${r.url}${path}`, { headers: { authorization: 'Bearer test-admin-token' } });
    expect(res.status, path).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 2; i++) await addCrash(direct(r), { signature: SIGNATURE, at: daysAgo(i) });
    crashId = (
      await addCrash(direct(r), {
        signature: HOSTILE,
        errorMessage: XSS,
        version: XSS,
        annotations: { Custom: XSS },
        files: { upload_file_minidump: { filename: `${XSS}.dmp`, data: new Uint8Array(3) } },
      })
    ).crash_id;
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('makes the signature cell of each top crashers row its header, escaped, with the row\'s numbers beside it', async () => {
    const [top] = tables(await html(`/apps/${APP_GUID}?days=7`)).filter((t) => t.class === 'topcrashers');
    expect(top!.rows).toHaveLength(2);
    for (const row of top!.rows) {
      // The rank, then the signature as the header, then count, share, change and the rest as data.
      expect(row.map((c) => c.tag)).toEqual(['td', 'th', 'td', 'td', 'td', 'td', 'td', 'td', 'td', 'td']);
      expect(row[1]!.attrs).toBe(' scope="row" class="sig"');
    }
    const names = top!.rows.map((row) => />([^<]*)<\/a>/.exec(row[1]!.html)![1]);
    expect(names.sort()).toEqual([`Error: &lt;img src=x onerror=alert(1)&gt; | render`, SIGNATURE]);
  });

  it('gives every row of every other data table one header, the cell that names it', async () => {
    const pages = {
      apps: '/',
      signature: `/signatures/${signatureIdOf(HOSTILE)}?days=7`,
      search: '/search?q=undefined',
      report: `/report/bp-${crashId}`,
      'search for the hostile one': `/search?q=${encodeURIComponent('img')}`,
    };
    const seen = new Set<string>();
    for (const [name, path] of Object.entries(pages)) {
      const page = await html(path);
      expect(page, name).not.toContain(XSS);
      for (const table of tables(page)) {
        seen.add(table.class || 'facet or chart');
        for (const row of table.rows) {
          // One header per row, first: the app, crash, value, day, annotation or file.
          expect(row[0], `${name}: ${JSON.stringify(row)}`).toMatchObject({ tag: 'th', attrs: expect.stringMatching(/^ scope="row"/) });
          expect(row.filter((c) => c.tag === 'th'), name).toHaveLength(1);
        }
      }
    }
    expect([...seen].sort()).toEqual(['annotations', 'facet or chart', 'files', 'reports']);
  });
});
