import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../receiver/src/cli/main.ts';
import { spawnReceiver, type SpawnedReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields } from '../helpers/submit.ts';
import {
  api,
  FAST_RETRY_ARGS,
  crashesOn,
  fakeServer,
  forwardingOf,
  freePort,
  perTest,
  registerApp,
  settled,
  submitTo,
} from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const GUID = jsCrashFields().WebAppGUID!;

const { receiver, cleanups } = perTest();

describe('outbox: retries until the private receiver answers', () => {
  it('delivers a crash once the private receiver is back', async () => {
    const privDir = await tempDir();
    cleanups.push(privDir.cleanup);
    const port = await freePort();
    const master = await receiver();
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);

    const id = await submitTo(master, { JSErrorMessage: 'sent while it was down' });
    const failing = await waitFor('two failed attempts', async () => {
      const s = await forwardingOf(master.url, id);
      return s && s.attempts >= 2 ? s : undefined;
    });
    expect(failing.state).toBe('queued');
    expect(failing.last_error).toContain('ECONNREFUSED');

    const priv = await receiver({ port, dataDir: privDir.path });
    const status = await settled(master.url, id);
    expect(status.state).toBe('forwarded');
    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote!.annotations.JSErrorMessage).toBe('sent while it was down');
    // The log says when the destination started failing and when it answered again, not each retry.
    const said = master.logs.filter((l) => l.startsWith('forwarder: ') && l.includes(`127.0.0.1:${port}/submit`) && !l.includes(' forwarded to '));
    expect(said).toEqual([
      expect.stringMatching(/^forwarder: http:\/\/127\.0\.0\.1:\d+\/submit failed \(.*ECONNREFUSED.*\); its crashes wait in the outbox/),
      expect.stringMatching(/^forwarder: http:\/\/127\.0\.0\.1:\d+\/submit answers again after \d+ failed attempt\(s\) in a row since this receiver started$/),
    ]);
  });

  it('drops a crash deleted on request from the outbox at once, and never sends it', async () => {
    const port = await freePort();
    const master = await receiver();
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);
    const id = await submitTo(master, { JSErrorMessage: 'alice asked to be forgotten' });
    await waitFor('a failed attempt', async () => ((await forwardingOf(master.url, id))?.attempts ?? 0) >= 1);
    expect((await api(master.url, `/api/crashes/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(master.url, '/api/forwarding/outbox')).body.total).toBe(0);
    expect((await api(master.url, `/api/crashes/${id}/forwarding`)).status).toBe(404);
    // The private receiver comes back; retries (every 200 ms at most here) have nothing to send.
    const priv = await receiver({ port });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await crashesOn(priv)).toEqual([]);
    expect(await readdir(join(master.dataDir, 'outbox'))).toEqual([]);
  });

  it('holds every crash for a receiver that is down and delivers them all when it is back', async () => {
    const privDir = await tempDir();
    cleanups.push(privDir.cleanup);
    const port = await freePort();
    const master = await receiver();
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submitTo(master, { JSErrorMessage: `crash ${i}` }));
    await waitFor('a failed attempt', async () => ((await forwardingOf(master.url, ids[0]!))?.attempts ?? 0) >= 1);
    const priv = await receiver({ port, dataDir: privDir.path });
    for (const id of ids) expect((await settled(master.url, id)).state).toBe('forwarded');
    const messages = (await crashesOn(priv)).map((c) => c.annotations.JSErrorMessage).sort();
    expect(messages).toEqual(ids.map((_, i) => `crash ${i}`));
  });

  it('shows a crash waiting behind its receiver the same in the outbox listing and in its status', async () => {
    const port = await freePort();
    const master = await receiver({ forwardRetryInitialMs: 60_000, forwardRetryMaxMs: 120_000 });
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);
    const first = await submitTo(master);
    await waitFor('a failed attempt', async () => ((await forwardingOf(master.url, first))?.attempts ?? 0) >= 1);
    const behind = await submitTo(master);
    const status = await waitFor('the second crash to wait behind the first', async () => {
      const s = await forwardingOf(master.url, behind);
      return s?.last_error ? s : undefined;
    });
    expect(status).toMatchObject({ state: 'queued', attempts: 0, last_error: expect.stringContaining('ECONNREFUSED') });
    const listed = (await api(master.url, '/api/forwarding/outbox')).body.entries.find((e: { crash_id: string }) => `bp-${e.crash_id}` === behind || e.crash_id === behind);
    expect(listed).toMatchObject({ attempts: 0, last_error: status.last_error, next_attempt_at: status.next_attempt_at });
    expect(Date.parse(status.next_attempt_at!)).toBeGreaterThan(Date.now() + 30_000);
    const page = await fetch(`${master.url}/report/${behind}`, { headers: { authorization: 'Bearer test-admin-token' } });
    expect(await page.text()).toContain('none yet, waiting for its receiver (last error: network error');
  });

  it('resumes after a master restart (killed with SIGKILL) and delivers', async () => {
    const masterDir = await tempDir();
    const privDir = await tempDir();
    cleanups.push(masterDir.cleanup, privDir.cleanup);
    const port = await freePort();

    // The CLI edits the registry of a master that is not running.
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), env: {} };
    expect(await main(['apps', 'add', '--data-dir', masterDir.path, '--guid', GUID, '--submit-url', `http://127.0.0.1:${port}`], io)).toBe(0);
    expect(out.join('\n')).toContain(`added ${GUID} -> http://127.0.0.1:${port}/submit`);

    let master: SpawnedReceiver = await spawnReceiver(masterDir.path, FAST_RETRY_ARGS);
    cleanups.push(() => master.kill('SIGKILL'));
    const id = await submitTo(master, { JSErrorMessage: 'survives a restart' });
    await waitFor('a failed attempt', async () => ((await forwardingOf(master.url, id))?.attempts ?? 0) >= 1);
    await master.kill('SIGKILL');
    expect(await readdir(join(masterDir.path, 'outbox'))).toContain(`${id}.json`);

    const priv = await receiver({ port, dataDir: privDir.path });
    master = await spawnReceiver(masterDir.path, FAST_RETRY_ARGS);
    const status = await settled(master.url, id);
    expect(status.state).toBe('forwarded');
    expect(status.attempts).toBeGreaterThanOrEqual(2);
    expect(master.output()).toContain('resuming 1 crash(es) from the outbox');
    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote!.annotations.JSErrorMessage).toBe('survives a restart');
    expect(await readdir(join(masterDir.path, 'outbox'))).not.toContain(`${id}.json`);
  });

  it('gives up after the configured time and records why', async () => {
    const port = await freePort();
    const master = await receiver({ forwardGiveUpAfterMs: 300 });
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);
    const id = await submitTo(master);
    const status = await settled(master.url, id);
    expect(status).toMatchObject({ state: 'failed', reason_code: 'gave_up' });
    expect(status.reason).toMatch(/gave up after \d+ attempt\(s\)/);
    expect(status.reason).toContain('ECONNREFUSED');
    expect(status.attempts).toBeGreaterThanOrEqual(1);
    expect(await master.storage.getRaw(id)).not.toBeNull();
    // The log line an operator finds says how to send it once the receiver is back.
    const line = master.logs.find((l) => l.startsWith(`forwarder: bp-${id} failed (gave_up)`));
    expect(line).toContain('listed at /api/forwarding/failed until POST /api/forwarding/failed/retry sends it again');
    // So does its report page.
    const page = await (await fetch(`${master.url}/report/${id}`, { headers: { authorization: 'Bearer test-admin-token' } })).text();
    expect(page.replace(/<[^>]*>/g, '')).toContain(`To send it again once its receiver answers: POST /api/crashes/bp-${id.replace(/^bp-/, '')}/forwarding/retry with the admin token`);
  });

  it('lists the crashes it gave up on across restarts, counts them in the stats, and sends them all again on request', async () => {
    const port = await freePort();
    const masterDir = await tempDir();
    cleanups.push(masterDir.cleanup);
    const first = await receiver({ dataDir: masterDir.path, forwardGiveUpAfterMs: 300 });
    await registerApp(first, GUID, `http://127.0.0.1:${port}/submit`);
    const ids = [await submitTo(first, { JSErrorMessage: 'one' }), await submitTo(first, { JSErrorMessage: 'two' })];
    for (const id of ids) expect((await settled(first.url, id)).state).toBe('failed');
    const other = await submitTo(first, { WebAppGUID: 'not-registered-guid' });
    expect(await forwardingOf(first.url, other)).toBeNull();
    await first.stop();

    // After a restart the list is still there: an outage longer than the give-up time is found without the log.
    const master = await receiver({ dataDir: masterDir.path, forwardGiveUpAfterMs: 300 });
    const failed = (await api(master.url, '/api/forwarding/failed')).body;
    expect(failed.total).toBe(2);
    expect(failed.entries.map((e: { crash_id: string }) => e.crash_id).sort()).toEqual(ids.map((id) => id.replace(/^bp-/, '')).sort());
    expect(failed.entries[0]).toMatchObject({ app_guid: GUID, reason_code: 'gave_up', target: `http://127.0.0.1:${port}/submit` });
    expect((await api(master.url, '/api/forwarding/failed?app=someone-else')).body.total).toBe(0);
    expect((await api(master.url, '/api/stats')).body.forwarding).toEqual({ waiting: 0, failed: 2 });

    // A crash deleted meanwhile leaves the list.
    const third = await submitTo(master, { JSErrorMessage: 'three' });
    expect((await settled(master.url, third)).state).toBe('failed');
    expect((await api(master.url, '/api/forwarding/failed')).body.total).toBe(3);
    expect((await api(master.url, `/api/crashes/${third}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(master.url, '/api/forwarding/failed')).body.total).toBe(2);

    const priv = await receiver({ port });
    const retried = await api(master.url, `/api/forwarding/failed/retry?app=${GUID}`, { method: 'POST' });
    expect(retried.body).toEqual({ retried: 2, not_retried: 0 });
    for (const id of ids) expect((await settled(master.url, id)).state).toBe('forwarded');
    expect((await crashesOn(priv)).map((c) => c.annotations.JSErrorMessage).sort()).toEqual(['one', 'two']);
    expect((await api(master.url, '/api/forwarding/failed')).body.total).toBe(0);
    expect((await api(master.url, '/api/stats')).body.forwarding).toEqual({ waiting: 0, failed: 0 });
    expect(await readdir(join(masterDir.path, 'forward-failed'))).toEqual([]);
  });

  it('retries 5xx answers and honours Retry-After on 429', async () => {
    const priv = await receiver();
    // First a 503, then a 429 asking for one second, then the real receiver.
    const flaky = await fakeServer((req, res, n, body) => {
      if (n === 1) return res.writeHead(503).end('Discarded=storage_unavailable');
      if (n === 2) return res.writeHead(429, { 'retry-after': '1' }).end('Discarded=app_rate_limited');
      // Pass the third through to the private receiver.
      void fetch(`${priv.url}/submit`, { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: new Uint8Array(body) })
        .then(async (r) => res.writeHead(r.status).end(await r.text()));
    });
    cleanups.push(flaky.close);
    const master = await receiver();
    await registerApp(master, GUID, `${flaky.url}/submit`);
    const id = await submitTo(master, { JSErrorMessage: 'third time lucky' });
    const status = await settled(master.url, id);
    expect(status.state).toBe('forwarded');
    expect(status.attempts).toBe(3);
    expect(flaky.hits.length).toBe(3);
    // 40 ms of backoff would have sufficed; Retry-After asked for a second.
    expect(flaky.hits[2]! - flaky.hits[1]!).toBeGreaterThanOrEqual(1000);
    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote!.annotations.JSErrorMessage).toBe('third time lucky');
    expect((await crashesOn(priv)).length).toBe(1);
  });

  it('waits as long as a 429 asks, not its own longer backoff, and logs being asked to wait as such', async () => {
    const priv = await receiver();
    const limiting = await fakeServer((req, res, n, body) => {
      if (n <= 2) return res.writeHead(429, { 'retry-after': '1' }).end('Discarded=client_rate_limited');
      void fetch(`${priv.url}/submit`, { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: new Uint8Array(body) })
        .then(async (r) => res.writeHead(r.status).end(await r.text()));
    });
    cleanups.push(limiting.close);
    // Backoff would wait 30 s after the first refusal.
    const master = await receiver({ forwardRetryInitialMs: 30_000, forwardRetryMaxMs: 60_000 });
    await registerApp(master, GUID, `${limiting.url}/submit`);
    const id = await submitTo(master);
    const status = await settled(master.url, id, 15_000);
    expect(status).toMatchObject({ state: 'forwarded', attempts: 3 });
    expect(limiting.hits[2]! - limiting.hits[0]!).toBeLessThan(10_000);
    const lines = master.logs.filter((l) => l.startsWith(`forwarder: ${limiting.url}`));
    expect(lines).toEqual([expect.stringMatching(/ asks to wait \(answered 429: Discarded=client_rate_limited\); its crashes wait in the outbox for 1000 ms$/)]);
  });
});
