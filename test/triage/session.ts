import type { TestReceiver } from '../helpers/receiver.ts';

export const BEARER = { authorization: 'Bearer test-admin-token' };

function cookiesOf(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

/**
 * Logs in through the real form (with the admin token unless told another); returns the answer's
 * status, the session cookie and the CSRF token the pages' forms carry ('' without a session).
 */
export async function logIn(r: { url: string }, token = 'test-admin-token'): Promise<{ status: number; cookie: string; csrf: string }> {
  const form = await fetch(`${r.url}/login`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const response = await fetch(`${r.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: r.url, cookie: `socorrito_login=${cookiesOf(form).socorrito_login}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, csrf, next: '/' }),
  });
  const cookie = `socorrito_session=${cookiesOf(response).socorrito_session}`;
  const page = await (await fetch(`${r.url}/`, { headers: { cookie } })).text();
  return { status: response.status, cookie, csrf: /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '' };
}

/** `PUT /api/signatures/<id>/status` with the admin token. */
export function putStatus(r: TestReceiver | { url: string }, id: string, body: unknown): Promise<Response> {
  return fetch(`${r.url}/api/signatures/${encodeURIComponent(id)}/status`, {
    method: 'PUT',
    headers: { ...BEARER, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const res = await fetch(url, { headers: BEARER });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
