import { describe, expect, it } from 'vitest';
import { logIn } from '../triage/session.ts';
import { waitFor } from '../helpers/wait.ts';
import { api, crashesOn, perTest, registerApp, settled, submitTo, TOKEN } from './helpers.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';
const VIEWER_TOKEN = 'test-viewer-token';

const { receiver } = perTest();

/** The report page as a session (or the admin's Bearer token) sees it. */
async function reportPage(base: string, id: string, auth: { cookie: string } | 'bearer'): Promise<string> {
  const headers: Record<string, string> = auth === 'bearer' ? { authorization: `Bearer ${TOKEN}` } : { cookie: auth.cookie };
  const res = await fetch(`${base}/report/bp-${id}`, { headers });
  expect(res.status).toBe(200);
  return res.text();
}

/** Presses the report page's "Send again" as the page's form does; the answer is not followed. */
function sendAgain(base: string, id: string, session: { cookie: string }, csrf: string, origin = base): Promise<Response> {
  return fetch(`${base}/report/bp-${id}/forwarding/retry`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session.cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }),
  });
}

describe('the report page of a crash whose forward failed', () => {
  it('has a "Send again" button for a signed-in admin, which sends it and answers with the page in its new state; a viewer sees none', async () => {
    const priv = await receiver();
    const master = await receiver({ viewerToken: VIEWER_TOKEN });
    // Registered at an address that takes no crashes: the private receiver refuses the forward.
    await registerApp(master, GUID, `${priv.url}/wrong/submit`);
    const id = await submitTo(master, { WebAppGUID: GUID, JSErrorMessage: 'sent again' });
    expect(await settled(master.url, id)).toMatchObject({ state: 'failed', reason_code: 'not_a_receiver' });

    const action = `action="/report/bp-${id}/forwarding/retry"`;
    const admin = await logIn(master);
    const page = await reportPage(master.url, id, admin);
    expect(page).toContain(action);
    expect(page).toMatch(/<button[^>]*>\s*Send again\s*<\/button>/);
    expect(page).toContain(`name="csrf" value="${admin.csrf}"`);

    // Without admin rights, or without a session whose token a form could carry: no button, only how to do it.
    const viewer = await logIn(master, VIEWER_TOKEN);
    expect(viewer.status).toBe(303);
    for (const seen of [await reportPage(master.url, id, viewer), await reportPage(master.url, id, 'bearer')]) {
      expect(seen).not.toContain(action);
      expect(seen).not.toContain('Send again');
      expect(seen).toContain(`POST /api/crashes/bp-${id}/forwarding/retry`);
    }
    // Nor does pressing it anyway get anywhere: a viewer, a stale token, another site.
    expect((await sendAgain(master.url, id, viewer, viewer.csrf)).status).toBe(403);
    expect((await sendAgain(master.url, id, admin, 'stale')).status).toBe(403);
    expect((await sendAgain(master.url, id, admin, admin.csrf, 'https://evil.example')).status).toBe(403);
    expect(await crashesOn(priv)).toEqual([]);

    // The operator fixes the address and presses the button: the answer is the report page again.
    await registerApp(master, GUID, `${priv.url}/submit`);
    const pressed = await sendAgain(master.url, id, admin, admin.csrf);
    expect(pressed.status).toBe(303);
    expect(pressed.headers.get('location')).toBe(`/report/bp-${id}#forwarding`);
    const forwarded = await settled(master.url, id);
    expect(forwarded).toMatchObject({ state: 'forwarded', target: `${priv.url}/submit` });
    const after = await fetch(new URL(pressed.headers.get('location')!, master.url), { headers: { cookie: admin.cookie } });
    expect(after.status).toBe(200);
    const shown = await after.text();
    expect(shown).toContain(forwarded.remote_crash_id!);
    expect(shown).not.toContain(action);
    await waitFor('the crash on the private receiver', async () => (await crashesOn(priv)).length === 1);
    expect((await crashesOn(priv)).map((c) => c.annotations.JSErrorMessage)).toEqual(['sent again']);
    expect((await api(master.url, '/api/forwarding/failed')).body.total).toBe(0);
  });
});
