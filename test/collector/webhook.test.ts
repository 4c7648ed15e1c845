import { readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { NewSignatureEvent, WebhookStats } from '../../receiver/src/notify/webhook.ts';
import { startPathProxy } from '../helpers/proxy.ts';
import { spawnReceiver, type SpawnedReceiver, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink } from '../helpers/webhook.ts';

it('tells the webhook once per new signature, with links to it', async () => {
  const hook = await startWebhookSink();
  const events = hook.events as NewSignatureEvent[];
  const r = await startTestReceiver({ webhookUrl: hook.url });
  try {
    const cart = jsCrashFields({ JSStack: 'total@https://shop.example/app.js:1:10\ncheckout@https://shop.example/app.js:1:99' });
    // Crash data cannot ping a chat channel or plant a link: <, > and & reach the chat escaped.
    const other = jsCrashFields({ ProductName: 'Shop <!here>', Environment: 'staging', JSErrorType: 'RangeError', JSErrorMessage: 'bad length', JSStack: '<!channel>&more@https://shop.example/app.js:1:500' });
    for (const fields of [cart, cart, other, cart]) expect((await submitCrash(`${r.url}/submit`, fields, [])).status).toBe(200);
    const deadline = Date.now() + 15_000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 500)); // and no third one
    expect(events.map((e) => e.error_type).sort()).toEqual(['RangeError', 'TypeError']);
    const typeError = events.find((e) => e.error_type === 'TypeError')!;
    expect(typeError).toMatchObject({ event: 'new_signature', product: 'Shop', version: '1.4.2', environment: null, app: cart.WebAppGUID });
    expect(typeError.text).toBe(`New crash signature in Shop 1.4.2: ${typeError.signature} — ${r.url}/signatures/${typeError.signature_id}`);
    expect(typeError.report_url).toMatch(new RegExp(`^${r.url}/report/bp-[0-9a-f-]{36}$`));
    const rangeError = events.find((e) => e.error_type === 'RangeError')!;
    expect(rangeError.text).not.toMatch(/[<>]/);
    expect(rangeError.text).toContain('in Shop &lt;!here&gt; 1.4.2 (staging): ');
    expect(rangeError.environment).toBe('staging');
    expect(rangeError.text).toContain('RangeError: &lt;!channel&gt;&amp;more');
    expect(rangeError.product).toBe('Shop <!here>'); // the fields stay as they are
    const page = await fetch(typeError.signature_url, { headers: { authorization: `Bearer ${r.adminToken}` } });
    expect(page.status).toBe(200);
  } finally {
    await r.stop();
    hook.close();
  }
});

it('names no domain the chat would link: a crash that names one reads the same, with its dots broken by a zero-width space', async () => {
  const hook = await startWebhookSink();
  const r = await startTestReceiver({ webhookUrl: hook.url });
  try {
    // No stack: the signature is the message, as a page that throws on purpose would have it.
    const fields = jsCrashFields({ ProductName: 'shop.example.com', Environment: 'evil.example', JSErrorType: 'Error', JSErrorMessage: 'Cannot reach api.example.com (this.app, www.evil.example)', JSStack: '' });
    expect((await submitCrash(`${r.url}/submit`, fields, [])).status).toBe(200);
    const event = await waitFor('the alert', () => hook.events[0]);
    expect(event.signature).toBe('Error: Cannot reach api.example.com (this.app, www.evil.example)');
    // Slack links a bare domain; the crash's part of the text has none left (the link to our own page is ours).
    const fromCrash = event.text.slice(0, event.text.lastIndexOf(' — '));
    expect(fromCrash).not.toMatch(/[\p{L}\p{N}_-]\.\p{L}/u);
    // It reads the same to a person, versions included.
    expect(fromCrash.replace(/\u200b/g, '')).toBe(`New crash signature in shop.example.com 1.4.2 (evil.example): ${event.signature}`);
    expect(fromCrash).toContain(' 1.4.2 ');
  } finally {
    await r.stop();
    hook.close();
  }
});

it('keeps an alert through a crash of the receiver while the chat is down, and delivers it after the restart', async () => {
  let answer = 503;
  let calls = 0;
  const events: NewSignatureEvent[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      calls++;
      if (answer < 300) events.push(JSON.parse(body) as NewSignatureEvent);
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const args = ['--webhook-url', `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`];
  const dir = await tempDir();
  const outbox = join(dir.path, 'webhook-outbox');
  const alerts = async (r: SpawnedReceiver): Promise<WebhookStats> =>
    ((await (await fetch(`${r.url}/api/stats`, { headers: { authorization: `Bearer ${r.token}` } })).json()) as { alerts: WebhookStats }).alerts;
  let r = await spawnReceiver(dir.path, args);
  try {
    const fields = jsCrashFields({ JSErrorMessage: 'said while the chat was down' });
    const sent = await submitCrash(`${r.url}/submit`, fields, []);
    expect(sent.status).toBe(200);
    await waitFor('a failed call to the chat', () => calls >= 1);
    expect(await alerts(r)).toMatchObject({ waiting: 1, delivered: 0 });
    expect(r.output()).toMatch(/webhook: http:\/\/127\.0\.0\.1:\d+\/… failed \(answered 503\); alerts wait/);
    await r.kill('SIGKILL');
    expect(await readdir(outbox)).toHaveLength(1);

    answer = 204;
    r = await spawnReceiver(dir.path, args);
    await waitFor('the alert', () => events.length === 1);
    expect(events[0]).toMatchObject({ event: 'new_signature', product: 'Shop', app: fields.WebAppGUID });
    expect(events[0]!.crash_id).toBe(sent.crashId);
    expect(r.output()).toMatch(/webhook: resuming 1 alert \(new signature \S+\) from /);
    // Delivered: nothing is left to send again at the next start.
    await waitFor('the outbox to empty', async () => (await readdir(outbox)).length === 0);
    expect(await alerts(r)).toMatchObject({ waiting: 0, delivered: 1 });
  } finally {
    await r.kill('SIGKILL');
    hook.close();
    await dir.cleanup();
  }
});

it('links to the pages under the path of the public URL, which a proxy at that path serves', async () => {
  const hook = await startWebhookSink();
  const events = hook.events as NewSignatureEvent[];
  const proxy = await startPathProxy({ prefix: '/crashes', strip: true });
  const base = `${proxy.origin}/crashes`;
  const r = await startTestReceiver({ publicUrl: base, webhookUrl: hook.url });
  proxy.forwardTo(r.port);
  try {
    expect((await submitCrash(`${base}/submit`, jsCrashFields(), [])).status).toBe(200);
    const deadline = Date.now() + 15_000;
    while (events.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const [event] = events;
    expect(event!.signature_url).toBe(`${base}/signatures/${event!.signature_id}`);
    expect(event!.text).toContain(`— ${base}/signatures/${event!.signature_id}`);
    expect(event!.report_url).toMatch(new RegExp(`^${base}/report/bp-[0-9a-f-]{36}$`));
    for (const url of [event!.signature_url, event!.report_url]) {
      expect((await fetch(url, { headers: { authorization: `Bearer ${r.adminToken}` } })).status, url).toBe(200);
    }
    expect(proxy.outside).toEqual([]);
  } finally {
    await r.stop();
    await proxy.close();
    hook.close();
  }
});

it('shows in the stats the alerts that wait in the outbox when started without --webhook-url, and says no webhook is set', async () => {
  let calls = 0;
  const hook = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(503).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const dir = await tempDir();
  const stats = async (r: { url: string; adminToken: string }): Promise<unknown> =>
    ((await (await fetch(`${r.url}/api/stats`, { headers: { authorization: `Bearer ${r.adminToken}` } })).json()) as { alerts: unknown }).alerts;
  try {
    // A run with a webhook that is down leaves its alert in the outbox.
    const withHook = await startTestReceiver({ dataDir: dir.path, webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` });
    try {
      expect((await submitCrash(`${withHook.url}/submit`, jsCrashFields({ JSErrorMessage: 'never delivered' }), [])).status).toBe(200);
      await waitFor('a failed call to the chat', () => calls >= 1);
      expect(await stats(withHook)).toEqual({ webhook: true, waiting: 1, delivered: 0, dropped: 0, left_out: 0 });
    } finally {
      await withHook.close();
    }
    expect(await readdir(join(dir.path, 'webhook-outbox'))).toHaveLength(1);
    // The next run has no --webhook-url: the alert is kept, and the stats say so.
    const without = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await stats(without)).toEqual({ webhook: false, waiting: 1, delivered: 0, dropped: 0, left_out: 0 });
      expect(calls).toBe(1);
    } finally {
      await without.close();
    }
    // Nothing waiting, nothing configured: zero, not null.
    const fresh = await startTestReceiver();
    try {
      expect(await stats(fresh)).toEqual({ webhook: false, waiting: 0, delivered: 0, dropped: 0, left_out: 0 });
    } finally {
      await fresh.stop();
    }
  } finally {
    hook.close();
    await dir.cleanup();
  }
});
