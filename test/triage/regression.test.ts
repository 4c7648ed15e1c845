import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewSignatureEvent, RegressionEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook.ts';
import { BEARER, getJson, putStatus } from './session.ts';

type Event = NewSignatureEvent | RegressionEvent;

const CART = jsCrashFields({ JSStack: 'total@https://shop.example/app.js:1:10\ncheckout@https://shop.example/app.js:1:99' });
const NOISE = jsCrashFields({ JSErrorType: 'RangeError', JSErrorMessage: 'bad length', JSStack: 'resize@https://shop.example/app.js:1:500' });

describe('regressions of resolved signatures', () => {
  let hook: WebhookSink;
  let r: TestReceiver;
  let events: Event[] = [];
  let markers = 0;

  beforeAll(async () => {
    hook = await startWebhookSink();
    events = hook.events as Event[];
    r = await startTestReceiver({ webhookUrl: hook.url });
  });
  afterAll(async () => {
    await r?.stop();
    hook?.close();
  });

  const submit = async (fields: Record<string, string>): Promise<void> => {
    expect((await submitCrash(`${r.url}/submit`, fields, [])).status).toBe(200);
  };
  const total = async (id: string): Promise<number> => {
    const res = await fetch(`${r.url}/api/signatures/${id}?days=1`, { headers: BEARER });
    return res.status === 200 ? ((await res.json()) as { total: number }).total : 0;
  };
  /** Submits a crash with a signature never seen before and waits for its webhook call: calls made before it have been sent. */
  const drainWebhook = async (): Promise<void> => {
    const stack = `marker${++markers}@https://shop.example/app.js:1:${markers}`;
    await submit(jsCrashFields({ JSErrorType: 'Error', JSErrorMessage: `marker ${markers}`, JSStack: stack }));
    await waitFor(`the webhook call for marker ${markers}`, async () =>
      events.some((e) => e.event === 'new_signature' && e.signature.includes(`marker${markers}`)),
    );
  };
  const regressions = () => events.filter((e): e is RegressionEvent => e.event === 'regression');

  it('a crash submitted after the resolution reopens the signature and fires exactly one regression webhook', async () => {
    await submit(CART);
    await submit(NOISE);
    const first = await waitFor('the new signature events', async () => events.length >= 2 && events);
    const cart = first.find((e) => e.error_type === 'TypeError')!;
    const noise = first.find((e) => e.error_type === 'RangeError')!;

    const resolved = await putStatus(r, cart.signature_id, { status: 'resolved', note: 'fixed total()' });
    expect(resolved.status).toBe(200);
    expect((await putStatus(r, noise.signature_id, { status: 'ignored' })).status).toBe(200);

    for (let i = 0; i < 3; i++) await submit({ ...CART, Version: '1.4.3' });
    for (let i = 0; i < 2; i++) await submit(NOISE);
    await waitFor('the new crashes to be processed', async () => (await total(cart.signature_id)) === 4 && (await total(noise.signature_id)) === 3);
    await drainWebhook();

    expect(regressions()).toHaveLength(1);
    const [regression] = regressions();
    expect(regression).toMatchObject({ event: 'regression', signature_id: cart.signature_id, product: 'Shop', version: '1.4.3', app: CART.WebAppGUID });
    expect(regression!.text).toBe(`Regression: ${cart.signature} in Shop 1.4.3 — ${r.url}/signatures/${cart.signature_id}`);
    expect(regression!.report_url).toMatch(new RegExp(`^${r.url}/report/bp-[0-9a-f-]{36}$`));
    expect(events.filter((e) => e.event === 'new_signature' && e.signature_id === cart.signature_id)).toHaveLength(1);

    const state = await getJson<{ status: string; triage: { regressed_at: string; regressed_by: string; note: string } }>(
      `${r.url}/api/signatures/${cart.signature_id}`,
    );
    expect(state).toMatchObject({ status: 'open', triage: { status: 'open', note: 'fixed total()' } });
    expect(Date.parse(state.triage.regressed_at)).toBeGreaterThan(Date.parse(regression!.submitted_at) - 1);
    expect(`bp-${state.triage.regressed_by}`).toBe(regression!.crash_id);
    // The ignored signature stays ignored and quiet.
    expect((await getJson(`${r.url}/api/signatures/${noise.signature_id}`)).status).toBe('ignored');

    const top = await (await fetch(`${r.url}/apps/${CART.WebAppGUID}?days=1`, { headers: BEARER })).text();
    expect(top).toMatch(/class="badge regressed"/);
    const signaturePage = await (await fetch(`${r.url}/signatures/${cart.signature_id}`, { headers: BEARER })).text();
    expect(signaturePage).toMatch(/<strong class="status">Regressed at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(resolved at [^)]+\)<\/strong>/);
  });

  it('resolved in the next release: only a crash from a version not seen so far regresses it', async () => {
    const cartId = regressions()[0]!.signature_id;
    const put = await putStatus(r, cartId, { status: 'resolved', in_next_release: true });
    const body = (await put.json()) as { triage: { by_version: string; seen_versions: string[] } };
    expect(body.triage.by_version).toBe('1.4.3');
    expect(body.triage.seen_versions.sort()).toEqual(['1.4.2', '1.4.3']);

    await submit(CART); // 1.4.2: an old release still in use
    await waitFor('the old release crash to be processed', async () => (await total(cartId)) === 5);
    await drainWebhook();
    expect(regressions()).toHaveLength(1);
    expect((await getJson(`${r.url}/api/signatures/${cartId}`)).status).toBe('resolved');

    await submit({ ...CART, Version: '1.5.0' });
    await waitFor('the regression in 1.5.0', async () => regressions().length === 2);
    expect(regressions()[1]).toMatchObject({ version: '1.5.0', text: expect.stringMatching(/^Regression: .* in Shop 1\.5\.0 — /) });
    expect((await getJson(`${r.url}/api/signatures/${cartId}`)).status).toBe('open');

    // The release it names is the newest one seen, not the version of the newest crash.
    await submit(CART); // 1.4.2 again
    await waitFor('the 1.4.2 crash to be processed', async () => (await total(cartId)) === 7);
    const again = (await (await putStatus(r, cartId, { status: 'resolved', in_next_release: true })).json()) as { triage: { by_version: string } };
    expect(again.triage.by_version).toBe('1.5.0');
    const page = await (await fetch(`${r.url}/signatures/${cartId}`, { headers: BEARER })).text();
    expect(page).toContain('in the next release after 1.5.0');
  });
});
