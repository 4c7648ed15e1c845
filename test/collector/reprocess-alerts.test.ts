import { expect, it } from 'vitest';
import type { NewSignatureEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { alertsSettled, startWebhookSink } from '../helpers/webhook.ts';
import { addCrash, daysAgo, direct } from '../web/crashes.ts';

// After an upgrade, `reprocess --all-apps` regroups old crashes under the new rules' signatures:
// the same bugs, not new ones.
it('does not announce old crashes regrouped by reprocess --all-apps as new signatures', async () => {
  const hook = await startWebhookSink();
  const r = await startTestReceiver({ webhookUrl: hook.url });
  try {
    await r.indexRebuilt;
    // Stored by an older release, under the signature its rules gave.
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: `TypeError: old rules ${i}`, errorMessage: `old ${i}`, at: daysAgo(40) });
    const res = await fetch(`${r.url}/api/reprocess`, { method: 'POST', headers: { authorization: `Bearer ${r.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ all: true }) });
    expect(res.status).toBe(200);
    await waitFor('reprocessed', () => r.processing.processor.stats.processed === 3, 30_000);
    await alertsSettled(r);
    expect((hook.events as NewSignatureEvent[]).map((e) => `${e.event} ${e.signature}`)).toEqual([]);
    // A crash processed for the first time still announces its new signature.
    expect((await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: 'really new' }), [])).status).toBe(200);
    await waitFor('the new signature announced', () => hook.events.length === 1);
  } finally {
    await r.close();
    hook.close();
  }
}, 60_000);
