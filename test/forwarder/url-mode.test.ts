import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { startPathProxy } from '../helpers/proxy.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { api, crashesOn, fakeServer, FAST_RETRY, forwardingOf, freePort, perTest, registerApp, settled, submitTo } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const DUMP = new Uint8Array([1, 2, 3, 4]);

const { receiver, cleanups } = perTest();

describe('URL mode: forwarding to the SubmitURL a crash carries', () => {
  it('is off by default', async () => {
    const master = await receiver();
    const priv = await receiver();
    const id = await submitTo(master, { SubmitURL: `${priv.url}/submit`, WebAppGUID: 'unregistered' });
    expect(await forwardingOf(master.url, id)).toBeNull();
    expect((await api(master.url, '/api/forwarding/outbox')).body.total).toBe(0);
    expect(await crashesOn(priv)).toEqual([]);
  });

  it('refuses non-https, loopback, private, link-local and metadata targets by default', async () => {
    const master = await receiver({ forwardBySubmitUrl: true });
    const priv = await receiver();
    const port = priv.port;
    const cases: [string, string][] = [
      [`${priv.url}/submit`, 'not_https'],
      ['ftp://crashes.example/submit', 'not_https'],
      [`https://127.0.0.1:${port}/submit`, 'private_address'],
      [`https://[::1]:${port}/submit`, 'private_address'],
      [`https://[::ffff:127.0.0.1]:${port}/submit`, 'private_address'],
      ['https://10.1.2.3/submit', 'private_address'],
      ['https://192.168.0.10/submit', 'private_address'],
      ['https://169.254.10.1/submit', 'private_address'],
      ['https://169.254.169.254/latest/meta-data', 'metadata_address'],
      ['https://0.0.0.0/submit', 'special_address'],
      ['https://user:pw@crashes.example/submit', 'credentials'],
      ['not a url', 'bad_url'],
      // A name is checked after DNS resolution, on the address the socket would use.
      [`https://localhost:${port}/submit`, 'private_address'],
    ];
    for (const [url, code] of cases) {
      const id = await submitTo(master, { SubmitURL: url, WebAppGUID: 'unregistered' });
      const status = await settled(master.url, id);
      expect({ url, state: status.state, code: status.reason_code }).toEqual({ url, state: 'refused', code });
      expect(status.mode).toBe('url');
    }
    expect(await crashesOn(priv)).toEqual([]);
  });

  it('refuses http and loopback when only one of the two is allowed', async () => {
    const httpOnly = await receiver({ forwardBySubmitUrl: true, forwardAllowHttp: true });
    const privateOnly = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true });
    const priv = await receiver();
    const a = await submitTo(httpOnly, { SubmitURL: `${priv.url}/submit` });
    expect(await settled(httpOnly.url, a)).toMatchObject({ state: 'refused', reason_code: 'private_address' });
    const b = await submitTo(privateOnly, { SubmitURL: `${priv.url}/submit` });
    expect(await settled(privateOnly.url, b)).toMatchObject({ state: 'refused', reason_code: 'not_https' });
    // Even with private addresses allowed, cloud metadata stays out of reach.
    const c = await submitTo(privateOnly, { SubmitURL: 'https://169.254.169.254/submit' });
    expect(await settled(privateOnly.url, c)).toMatchObject({ state: 'refused', reason_code: 'metadata_address' });
    expect(await crashesOn(priv)).toEqual([]);
  });

  it('forwards when the operator allows private http targets, never with files', async () => {
    const master = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true });
    const priv = await receiver();
    const id = await submitTo(master, { SubmitURL: priv.url, WebAppGUID: 'unregistered' }, [
      { name: 'upload_file_minidump', filename: 'x.dmp', data: DUMP },
    ]);
    const status = await settled(master.url, id);
    expect(status).toMatchObject({ state: 'forwarded', mode: 'url', target: `${priv.url}/submit` });
    expect(status.withheld!.files).toEqual(['upload_file_minidump']);
    expect(status.withheld!.annotations).toContain('SubmitURL');
    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote!.files).toEqual([]);
    expect(remote!.annotations.SubmitURL).toBeUndefined();
    expect(remote!.annotations.ForwardHops).toBe('1');
  });

  it('does not forward a crash to the receiver it was sent to (the extension names it in SubmitURL)', async () => {
    const master = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true });
    for (const submitUrl of [`${master.url}/submit`, master.url, `${master.url.replace('http:', 'https:')}/submit/`]) {
      const id = await submitTo(master, { SubmitURL: submitUrl, WebAppGUID: 'unregistered' });
      expect(await forwardingOf(master.url, id)).toBeNull();
      expect((await master.storage.getRaw(id))!.metadata.submitted_to).toBe(`${new URL(master.url).host}/submit`);
    }
    expect((await api(master.url, '/api/forwarding/outbox')).body.total).toBe(0);
    expect(await crashesOn(master)).toHaveLength(3);
  });

  it('does not forward to itself under its public URL or another loopback name', async () => {
    const behindProxy = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true, publicUrl: 'https://crashes.example.com' });
    // Reached directly, not through the public URL the proxy would serve.
    const master = { ...behindProxy, url: `http://127.0.0.1:${behindProxy.port}` };
    for (const submitUrl of ['https://crashes.example.com/submit', 'https://CRASHES.example.com', `http://localhost:${master.port}/submit`, `http://[::1]:${master.port}`, `http://[::ffff:127.0.0.1]:${master.port}/submit`, `http://127.0.0.2:${master.port}/submit`]) {
      const id = await submitTo(master, { SubmitURL: submitUrl, WebAppGUID: 'unregistered' });
      expect(await forwardingOf(master.url, id), submitUrl).toBeNull();
    }
    // Another receiver on this machine is still forwarded to.
    const priv = await receiver();
    const id = await submitTo(master, { SubmitURL: priv.url.replace('127.0.0.1', 'localhost'), WebAppGUID: 'unregistered' });
    expect(await settled(master.url, id)).toMatchObject({ state: 'forwarded', mode: 'url' });
    expect(await crashesOn(priv)).toHaveLength(1);
  });

  it('with a path in its public URL, takes a SubmitURL under that path for itself and one at the proxy\'s root for another receiver', async () => {
    // The proxy sends Host as the receiver's address (nginx's default), or the browser's.
    for (const passHost of [false, true]) {
      const proxy = await startPathProxy({ prefix: '/crashes', strip: true, passHost });
      cleanups.push(proxy.close);
      const master = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true, publicUrl: `${proxy.origin}/crashes` });
      proxy.forwardTo(master.port);
      expect(master.url).toBe(`${proxy.origin}/crashes`);
      for (const submitUrl of [`${proxy.origin}/crashes/submit`, `${proxy.origin}/crashes/`, `http://127.0.0.1:${master.port}/crashes/submit`, `http://localhost:${master.port}/submit`]) {
        const id = await submitTo(master, { SubmitURL: submitUrl, WebAppGUID: 'unregistered' });
        expect(await forwardingOf(master.url, id), `${submitUrl} (passHost ${passHost})`).toBeNull();
      }
      const id = await submitTo(master, { SubmitURL: `${proxy.origin}/submit`, WebAppGUID: 'unregistered' });
      expect(await forwardingOf(master.url, id), `passHost ${passHost}`).toMatchObject({ mode: 'url', target: `${proxy.origin}/submit` });
      await waitFor('a forward to the proxy\'s root', async () => proxy.outside.includes('/submit'));
    }
  });

  it('does not follow redirects', async () => {
    const priv = await receiver();
    const redirector = await fakeServer((_req, res) => {
      res.writeHead(307, { location: `${priv.url}/submit` }).end();
    });
    cleanups.push(redirector.close);
    const master = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true });
    const id = await submitTo(master, { SubmitURL: `${redirector.url}/submit` });
    const status = await settled(master.url, id);
    expect(status).toMatchObject({ state: 'failed', reason_code: 'redirect', attempts: 1 });
    // It says where the redirect pointed: the address to register instead.
    expect(status.reason).toBe(`answered 307 to ${priv.url}/submit (a redirect, which is not followed: register that address if it is the receiver)`);
    expect(redirector.hits.length).toBe(1);
    expect(await crashesOn(priv)).toEqual([]);
  });

  it('gives up on a crash the rate limit never lets through', async () => {
    const master = await receiver({
      forwardBySubmitUrl: true,
      forwardAllowPrivateTargets: true,
      forwardAllowHttp: true,
      forwardRatePerMinute: 1,
      forwardGiveUpAfterMs: 300,
    });
    const priv = await receiver();
    const first = await submitTo(master, { SubmitURL: priv.url });
    expect((await settled(master.url, first)).state).toBe('forwarded');
    const second = await submitTo(master, { SubmitURL: priv.url });
    const status = await settled(master.url, second);
    expect(status).toMatchObject({ state: 'failed', reason_code: 'gave_up', attempts: 0 });
    expect(status.reason).toContain('rate limit');
    expect((await crashesOn(priv)).length).toBe(1);
  });

  it('rate-limits forwards per destination, keeping the rest in the outbox', async () => {
    const master = await receiver({
      forwardBySubmitUrl: true,
      forwardAllowPrivateTargets: true,
      forwardAllowHttp: true,
      forwardRatePerMinute: 1,
    });
    const priv = await receiver();
    const first = await submitTo(master, { SubmitURL: priv.url, JSErrorMessage: 'first' });
    expect((await settled(master.url, first)).state).toBe('forwarded');
    const second = await submitTo(master, { SubmitURL: priv.url, JSErrorMessage: 'second' });
    const waiting = await waitFor('the second crash to be held back', async () => {
      const s = await forwardingOf(master.url, second);
      return s && s.state === 'queued' && s.next_attempt_at && Date.parse(s.next_attempt_at) > Date.now() + 30_000 ? s : undefined;
    });
    expect(waiting.attempts).toBe(0);
    expect((await crashesOn(priv)).map((c) => c.annotations.JSErrorMessage)).toEqual(['first']);
  });

  it("never holds a registered app's crashes behind a stranger's SubmitURL on the same host", async () => {
    const priv = await receiver();
    // One host: a path that asks to wait a day, and the registered app's receiver (passed through).
    const host = await fakeServer((req, res, _n, body) => {
      if (req.url !== '/submit') return res.writeHead(429, { 'retry-after': '86400' }).end('Discarded=busy');
      void fetch(`${priv.url}/submit`, { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: new Uint8Array(body) })
        .then(async (r) => res.writeHead(r.status).end(await r.text()));
    });
    cleanups.push(host.close);
    const master = await receiver({ forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true });
    const guid = 'c0ffee00-1111-4222-8333-444444444444';
    await registerApp(master, guid, `${host.url}/submit`);
    const stranger = await submitTo(master, { SubmitURL: `${host.url}/busy`, WebAppGUID: 'not-registered' });
    await waitFor('the stranger to be told to wait', async () => (await forwardingOf(master.url, stranger))?.last_error?.includes('429'));
    const registered = await submitTo(master, { WebAppGUID: guid, JSErrorMessage: 'registered' });
    expect(await settled(master.url, registered, 5_000)).toMatchObject({ state: 'forwarded', mode: 'registry' });
    // Another crash for the host that asked to wait is held until the wait ends, and says so.
    const held = await submitTo(master, { SubmitURL: `${host.url}/busy/2`, WebAppGUID: 'not-registered' });
    const status = await waitFor('the second stranger to be held', async () => {
      const s = await forwardingOf(master.url, held);
      return s?.last_error?.includes('429') ? s : undefined;
    });
    expect(status.attempts).toBe(0);
    expect(Date.parse(status.next_attempt_at!)).toBeGreaterThan(Date.now() + 3_600_000);
    expect((await crashesOn(priv)).map((c) => c.annotations.JSErrorMessage)).toEqual(['registered']);
  });

  it('checks a queued SubmitURL again against the settings of each attempt: turned off, it is refused, not sent', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const port = await freePort(); // nothing listens there yet
    const lifted = { ...FAST_RETRY, dataDir: dir.path, forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true };
    const before = await startTestReceiver(lifted);
    const id = await submitTo(before, { SubmitURL: `http://127.0.0.1:${port}/submit`, WebAppGUID: 'not-registered' });
    await waitFor('a failed attempt', async () => (await forwardingOf(before.url, id))?.last_error?.includes('ECONNREFUSED'));
    await before.stop();

    // Now something answers where the crash points: an attempt would reach it.
    let hits = 0;
    const target = createServer((req, res) => {
      hits++;
      req.resume().on('end', () => res.writeHead(200).end('CrashID=bp-00000000-0000-4000-8000-000000261130\n'));
    });
    await new Promise<void>((r) => target.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => target.close(r)));
    const after = await startTestReceiver({ ...lifted, forwardBySubmitUrl: false });
    let refused;
    try {
      refused = await settled(after.url, id);
      // Asked to send it again while the flag is still off: the answer says what is missing.
      const notYet = await api(after.url, `/api/crashes/bp-${id}/forwarding/retry`, { method: 'POST' });
      expect(notYet.status).toBe(409);
      expect(notYet.body.message).toContain('it is refused (url_mode_off): forwarding by SubmitURL was turned off');
      expect(notYet.body.message).toContain('start the receiver with --forward-by-submit-url');
    } finally {
      await after.stop();
    }
    expect(refused).toMatchObject({ state: 'refused', reason_code: 'url_mode_off' });
    expect(hits).toBe(0);

    // The reason says how to get it back, and doing so sends it.
    expect(refused.reason).toContain(`start the receiver with --forward-by-submit-url and POST /api/crashes/bp-${id}/forwarding/retry`);
    const again = await startTestReceiver(lifted);
    try {
      expect((await api(again.url, `/api/crashes/bp-${id}/forwarding/retry`, { method: 'POST' })).status).toBe(200);
      expect(await settled(again.url, id)).toMatchObject({ state: 'forwarded' });
    } finally {
      await again.stop();
    }
    expect(hits).toBe(1);
  });
  it('lists the crashes refused as url_mode_off with the failed forwards, and the bulk retry sends each once, however many retries overlap', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const port = await freePort(); // nothing listens there yet
    const lifted = { ...FAST_RETRY, dataDir: dir.path, forwardBySubmitUrl: true, forwardAllowPrivateTargets: true, forwardAllowHttp: true };
    const before = await startTestReceiver(lifted);
    const ids: string[] = [];
    try {
      for (const n of [1, 2]) ids.push(await submitTo(before, { SubmitURL: `http://127.0.0.1:${port}/submit`, WebAppGUID: 'not-registered', JSErrorMessage: `backlog ${n}` }));
      for (const id of ids) await waitFor('a failed attempt', async () => (await forwardingOf(before.url, id))?.last_error?.includes('ECONNREFUSED'));
    } finally {
      await before.stop();
    }

    const hits: string[] = [];
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hits.push(/backlog \d/.exec(body)?.[0] ?? '?');
        res.writeHead(200).end(`CrashID=bp-00000000-0000-4000-8000-00000${hits.length}261130\n`);
      });
    });
    await new Promise<void>((r) => target.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => target.close(r)));

    // Restarted without the flag: refused, and listed where the operator looks for what to send again.
    const off = await startTestReceiver({ ...lifted, forwardBySubmitUrl: false });
    try {
      for (const id of ids) expect(await settled(off.url, id)).toMatchObject({ state: 'refused', reason_code: 'url_mode_off' });
      const failed = await api(off.url, '/api/forwarding/failed');
      expect(failed.body.total).toBe(2);
      expect(failed.body.entries.map((e: { crash_id: string }) => e.crash_id).sort()).toEqual([...ids].sort());
      for (const e of failed.body.entries) {
        expect(e).toMatchObject({ reason_code: 'url_mode_off', mode: 'url', target: `http://127.0.0.1:${port}/submit` });
        expect(e.reason).toContain('start the receiver with --forward-by-submit-url');
        expect(e.reason).toContain('POST /api/forwarding/failed/retry');
      }
      expect((await api(off.url, '/api/stats')).body.forwarding).toMatchObject({ failed: 2 });
      // The report page says what it waits for: the setting, not its receiver.
      const page = await (await fetch(`${off.url}/report/bp-${ids[0]!.replace(/^bp-/, '')}`, { headers: { authorization: 'Bearer test-admin-token' } })).text();
      expect(page.replace(/<[^>]*>/g, '')).toContain('To send it again once forwarding by SubmitURL is on again: POST');
      // While the flag is still off, the bulk retry sends nothing and they stay listed.
      expect((await api(off.url, '/api/forwarding/failed/retry', { method: 'POST' })).body).toEqual({ retried: 0, not_retried: 2 });
      expect((await api(off.url, '/api/forwarding/failed')).body.total).toBe(2);
    } finally {
      await off.stop();
    }
    expect(hits).toEqual([]);

    // Turned back on: the bulk retry sends the backlog. Retries that overlap (another bulk retry,
    // the one-crash retry of each) find a crash already on its way and do not queue it again.
    const on = await startTestReceiver(lifted);
    try {
      expect((await api(on.url, '/api/forwarding/failed')).body.total).toBe(2);
      const answers = await Promise.all([
        api(on.url, '/api/forwarding/failed/retry', { method: 'POST' }),
        ...ids.flatMap((id) => [1, 2].map(() => api(on.url, `/api/crashes/bp-${id}/forwarding/retry`, { method: 'POST' }))),
        api(on.url, '/api/forwarding/failed/retry', { method: 'POST' }),
      ]);
      for (const a of answers) expect(a.status).toBe(200);
      for (const id of ids) expect(await settled(on.url, id)).toMatchObject({ state: 'forwarded' });
      await waitFor('the outbox to empty', async () => (await api(on.url, '/api/forwarding/outbox')).body.total === 0);
      expect((await api(on.url, '/api/forwarding/failed')).body).toEqual({ total: 0, entries: [] });
    } finally {
      await on.stop();
    }
    expect(hits.sort()).toEqual(['backlog 1', 'backlog 2']);
  });
});
