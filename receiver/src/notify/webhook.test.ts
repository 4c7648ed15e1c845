import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFsOps } from '../storage/durable.ts';
import type { ProcessedCrash } from '../storage/types.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import { AlertOutbox, newAlertId, type WaitingAlert } from './alert-outbox.ts';
import { chatText, type NewSignatureEvent, NewSignatureWebhook, openWebhook, WEBHOOK_EVENTS_PER_MINUTE, type WebhookOptions } from './webhook.ts';

describe('chatText', () => {
  it('leaves crash data nothing a chat would ping, link or render as an image', () => {
    const text = chatText('@channel @all [Reset your password](https://evil.example/login) ![x](https://evil.example/t.png) www.evil.example <!here> a&b');
    for (const live of ['@channel', '@all', '](', '![', 'https://', 'www.', '<!here>', '&b']) expect(text, live).not.toContain(live);
    // It still reads the same to a person.
    expect(text.replace(/\u200b/g, '')).toBe('@channel @all [Reset your password](https://evil.example/login) ![x](https://evil.example/t.png) www.evil.example &lt;!here&gt; a&amp;b');
  });
});

describe('NewSignatureWebhook', () => {
  it('sends at most 20 events a minute, and the next one says how many were left out', async () => {
    const sent: { text: string; left_out?: number }[] = [];
    const clock = { now: 0 };
    const logs: string[] = [];
    const hook = new NewSignatureWebhook({
      url: 'https://hooks.example/x',
      receiverUrl: () => 'https://crashes.example',
      log: (l) => logs.push(l),
      now: () => clock.now,
      fetch: (async (_url: string, init: RequestInit) => {
        sent.push(JSON.parse(init.body as string));
        return new Response('ok');
      }) as typeof fetch,
    });
    const crash = (i: number) => ({ crash_id: `c${i}`, signature: `Error: made-up ${i}`, signature_id: `s${i}`, product: 'Shop', version: null, app_guid: null, error_type: 'Error', submitted_at: '' }) as unknown as ProcessedCrash;
    for (let i = 0; i < WEBHOOK_EVENTS_PER_MINUTE + 5; i++) hook.notify(crash(i));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toHaveLength(WEBHOOK_EVENTS_PER_MINUTE);
    expect(logs).toEqual([`webhook: more than ${WEBHOOK_EVENTS_PER_MINUTE} events in a minute; the next ones are counted, not sent, until fewer than that were sent in the last minute`]);
    clock.now += 60_000;
    hook.notify(crash(99));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.at(-1)).toMatchObject({ left_out: 5, text: expect.stringMatching(/\(and 5 more events not sent: over 20 a minute\)$/) });
  });
});

const crash = (i: number): ProcessedCrash =>
  ({ crash_id: `c${i}`, signature: `Error: made-up ${i}`, signature_id: `s${i}`, product: 'Shop', version: '1.0', app_guid: null, error_type: 'Error', submitted_at: '' }) as unknown as ProcessedCrash;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real chat endpoint on a loopback port: it answers `status` (changeable) and keeps what it was sent. */
async function chat(status = 204, onCall: () => unknown = () => undefined): Promise<{ url: string; status: number; calls: number; events: NewSignatureEvent[] }> {
  const state = { url: '', status, calls: 0, events: [] as NewSignatureEvent[] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      state.calls++;
      await onCall();
      if (state.status < 300) state.events.push(JSON.parse(body) as NewSignatureEvent);
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/s3cr3t`;
  cleanups.push(() => new Promise((r) => server.close(r)));
  return state;
}

/** A temp data dir with its tmp folder, and a webhook over its outbox (stopped after the test). */
async function dataDir(): Promise<{ path: string; tmp: string; outboxDir: string; hook: (o: Partial<WebhookOptions> & { url: string }) => Promise<{ hook: NewSignatureWebhook; logs: string[] }> }> {
  const path = await mkdtemp(join(tmpdir(), 'socorrito-webhook-'));
  cleanups.push(() => rm(path, { recursive: true, force: true }));
  const tmp = join(path, 'tmp');
  await mkdir(tmp);
  return {
    path,
    tmp,
    outboxDir: join(path, 'webhook-outbox'),
    async hook(options) {
      const logs: string[] = [];
      const hook = new NewSignatureWebhook({ receiverUrl: () => 'https://crashes.example', log: (l) => logs.push(l), outbox: new AlertOutbox(path, tmp), ...options });
      cleanups.push(() => hook.stop());
      await hook.start();
      return { hook, logs };
    },
  };
}

/** An alert as a run before this one would have left it, made `agoMs` ago. */
function leftBehind(agoMs: number, signatureId: string): WaitingAlert {
  const at = Date.now() - agoMs;
  const event: NewSignatureEvent = {
    event: 'new_signature',
    text: `New crash signature: Error: ${signatureId}`,
    signature: `Error: ${signatureId}`,
    signature_id: signatureId,
    app: null,
    product: null,
    version: null,
    environment: null,
    error_type: 'Error',
    crash_id: 'bp-00000000-0000-0000-0000-000000260101',
    signature_url: `https://crashes.example/signatures/${signatureId}`,
    report_url: 'https://crashes.example/report/bp-00000000-0000-0000-0000-000000260101',
    submitted_at: new Date(at).toISOString(),
  };
  return { id: newAlertId(at), queued_at: new Date(at).toISOString(), event };
}

describe('the webhook outbox', () => {
  it('has the alert on disk before the first call, and nothing once the webhook took it', async () => {
    const dir = await dataDir();
    const onDiskAtCall: string[][] = [];
    const endpoint = await chat(204, async () => onDiskAtCall.push(await readdir(dir.outboxDir)));
    const { hook } = await dir.hook({ url: endpoint.url });
    hook.notify(crash(1));
    await waitFor('the call', () => endpoint.events.length === 1 && onDiskAtCall.length === 1);
    expect(onDiskAtCall[0]).toEqual([expect.stringMatching(/^\d{13}-[0-9a-f]{8}\.json$/)]);
    expect(endpoint.events[0]).toMatchObject({ event: 'new_signature', signature_id: 's1', queued_at: expect.any(String) });
    await waitFor('the file to go', async () => (await readdir(dir.outboxDir)).length === 0);
    expect(hook.stats()).toMatchObject({ waiting: 0, delivered: 1, dropped: 0 });
  });

  it('keeps alerts of every kind while the webhook is down, and after a restart sends them to the URL configured now', async () => {
    const dir = await dataDir();
    const down = await chat(503);
    const first = await dir.hook({ url: down.url, retryInitialMs: 10_000 });
    first.hook.notify(crash(7));
    first.hook.regression(crash(8), null);
    first.hook.spike(crash(9), { app: 'a', count: 60, usual_per_hour: 0, week_before: 0 });
    await waitFor('a failed call', () => down.calls >= 1);
    expect(first.hook.stats().waiting).toBe(3);
    await first.hook.stop();
    expect(await readdir(dir.outboxDir)).toHaveLength(3);

    const other = await chat(200);
    const second = await dir.hook({ url: other.url });
    await waitFor('the alerts at the new URL', () => other.events.length === 3);
    expect(other.events.map((e) => `${e.event} ${e.signature_id}`)).toEqual(['new_signature s7', 'regression s8', 'spike s9']);
    expect(other.events[0]).toMatchObject({ text: expect.stringContaining('Error: made-up 7') });
    expect(second.logs[0]).toMatch(/^webhook: resuming 3 alerts \(new signature s7, regression of s8, spike of s9\) from .*webhook-outbox$/);
    await waitFor('the files to go', async () => (await readdir(dir.outboxDir)).length === 0);
    expect(down.calls).toBe(1);
  });

  it('retries with backoff while the webhook fails, saying so once, and once when it answers again', async () => {
    const dir = await dataDir();
    const endpoint = await chat(502);
    const { hook, logs } = await dir.hook({ url: endpoint.url, retryInitialMs: 10, retryMaxMs: 40 });
    hook.notify(crash(1));
    hook.notify(crash(2));
    await waitFor('several failed calls', () => endpoint.calls >= 4);
    endpoint.status = 200;
    await waitFor('both alerts', () => endpoint.events.length === 2);
    expect(endpoint.events.map((e) => e.signature_id)).toEqual(['s1', 's2']);
    // The secret path of the hook's URL stays out of the log.
    expect(logs).toEqual([
      expect.stringMatching(/^webhook: http:\/\/127\.0\.0\.1:\d+\/… failed \(answered 502\); alerts wait and are retried with backoff for up to 24 h$/),
      expect.stringMatching(/^webhook: http:\/\/127\.0\.0\.1:\d+\/… answers again after \d+ failed calls; 1 more alert to send$/),
    ]);
  });

  it('drops an alert the webhook refuses (4xx) at once', async () => {
    const dir = await dataDir();
    const endpoint = await chat(404);
    const { hook, logs } = await dir.hook({ url: endpoint.url, retryInitialMs: 10 });
    hook.notify(crash(3));
    await waitFor('the refusal in the log', () => logs.some((l) => l.includes('refused the alert about new signature s3 (answered 404); dropped')));
    await waitFor('the file to go', async () => (await readdir(dir.outboxDir)).length === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(endpoint.calls).toBe(1);
    expect(hook.stats()).toMatchObject({ waiting: 0, dropped: 1 });
  });

  it('drops, with a log line, an alert left from more than 24 h ago instead of sending it as news', async () => {
    const dir = await dataDir();
    const outbox = new AlertOutbox(dir.path, dir.tmp);
    await outbox.open();
    await outbox.put(leftBehind(25 * 3_600_000, 'stale'));
    await outbox.put(leftBehind(2 * 3_600_000, 'fresh'));
    const endpoint = await chat(200);
    const { logs } = await dir.hook({ url: endpoint.url });
    await waitFor('the fresh alert', () => endpoint.events.length === 1);
    expect(endpoint.events[0]!.signature_id).toBe('fresh');
    // Sent two hours late: it says so.
    expect(endpoint.events[0]!.text).toBe('New crash signature: Error: fresh (sent late: this happened 2 h ago)');
    expect(logs[0]).toBe('webhook: dropped 1 alert (new signature stale) queued more than 24 h ago; sent now, they would read as new');
    await new Promise((r) => setTimeout(r, 100));
    expect(endpoint.events).toHaveLength(1);
    await waitFor('the files to go', async () => (await readdir(dir.outboxDir)).length === 0);
  });

  it('drops an alert the webhook did not take in time while it was down', async () => {
    const dir = await dataDir();
    const endpoint = await chat(503);
    const { hook, logs } = await dir.hook({ url: endpoint.url, retryInitialMs: 20, retryMaxMs: 20, maxAgeMs: 300 });
    hook.notify(crash(4));
    await waitFor('the drop', () => logs.find((l) => l.includes('dropped')));
    expect(logs.at(-1)).toMatch(/^webhook: dropped 1 alert \(new signature s4\), not delivered within 300 ms \(last problem: answered 503\)$/);
    await waitFor('the file to go', async () => (await readdir(dir.outboxDir)).length === 0);
    expect(hook.stats()).toMatchObject({ waiting: 0, dropped: 1, delivered: 0 });
  });

  it('sets an unreadable file aside with a log line and sends the other alerts', async () => {
    const dir = await dataDir();
    const outbox = new AlertOutbox(dir.path, dir.tmp);
    await outbox.open();
    await writeFile(join(dir.outboxDir, '0000000000001-deadbeef.json'), '{"id": "0000000000001-dead');
    await outbox.put(leftBehind(60_000, 'good'));
    const endpoint = await chat(200);
    const { logs } = await dir.hook({ url: endpoint.url });
    await waitFor('the good alert', () => endpoint.events.length === 1);
    expect(endpoint.events[0]!.signature_id).toBe('good');
    expect(logs[0]).toMatch(/^webhook: set aside unreadable alert .*webhook-outbox\/0000000000001-deadbeef\.json\.unreadable: /);
    await waitFor('only the unreadable file left', async () => JSON.stringify(await readdir(dir.outboxDir)) === '["0000000000001-deadbeef.json.unreadable"]');
  });

  it('sends from memory, and says so once, when the outbox cannot be written', async () => {
    const dir = await dataDir();
    const endpoint = await chat(200);
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const logs: string[] = [];
    const hook = new NewSignatureWebhook({
      url: endpoint.url,
      receiverUrl: () => 'https://crashes.example',
      log: (l) => logs.push(l),
      outbox: new AlertOutbox(dir.path, dir.tmp, { ...nodeFsOps, writeFile: () => Promise.reject(full) }),
    });
    cleanups.push(() => hook.stop());
    await hook.start();
    hook.notify(crash(1));
    hook.notify(crash(2));
    await waitFor('both alerts', () => endpoint.events.length === 2);
    expect(logs).toEqual([expect.stringMatching(/^webhook: could not write an alert to .*webhook-outbox \(ENOSPC: no space left on device\); alerts are sent from memory/)]);
    expect(await readdir(dir.outboxDir)).toEqual([]);
  });

  it('sends alerts that waited at most 20 a minute', async () => {
    const dir = await dataDir();
    const outbox = new AlertOutbox(dir.path, dir.tmp);
    await outbox.open();
    for (let i = 0; i < WEBHOOK_EVENTS_PER_MINUTE + 3; i++) await outbox.put(leftBehind(60_000, `w${i}`));
    const endpoint = await chat(200);
    const { hook } = await dir.hook({ url: endpoint.url });
    await waitFor('a minute\'s worth', () => endpoint.events.length === WEBHOOK_EVENTS_PER_MINUTE);
    await new Promise((r) => setTimeout(r, 200));
    expect(endpoint.events).toHaveLength(WEBHOOK_EVENTS_PER_MINUTE);
    expect(hook.stats().waiting).toBe(3);
    expect(await readdir(dir.outboxDir)).toHaveLength(3);
  });

  it('without a webhook URL keeps the alerts that wait for when it is set again, less the old ones', async () => {
    const dir = await dataDir();
    const outbox = new AlertOutbox(dir.path, dir.tmp);
    await outbox.open();
    await outbox.put(leftBehind(25 * 3_600_000, 'stale'));
    await outbox.put(leftBehind(60_000, 'fresh'));
    const logs: string[] = [];
    expect(await openWebhook({}, { dataDir: dir.path, tmpDir: dir.tmp, receiverUrl: () => '', log: (l) => logs.push(l) })).toBeNull();
    expect(logs).toEqual([
      'webhook: dropped 1 alert (new signature stale) queued more than 24 h ago; sent now, they would read as new',
      expect.stringMatching(/^webhook: no --webhook-url, so 1 alert \(new signature fresh\) in .*webhook-outbox are kept, and sent if it is set again within 24 h of when they happened$/),
    ]);
    expect(await readdir(dir.outboxDir)).toHaveLength(1);
  });
});
