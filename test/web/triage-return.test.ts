import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { logIn } from '../triage/session.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from './crashes.ts';

/**
 * The signature page's status, note and bug forms answer with a redirect back to the page as it
 * was (period, app, environment, page of reports) at its status section, `#triage`, which the
 * browser then focuses: a keyboard or screen reader user carries on there, not at the top.
 */
const SIGNATURE = 'TypeError: cart is undefined | total';
const ID = signatureIdOf(SIGNATURE);

/** The signature's POST forms on a page: the action and hidden `next`, as the browser sends them. */
function forms(page: string): { action: string; next: string | undefined }[] {
  const unescape = (s: string | undefined) => s?.replaceAll('&amp;', '&');
  return [...page.matchAll(/<form method="post" action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].map((m) => ({
    action: unescape(m[1])!,
    next: unescape(/name="next" value="([^"]*)"/.exec(m[2]!)?.[1]),
  })).filter((f) => f.action.startsWith('/signatures/'));
}

describe('triage forms return to the signature page\'s status section', () => {
  let r: TestReceiver;
  let session: { cookie: string; csrf: string };
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${r.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, origin: r.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: session.csrf, ...fields }),
    });

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: SIGNATURE, environment: 'production', at: daysAgo(i) });
    session = await logIn(r);
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('sends each form back to the page with its period, app, environment and page, at #triage', async () => {
    const here = `/signatures/${ID}?days=28&app=${APP_GUID}&environment=production&page=1`;
    const page = async () => {
      const res = await fetch(`${r.url}${here}`, { headers: { cookie: session.cookie } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'none'");
      return res.text();
    };
    const before = forms(await page());
    // Status and note, add a bug; the page carries its own address in each.
    expect(before.map((f) => [f.action, f.next])).toEqual([
      [`/signatures/${ID}/status`, here],
      [`/signatures/${ID}/bugs`, here],
    ]);
    const back = `${here}#triage`;
    const answers = [
      await post(`/signatures/${ID}/status`, { next: before[0]!.next!, status: 'resolved', note: 'fixed in 1.4.3' }),
      await post(`/signatures/${ID}/status`, { next: before[0]!.next!, status: 'keep', note: 'fixed in 1.4.4' }),
      await post(`/signatures/${ID}/bugs`, { next: before[1]!.next!, add: 'https://github.com/shop/web/issues/12' }),
    ];
    const withBug = forms(await page());
    // Now a Remove form for the bug too.
    expect(withBug.map((f) => f.next)).toEqual([here, here, here]);
    answers.push(await post(`/signatures/${ID}/bugs`, { next: withBug[1]!.next!, remove: 'https://github.com/shop/web/issues/12' }));
    answers.push(await post(`/signatures/${ID}/status`, { next: withBug[0]!.next!, status: 'open' }));
    for (const res of answers) expect([res.status, res.headers.get('location')]).toEqual([303, back]);
  });

  it('has one #triage on the page, the status section, which the browser can focus and screen readers name', async () => {
    const page = await (await fetch(`${r.url}/signatures/${ID}`, { headers: { cookie: session.cookie } })).text();
    expect(page.match(/id="triage"/g)).toHaveLength(1);
    expect(page).toMatch(/<section id="triage" class="triage open" tabindex="-1" aria-label="Status" aria-describedby="triage-status"><p id="triage-status"><strong class="status">Open<\/strong>/);
  });

  it('goes to the signature page\'s #triage without a next, and puts #triage in place of another fragment', async () => {
    const without = await post(`/signatures/${ID}/status`, { status: 'keep', note: '' });
    expect(without.headers.get('location')).toBe(`/signatures/${ID}#triage`);
    const fragment = await post(`/signatures/${ID}/bugs`, { next: `/signatures/${ID}?days=7#main`, add: '' });
    expect(fragment.headers.get('location')).toBe(`/signatures/${ID}?days=7#triage`);
    // Off the site: the signature's page, as before.
    const offSite = await post(`/signatures/${ID}/status`, { next: '//evil.example/x', status: 'keep', note: '' });
    expect(offSite.headers.get('location')).toBe(`/signatures/${ID}#triage`);
  });
});

describe('triage forms behind --public-url with a path', () => {
  let r: TestReceiver;
  beforeAll(async () => {
    r = await startTestReceiver({ publicUrl: 'https://tools.example.com/crashes' });
    await r.indexRebuilt;
    await addCrash(direct(r), { signature: SIGNATURE });
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('returns under the path, at #triage', async () => {
    // A Bearer client has no session and so no CSRF token to send.
    const res = await fetch(`${r.localUrl}/signatures/${ID}/status`, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ status: 'ignored', next: `/signatures/${ID}?days=7` }),
    });
    expect([res.status, res.headers.get('location')]).toEqual([303, `/crashes/signatures/${ID}?days=7#triage`]);
  });
});
