import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_FILE } from '../../receiver/src/triage/signature-status.ts';
import { bugLabel } from '../../receiver/src/web/triage-view.tsx';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from '../web/crashes.ts';
import { BEARER, getJson, logIn, putStatus } from './session.ts';

const A = 'TypeError: cart is undefined | total';
const idA = signatureIdOf(A);
const ISSUE = 'https://github.com/shop/web/issues/12';
const BUGZILLA = 'https://bugzilla.example/show_bug.cgi?id=1907';

const putBugs = (r: TestReceiver, id: string, body: unknown): Promise<Response> =>
  fetch(`${r.url}/api/signatures/${id}/bugs`, { method: 'PUT', headers: { ...BEARER, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('bug links on signatures', () => {
  let r: TestReceiver;

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: A, at: daysAgo(0) });
  });
  afterAll(() => r?.stop());

  it('are set with PUT, checked, kept apart from the status, and shown by the signature and top crashers APIs', async () => {
    const bad = await putBugs(r, idA, { bugs: ['javascript:alert(1)', 'not a url', 7], extra: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { problems: string[] }).problems).toEqual([
      'unknown field "extra"',
      'bugs[0]: "javascript:alert(1)" is not an http(s) URL',
      'bugs[1]: "not a url" is not an http(s) URL',
      'bugs[2]: not a string',
    ]);
    expect((await putBugs(r, 'AAAAAAAAAAAAAAAA', { bugs: [ISSUE] })).status).toBe(404);
    const ok = await putBugs(r, idA, { bugs: [ISSUE, ` ${ISSUE} `, BUGZILLA] });
    expect(await ok.json()).toEqual({ signature_id: idA, bugs: [ISSUE, BUGZILLA] });
    expect(r.logs).toContain(`triage: signature ${idA} bugs added "${ISSUE}", "${BUGZILLA}", by the API`);
    expect(await getJson(`${r.url}/api/signatures/${idA}`)).toMatchObject({ status: 'open', triage: null, bugs: [ISSUE, BUGZILLA] });
    const top = await getJson<{ rows: { signature_id: string; bugs: string[] }[] }>(`${r.url}/api/apps/${APP_GUID}/topcrashers?days=1`);
    expect(top.rows.find((row) => row.signature_id === idA)!.bugs).toEqual([ISSUE, BUGZILLA]);
    // A status change keeps them; they are on disk beside the statuses.
    await putStatus(r, idA, { status: 'resolved' });
    await putStatus(r, idA, { status: 'open' });
    expect(await getJson(`${r.url}/api/signatures/${idA}`)).toMatchObject({ bugs: [ISSUE, BUGZILLA] });
    const file = JSON.parse(await readFile(join(r.dataDir, STATUS_FILE), 'utf8')) as { signatures: object; bugs: Record<string, string[]> };
    expect(file.bugs[idA]).toEqual([ISSUE, BUGZILLA]);
    expect(file.signatures).toEqual({});
    // A link is kept as the URL parser writes it: what the page shows is where it goes.
    const odd = await putBugs(r, idA, { bugs: ['https://tracker.example/a\u202eb/12\n', 'https://me:pw@tracker.example/1'] });
    expect(((await odd.json()) as { problems: string[] }).problems).toEqual(['bugs[1]: "tracker.example" is given with a user name or password, which a link on the pages would show']);
    expect(await (await putBugs(r, idA, { bugs: ['https://tracker.example/a\u202eb/12\n'] })).json()).toMatchObject({ bugs: ['https://tracker.example/a%E2%80%AEb/12'] });
    await putBugs(r, idA, { bugs: [ISSUE, BUGZILLA] });
  });

  it('are added and removed with the signature page form, and listed by short names in top crashers', async () => {
    const { cookie, csrf } = await logIn(r);
    const form = (fields: Record<string, string>) =>
      fetch(`${r.url}/signatures/${idA}/bugs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: r.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, next: `/signatures/${idA}`, ...fields }),
      });
    const hostile = 'https://evil.example/"><script>alert(1)</script>';
    expect((await form({ add: hostile })).status).toBe(303);
    expect((await form({ remove: BUGZILLA })).status).toBe(303);
    const refused = await form({ add: 'javascript:alert(1)' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('is not an http(s) URL');
    expect((await form({ add: ISSUE, csrf: 'stale' })).status).toBe(403);
    expect(await getJson(`${r.url}/api/signatures/${idA}`)).toMatchObject({ bugs: [ISSUE, 'https://evil.example/%22%3E%3Cscript%3Ealert(1)%3C/script%3E'] });

    const page = await (await fetch(`${r.url}/signatures/${idA}`, { headers: { cookie } })).text();
    expect(page).toContain(`<a href="${ISSUE}" rel="noopener noreferrer">${ISSUE}</a>`);
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain('<a href="https://evil.example/%22%3E%3Cscript%3Ealert(1)%3C/script%3E" rel="noopener noreferrer">');
    expect(page).toMatch(/<button type="submit" name="remove" value="https:\/\/github.com\/shop\/web\/issues\/12"/);
    const top = await (await fetch(`${r.url}/apps/${APP_GUID}?days=1`, { headers: { cookie } })).text();
    expect(top).toContain(`<a class="bug" href="${ISSUE}" title="${ISSUE}" rel="noopener noreferrer"><span class="vh">filed as </span>#12</a>`);
  });

  it('are named short by what tracks them', () => {
    expect(bugLabel(ISSUE)).toBe('#12');
    expect(bugLabel('https://gitlab.example/g/p/-/issues/3')).toBe('#3');
    expect(bugLabel('https://github.com/shop/web/pull/40/')).toBe('#40');
    expect(bugLabel(BUGZILLA)).toBe('bug 1907');
    expect(bugLabel('https://shop.atlassian.net/browse/WEB-77')).toBe('WEB-77');
    expect(bugLabel('https://linear.app/shop/issue/ENG-5/checkout-fails')).toBe('ENG-5');
    expect(bugLabel('https://tracker.example/item?x=1')).toBe('tracker.example');
  });
});
