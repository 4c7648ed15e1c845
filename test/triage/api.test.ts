import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_FILE } from '../../receiver/src/triage/signature-status.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, signatureIdOf } from '../web/crashes.ts';
import { BEARER, getJson, logIn, putStatus } from './session.ts';

const XSS = '<img src=x onerror=alert(1)>';
const A = 'TypeError: cart is undefined | total';
const B = 'Error: noisy extension | inject';
const C = 'RangeError: too deep | walk';
const [idA, idB, idC] = [A, B, C].map(signatureIdOf) as [string, string, string];

interface Row {
  signature: string;
  signature_id: string;
  status: string;
  regressed_at: string | null;
}
interface Top {
  total: number;
  signatures: number;
  hidden: { signatures: number; count: number };
  rows: Row[];
}

describe('resolving and ignoring signatures over HTTP', () => {
  let r: TestReceiver;
  const top = (query = '') => getJson<Top>(`${r.url}/api/apps/${APP_GUID}/topcrashers?days=7${query}`);
  const statusFile = async () => JSON.parse(await readFile(join(r.dataDir, STATUS_FILE), 'utf8')) as { signatures: Record<string, { status: string }> };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    for (let i = 0; i < 5; i++) await addCrash(direct(r), { signature: A, at: daysAgo(i % 3) });
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: B, errorType: 'Error', at: daysAgo(1) });
    for (let i = 0; i < 2; i++) await addCrash(direct(r), { signature: C, errorType: 'RangeError', at: daysAgo(2) });
  });
  afterAll(() => r?.stop());

  it('sets a status with PUT; the signature API and top crashers rows carry it; open clears it', async () => {
    expect(await getJson(`${r.url}/api/signatures/${idA}`)).toMatchObject({ signature: A, status: 'open', triage: null });
    const put = await putStatus(r, idA, { status: 'resolved', note: 'fixed in cart.ts' });
    expect(put.status).toBe(200);
    const body = (await put.json()) as { status: string; triage: { status: string; at: string; by_version: null; note: string } };
    expect(body).toMatchObject({ signature_id: idA, status: 'resolved', triage: { status: 'resolved', by_version: null, note: 'fixed in cart.ts' } });
    expect(Date.now() - Date.parse(body.triage.at)).toBeLessThan(60_000);
    // The operator's log says who changed what.
    expect(r.logs).toContain(`triage: signature ${idA} resolved (note: "fixed in cart.ts"), by the API`);
    expect(await getJson(`${r.url}/api/signatures/${idA}`)).toMatchObject({ status: 'resolved', triage: { note: 'fixed in cart.ts' } });
    const rows = (await top()).rows;
    expect(rows.find((x) => x.signature_id === idA)).toMatchObject({ status: 'resolved', regressed_at: null });
    expect(rows.find((x) => x.signature_id === idC)).toMatchObject({ status: 'open' });
    expect((await statusFile()).signatures[idA]).toMatchObject({ status: 'resolved' });

    const reopened = await putStatus(r, idA, { status: 'open' });
    expect(await reopened.json()).toEqual({ signature_id: idA, status: 'open', triage: null, ignored_by_default: null, bugs: [], carried_from: null, moved_to: [] });
    expect((await statusFile()).signatures[idA]).toBeUndefined();
    expect((await top()).rows.find((x) => x.signature_id === idA)!.status).toBe('open');
    // Reopening with a note keeps the note.
    const why = await putStatus(r, idA, { status: 'open', note: 'seen again in 2.0' });
    expect(await why.json()).toMatchObject({ status: 'open', triage: { status: 'open', note: 'seen again in 2.0' } });
    expect((await statusFile()).signatures[idA]).toMatchObject({ status: 'open', note: 'seen again in 2.0' });
    await putStatus(r, idA, { status: 'open' });
  });

  it('answers 400 listing every problem, 404 for an unknown signature, 401 without the token', async () => {
    const bad = await putStatus(r, idA, { status: 'fixed', note: 5, color: 'red' });
    expect(bad.status).toBe(400);
    const { problems } = (await bad.json()) as { problems: string[] };
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/unknown field "color"[\s\S]*status must be one of open, resolved, ignored, got "fixed"[\s\S]*note must be a string/);
    expect((await putStatus(r, idA, { status: 'ignored', in_next_release: true })).status).toBe(400);
    expect((await putStatus(r, idA, { status: 'resolved', note: 'x'.repeat(1001) })).status).toBe(400);
    const notJson = await putStatus(r, idA, '{status: resolved');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: 'bad_json' });
    const unknown = await putStatus(r, 'no-such-signature', { status: 'resolved' });
    expect(unknown.status).toBe(404);
    const anonymous = await fetch(`${r.url}/api/signatures/${idA}/status`, { method: 'PUT', body: '{"status":"ignored"}', headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${r.url}/api/apps/${APP_GUID}/topcrashers?ignored=yes`, { headers: BEARER })).status).toBe(400);
    expect((await getJson(`${r.url}/api/signatures/${idA}`)).status).toBe('open');
  });

  it('hides ignored signatures from top crashers by default, says how many, and shows them with ?ignored=1', async () => {
    expect((await putStatus(r, idB, { status: 'ignored' })).status).toBe(200);
    expect((await putStatus(r, idA, { status: 'resolved' })).status).toBe(200);
    const hidden = await top();
    expect(hidden.rows.map((x) => x.signature_id)).toEqual([idA, idC]);
    expect(hidden.hidden).toEqual({ signatures: 1, count: 3 });
    expect(hidden.signatures).toBe(2);
    expect(hidden.total).toBe(10); // the hidden crashes still count
    const shown = await top('&ignored=1');
    expect(shown.rows.map((x) => [x.signature_id, x.status])).toEqual([
      [idA, 'resolved'],
      [idB, 'ignored'],
      [idC, 'open'],
    ]);
    expect(shown.hidden).toEqual({ signatures: 0, count: 0 });

    const page = await (await fetch(`${r.url}/apps/${APP_GUID}?days=7`, { headers: BEARER })).text();
    expect(page).not.toContain(B);
    expect(page).toContain('1 ignored signature (3 crashes) hidden');
    expect(page).toContain(`href="/apps/${APP_GUID}?days=7&amp;ignored=1"`);
    expect(page).toMatch(/class="badge resolved"/);
    const all = await (await fetch(`${r.url}/apps/${APP_GUID}?days=7&ignored=1`, { headers: BEARER })).text();
    expect(all).toContain(B);
    expect(all).toMatch(/class="badge ignored"/);
    expect(all).toContain('hide ignored');
    expect((await fetch(`${r.url}/apps/${APP_GUID}?ignored=2`, { headers: BEARER })).status).toBe(400);
    await putStatus(r, idB, { status: 'open' });
    await putStatus(r, idA, { status: 'open' });
  });

  it('the signature page shows the state and a form with the CSRF token; cookie requests from another origin are refused', async () => {
    const { cookie, csrf } = await logIn(r);
    const page = await (await fetch(`${r.url}/signatures/${idC}`, { headers: { cookie } })).text();
    expect(page).toContain('<strong class="status">Open</strong>');
    expect(page).toContain(`<form method="post" action="/signatures/${idC}/status"`);
    expect(page).toContain(`<input type="hidden" name="csrf" value="${csrf}"/>`);
    expect(page).toMatch(/<button type="submit" name="status" value="resolved">/);
    // With a Bearer token there is no session and no CSRF token: no form that would be refused.
    const viaToken = await (await fetch(`${r.url}/signatures/${idC}`, { headers: BEARER })).text();
    expect(viaToken).toContain('<strong class="status">Open</strong>');
    expect(viaToken).not.toContain(`action="/signatures/${idC}/status"`);
    expect(viaToken).toContain(`PUT /api/signatures/${idC}/status`);

    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      fetch(`${r.url}/signatures/${idC}/status`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields),
      });
    expect((await post({ origin: 'http://evil.example' }, { csrf, status: 'ignored' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' }, { csrf, status: 'ignored' })).status).toBe(403);
    expect((await post({ origin: r.url }, { status: 'ignored' })).status).toBe(403);
    expect((await post({ origin: r.url }, { csrf: 'forged', status: 'ignored' })).status).toBe(403);
    const crossPut = await fetch(`${r.url}/api/signatures/${idC}/status`, {
      method: 'PUT',
      headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: '{"status":"ignored"}',
    });
    expect(crossPut.status).toBe(403);
    expect((await getJson(`${r.url}/api/signatures/${idC}`)).status).toBe('open');

    const done = await post({ origin: r.url }, { csrf, status: 'ignored', note: XSS, next: `/signatures/${idC}?days=7` });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/signatures/${idC}?days=7#triage`);
    expect(await getJson(`${r.url}/api/signatures/${idC}`)).toMatchObject({ status: 'ignored', triage: { note: XSS } });
    const after = await (await fetch(`${r.url}/signatures/${idC}?days=7`, { headers: { cookie } })).text();
    expect(after).toMatch(/<strong class="status">Ignored since \d{4}-\d\d-\d\d \d\d:\d\d UTC<\/strong>/);
    expect(after).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(after).not.toContain(XSS);

    const elsewhere = await post({ origin: r.url }, { csrf, status: 'resolved_next_release', next: '//evil.example/x' });
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.headers.get('location')).toBe(`/signatures/${idC}#triage`);
    expect(await getJson(`${r.url}/api/signatures/${idC}`)).toMatchObject({ status: 'resolved', triage: { by_version: '1.4.2', seen_versions: ['1.4.2'] } });
    const badForm = await post({ origin: r.url }, { csrf, status: 'fixed' });
    expect(badForm.status).toBe(400);
    expect(badForm.headers.get('content-type')).toMatch(/^text\/html/); // a page for the person who clicked, not JSON
    expect(await badForm.text()).toContain('status must be one of');
    const stale = await post({ origin: r.url }, { csrf: 'stale', status: 'open' });
    expect(stale.status).toBe(403);
    expect(await stale.text()).toMatch(/reload the page/);
    expect((await post({ origin: r.url }, { csrf, status: 'open' })).status).toBe(303);
    expect((await getJson(`${r.url}/api/signatures/${idC}`)).status).toBe('open');
  });
});
