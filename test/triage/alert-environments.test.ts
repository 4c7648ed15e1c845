// --alert-environments: staging's crashes are counted and shown, but only production's alert and
// reopen resolved signatures, and a signature first seen in staging is new when it reaches production.
import { expect, it } from 'vitest';
import type { AlertEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink } from '../helpers/webhook.ts';
import { waitProcessed } from '../processor/helpers.ts';
import { getJson, putStatus } from './session.ts';

it('alerts only for crashes of the environments named, and new means new to them', async () => {
  const hook = await startWebhookSink();
  const events = hook.events as AlertEvent[];
  const r = await startTestReceiver({ webhookUrl: hook.url, alertEnvironments: ['production'] });
  const submit = async (environment: string | null, stack: string): Promise<string> => {
    const fields = jsCrashFields({ JSStack: stack, ...(environment ? { Environment: environment } : {}) });
    const res = await submitCrash(`${r.url}/submit`, fields, []);
    expect(res.status).toBe(200);
    await waitProcessed(r.url, res.crashId!);
    return res.crashId!;
  };
  try {
    const cart = 'total@https://shop.example/app.js:1:10';
    await submit('staging', cart);
    await submit(null, cart);
    await submit('staging', 'resize@https://shop.example/app.js:1:500');
    // Reaching production, cart is new there.
    const first = await submit('production', cart);
    await waitFor('the alert for production', () => events.length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    expect(events.map((e) => [e.event, e.environment])).toEqual([['new_signature', 'production']]);
    const { processed } = await getJson<{ processed: { signature_id: string } }>(`${r.url}/api/crashes/${first}`);

    // Resolved: a staging crash of a new version does not reopen it; a production one does.
    expect((await putStatus(r, processed.signature_id, { status: 'resolved' })).status).toBe(200);
    await submit('staging', cart);
    expect((await getJson<{ status: string }>(`${r.url}/api/signatures/${processed.signature_id}`)).status).toBe('resolved');
    await submit('production', cart);
    await waitFor('the regression alert', () => events.length >= 2);
    expect(events[1]).toMatchObject({ event: 'regression', environment: 'production' });
    expect((await getJson<{ status: string }>(`${r.url}/api/signatures/${processed.signature_id}`)).status).toBe('open');
  } finally {
    await r.stop();
    hook.close();
  }
});
