import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, appFrame, daysAgo, direct, signatureIdOf } from './crashes.ts';

/**
 * What screen reader and keyboard users get from the report pages' markup (WCAG 2.2 AA): which
 * period is shown, what the breakdown numbers are, which source line crashed, the daily counts
 * behind the chart, and where a search went wrong.
 */
const SIGNATURE = 'TypeError: cart is undefined | total';

describe('report pages for screen readers', () => {
  let r: TestReceiver;
  let crashId: string;
  const auth = () => ({ authorization: `Bearer ${r.adminToken}` });
  const html = async (path: string) => (await fetch(`${r.url}${path}`, { headers: auth() })).text();

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) {
      crashId = (
        await addCrash(direct(r), {
          signature: SIGNATURE,
          at: daysAgo(i),
          frames: [appFrame('total', 'src/cart.ts', 12)],
          files: { extra_log: { filename: 'console.txt', data: new Uint8Array(3) } },
        })
      ).crash_id;
    }
    await fetch(`${r.url}/api/signatures/${signatureIdOf(SIGNATURE)}/bugs`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ bugs: ['https://github.com/shop/web/issues/12'] }),
    });
    // 51 signatures in all, so top crashers offers its lengths (Top 50, 100, 300).
    for (let i = 0; i < 50; i++) await addCrash(direct(r), { signature: `Error: other ${i}`, errorMessage: `other ${i}` });
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('marks the period shown among the period links with aria-current (1.3.1, 4.1.2), not by bold alone', async () => {
    const top = await html(`/apps/${APP_GUID}?days=7`);
    expect(top).toMatch(/<a[^>]*aria-current="page"[^>]*>7 days<\/a>/);
    // One in each list: the period, and the list's length (Top 50 of 51 signatures).
    expect(top.match(/aria-current="page"/g)).toHaveLength(2);
    expect(top).toMatch(/<nav class="tabs" aria-label="rows">[^]*<a aria-current="page"[^>]*>50<\/a>/);
    const signature = await html(`/signatures/${signatureIdOf(SIGNATURE)}?days=7`);
    expect(signature).toMatch(/aria-current="page"[^>]*>7 days</);
    expect(signature.match(/aria-current="page"/g)).toHaveLength(1);
    // The style follows the attribute: no class left to mark the current one for the eye alone.
    expect(top + signature).not.toContain('class="on"');
  });

  it('gives each breakdown table header cells, so "4" and "40.0%" are read as crashes and share (1.3.1)', async () => {
    const headers = (page: string) =>
      [...page.matchAll(/<section class="facet"><h3>([^<]*)<\/h3><table>([\s\S]*?)<\/table>/g)].map(([, title, table]) => ({
        title,
        columns: [...table!.matchAll(/<th scope="col"[^>]*>(?:<span class="vh">)?([^<]*)/g)].map((m) => m[1]),
      }));
    const signature = headers(await html(`/signatures/${signatureIdOf(SIGNATURE)}?days=7`));
    expect(signature.length).toBe(7);
    for (const facet of signature) expect(facet.columns).toEqual([facet.title, 'Crashes', 'Share']);
    const search = headers(await html('/search?q=cart'));
    expect(search.length).toBe(8);
    for (const facet of search) expect(facet.columns).toEqual([facet.title, 'Crashes']);
  });

  it('says in text which line of the source context crashed, not only with a yellow background (1.3.1, 1.4.1)', async () => {
    const page = await html(`/report/bp-${crashId}`);
    const hit = /<div class="hit">([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '';
    expect(hit).toContain('return cart.total + shipping;');
    expect(hit).toMatch(/<span class="vh">crash line <\/span>/);
  });

  it('offers the per-day counts behind the signature chart as text (1.1.1: the bars are inside role="img")', async () => {
    const page = await html(`/signatures/${signatureIdOf(SIGNATURE)}?days=7`);
    // A day in the middle of the period with no crash: the chart's bar titles name it, but they
    // are inside the role="img" SVG, hidden from assistive technology. The table says it had 0.
    const quietDay = daysAgo(4).toISOString().slice(0, 10);
    expect(page).toContain(quietDay);
    const outsideSvg = page.replace(/<svg[\s\S]*?<\/svg>/g, '');
    expect(outsideSvg).toMatch(new RegExp(`<th scope="col"[^>]*>Crashes</th>[\\s\\S]*<th scope="row">${quietDay}</th><td class="num">0</td>`));
  });
  it('puts a search problem before the form and marks the field that has it (3.3.1)', async () => {
    const res = await fetch(`${r.url}/search?from=yesterday`, { headers: auth() });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page.indexOf('role="alert"')).toBeGreaterThan(-1);
    expect(page.indexOf('role="alert"')).toBeLessThan(page.indexOf('<form class="filters"'));
    expect(page).toContain('<div class="error" role="alert" id="search-errors">');
    // The field at fault points to the problem; the others are not marked.
    expect(page).toMatch(/<input type="text" name="from" value="yesterday"[^>]* aria-invalid="true" aria-describedby="search-errors"/);
    expect(page.match(/aria-invalid=/g)).toHaveLength(1);
    expect(page).toContain('<title>Search (1 problem) · Socorrito</title>');
    const two = await (await fetch(`${r.url}/search?from=2026-11-29&to=2026-11-28`, { headers: auth() })).text();
    expect(two).toMatch(/name="from"[^>]* aria-invalid="true"/);
    expect(two).toMatch(/name="to"[^>]* aria-invalid="true"/);
  });
  it('starts every page with a link that skips the top bar to the main content (2.4.1)', async () => {
    for (const path of ['/', `/apps/${APP_GUID}`, `/signatures/${signatureIdOf(SIGNATURE)}`, `/report/bp-${crashId}`, '/search']) {
      const page = await html(path);
      expect(page, path).toMatch(/<body><a class="skip" href="#main">Skip to content<\/a><header/);
      expect(page, path).toContain('<main id="main">');
    }
    // Search also skips its breakdowns' links, up to 80 of them.
    expect(await html('/search?q=cart')).toMatch(/<a href="#results">[^]*<h2 id="results">Results<\/h2>/);
  });

  it('names links by what they are: a bug link, a download, a sparkline without the signature said beside it', async () => {
    const top = await html(`/apps/${APP_GUID}?days=7`);
    // "#12" alone did not say what it is.
    expect(top).toMatch(/<a class="bug" href="https:\/\/github.com\/shop\/web\/issues\/12"[^>]*><span class="vh">filed as <\/span>#12<\/a>/);
    // The row's link says the signature; its sparkline said it again before its numbers.
    const sparks = [...top.matchAll(/<svg class="spark"[^>]* aria-label="([^"]*)"/g)].map((m) => m[1]);
    expect(sparks).toContain(`3 crashes from ${daysAgo(6).toISOString().slice(0, 10)} to ${new Date().toISOString().slice(0, 10)}`);
    for (const label of sparks) expect(label).toMatch(/^\d+ crash(es)? from /);
    const report = await html(`/report/bp-${crashId}`);
    expect(report).toContain(`<a href="/report/bp-${crashId}/files/extra_log" download="">extra_log<span class="vh"> (download)</span></a>`);
  });

  it('offers no Apps or Search links on the login page, where they lead back to it', async () => {
    const login = await (await fetch(`${r.url}/login`)).text();
    expect(login).toMatch(/<header class="top"><a class="brand" href="\/">Socorrito<\/a><\/header>/);
    expect(await html('/')).toMatch(/<header class="top"><a class="brand" href="\/">Socorrito<\/a><a href="\/">Apps<\/a><a href="\/search">Search<\/a>/);
  });
});
