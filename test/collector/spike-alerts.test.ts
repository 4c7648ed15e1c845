import { expect, it } from 'vitest';
import type { SpikeEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { waitProcessed } from '../processor/helpers.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink } from '../helpers/webhook.ts';

it('tells the webhook when a signature spikes in an app, once, and not for a backlog that arrives late', async () => {
  const hook = await startWebhookSink();
  const { events } = hook;
  const r = await startTestReceiver({ webhookUrl: hook.url, spikeAlerts: 4 });
  try {
    const now = String(Math.floor(Date.now() / 1000));
    const loop = jsCrashFields({ JSStack: 'poll@https://shop.example/app.js:1:10\nstart@https://shop.example/app.js:1:99', CrashTime: now });
    // Queued by a client for three hours (the receiver was down): late news, not a spike.
    const late = jsCrashFields({
      JSErrorType: 'RangeError',
      JSStack: 'resize@https://shop.example/app.js:1:500',
      CrashTime: String(Math.floor(Date.now() / 1000) - 3 * 3600),
    });
    for (let i = 0; i < 6; i++) expect((await submitCrash(`${r.url}/submit`, late, [])).status).toBe(200);
    for (let i = 0; i < 7; i++) expect((await submitCrash(`${r.url}/submit`, loop, [])).status).toBe(200);
    await waitFor('three alerts', () => events.length >= 3);
    await new Promise((res) => setTimeout(res, 500)); // and no more
    expect(events.map((e) => `${e.event} ${e.error_type}`).sort()).toEqual(['new_signature RangeError', 'new_signature TypeError', 'spike TypeError']);
    const spike = events.find((e): e is SpikeEvent => e.event === 'spike')!;
    expect(spike).toMatchObject({ count: 4, usual_per_hour: 0, product: 'Shop', app: loop.WebAppGUID });
    expect(spike.text).toBe(`Spike: 4 crashes in the last hour of ${spike.signature} in Shop 1.4.2 (none in the week before) — ${r.url}/signatures/${spike.signature_id}`);
  } finally {
    await r.stop();
    hook.close();
  }
});

it('goes on after a restart: the last hour still counts, and a signature that alerted stays quiet', async () => {
  const hook = await startWebhookSink();
  const spikes = () => hook.events.filter((e): e is SpikeEvent => e.event === 'spike');
  const dir = await tempDir();
  const now = () => String(Math.floor(Date.now() / 1000));
  const a = () => jsCrashFields({ JSStack: 'poll@https://shop.example/app.js:1:10', CrashTime: now() });
  const b = () => jsCrashFields({ JSErrorType: 'RangeError', JSStack: 'resize@https://shop.example/app.js:1:500', CrashTime: now() });
  const submitAll = async (url: string, fields: () => Record<string, string>, n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await submitCrash(`${url}/submit`, fields(), []);
      expect(res.status).toBe(200);
      ids.push(res.crashId!);
    }
    return ids;
  };
  try {
    let r = await startTestReceiver({ dataDir: dir.path, webhookUrl: hook.url, spikeAlerts: 4 });
    await submitAll(r.url, a, 4);
    const bIds = await submitAll(r.url, b, 2);
    await waitFor('the first spike', () => spikes().length === 1);
    for (const id of bIds) await waitProcessed(r.url, id);
    await r.stop();

    r = await startTestReceiver({ dataDir: dir.path, webhookUrl: hook.url, spikeAlerts: 4 });
    try {
      // Two more of b make four in the hour, counting the two from before the restart.
      await submitAll(r.url, b, 2);
      await waitFor('the spike of b', () => spikes().length === 2);
      expect(spikes()[1]).toMatchObject({ error_type: 'RangeError', count: 4 });
      // a already alerted: the restart does not make it alert again.
      const [more] = await submitAll(r.url, a, 1);
      await waitProcessed(r.url, more!);
      await new Promise((res) => setTimeout(res, 500));
      expect(spikes().map((e) => e.error_type)).toEqual(['TypeError', 'RangeError']);
    } finally {
      await r.stop();
    }
  } finally {
    hook.close();
    await dir.cleanup();
  }
});
