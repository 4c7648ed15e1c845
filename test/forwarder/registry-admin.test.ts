import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../receiver/src/cli/main.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { api, crashesOn, forwardingOf, freePort, perTest, registerApp, settled, submitTo } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

const { receiver, cleanups } = perTest();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('socorrito apps', () => {
  it('adds, lists, updates and removes apps in the data dir', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const d = ['--data-dir', dir.path];
    expect((await cli(['apps', 'list', ...d])).out).toContain('no apps registered');

    const added = await cli(['apps', 'add', ...d, '--guid', GUID, '--submit-url', 'https://crashes.shop.example', '--trust-dumps']);
    expect(added).toMatchObject({ code: 0 });
    expect(added.out).toBe(`added ${GUID} -> https://crashes.shop.example/submit (files: forwarded; master copy: kept)`);
    const updated = await cli(['apps', 'add', ...d, '--guid', GUID.toUpperCase(), '--submit-url', 'https://other.example/submit', '--no-keep-copy']);
    expect(updated.out).toBe(
      `updated ${GUID} -> https://other.example/submit (files: forwarded; master copy: deleted after forwarding); kept from before: files forwarded (--no-trust-dumps withholds them)`,
    );

    const listed = JSON.parse((await cli(['apps', 'list', '--json', ...d])).out);
    expect(listed.apps).toMatchObject([{ guid: GUID, submit_url: 'https://other.example/submit', trust_files: true, keep_copy: false }]);
    const file = JSON.parse(await readFile(join(dir.path, 'forward-apps.json'), 'utf8'));
    expect(file).toMatchObject({ version: 1, apps: [{ guid: GUID }] });

    expect(await cli(['apps', 'remove', ...d, '--guid', GUID])).toMatchObject({ code: 0, out: `removed ${GUID}` });
    const again = await cli(['apps', 'remove', ...d, '--guid', GUID]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('no app');
  });

  it('reports every problem with its input as a usage error', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const bad = await cli(['apps', 'add', '--data-dir', dir.path, '--guid', '../../etc', '--submit-url', 'javascript:alert(1)']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('is not a GUID');
    expect(bad.err).toContain('must be http or https');
    expect((await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID])).err).toContain('--submit-url is required');
    expect((await cli(['apps', 'frobnicate'])).code).toBe(2);
    const creds = await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID, '--submit-url', 'https://u:p@x.example/submit']);
    expect(creds.err).toContain('user name or password');
    const bare = await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID, '--submit-url', 'crashes.example.com']);
    expect(bare.err).toContain('is not a URL; did you mean https://crashes.example.com?');
  });

  it('answers a submit URL typed as host:port with the URL it means, in the CLI and the API', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    // `localhost:8000` parses as a URL of scheme "localhost:": it was answered "must be http or https, not localhost:".
    const cases = [
      ['localhost:18101', 'http://localhost:18101'],
      ['127.0.0.1:18101/submit', 'http://127.0.0.1:18101/submit'],
      ['crashes.shop.example:8443', 'https://crashes.shop.example:8443'],
    ];
    for (const [typed, meant] of cases) {
      const run = await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID, '--submit-url', typed]);
      expect(run.code).toBe(2);
      expect(run.err).toContain(`submit URL "${typed}" is not a URL; did you mean ${meant}?`);
      // The advice, taken, is accepted.
      expect((await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID, '--submit-url', meant])).code).toBe(0);
    }
    expect((await cli(['apps', 'add', '--data-dir', dir.path, '--guid', GUID, '--submit-url', 'mailto:ops@shop.example'])).err).toContain(
      'must be http or https, not mailto:',
    );

    const master = await receiver();
    const put = await api(master.url, `/api/forwarding/apps/${GUID}`, { method: 'PUT', body: JSON.stringify({ submit_url: 'localhost:18101' }) });
    expect(put.status).toBe(400);
    expect(put.body.problems).toEqual(['submit URL "localhost:18101" is not a URL; did you mean http://localhost:18101?']);
  });

  it('takes effect on a running server without a restart', async () => {
    const master = await receiver();
    const priv = await receiver();
    const before = await submitTo(master);
    expect(await forwardingOf(master.url, before)).toBeNull();

    expect((await cli(['apps', 'add', '--data-dir', master.dataDir, '--guid', GUID, '--submit-url', priv.url])).code).toBe(0);
    const after = await submitTo(master);
    expect((await settled(master.url, after)).state).toBe('forwarded');

    expect((await cli(['apps', 'remove', '--data-dir', master.dataDir, '--guid', GUID])).code).toBe(0);
    const removed = await submitTo(master);
    expect(await forwardingOf(master.url, removed)).toBeNull();
    expect((await crashesOn(priv)).length).toBe(1);
  });

  it('goes on with the last registry read whole while a hand edit has broken the file, says so once, and refuses to start on a broken one', async () => {
    const master = await receiver();
    const priv = await receiver();
    expect((await cli(['apps', 'add', '--data-dir', master.dataDir, '--guid', GUID, '--submit-url', priv.url])).code).toBe(0);
    expect((await settled(master.url, await submitTo(master))).state).toBe('forwarded'); // the server has read it
    const file = join(master.dataDir, 'forward-apps.json');
    const good = await readFile(file, 'utf8');
    await writeFile(file, `${good}{ broken`);
    const ids = [await submitTo(master), await submitTo(master)];
    for (const id of ids) expect((await settled(master.url, id)).state).toBe('forwarded');
    expect(master.logs.filter((l) => l.includes('Could not read the app registry'))).toHaveLength(1);
    const listed = await cli(['apps', 'list', '--data-dir', master.dataDir]);
    expect(listed.code).toBe(1);
    expect(listed.err).toMatch(/^socorrito apps list: Could not read the app registry .*fix the file/);
    expect(listed.err).not.toContain('    at ');
    await writeFile(file, good);
    await submitTo(master);
    expect(master.logs).toContain('forwarder: the app registry can be read again');

    // With no registry read whole to go on with, the receiver does not start.
    const other = await tempDir();
    cleanups.push(other.cleanup);
    await writeFile(join(other.path, 'forward-apps.json'), '{ broken');
    await expect(startTestReceiver({ dataDir: other.path })).rejects.toThrow(/Could not read the app registry.*fix the file/);
  });
});

describe('forwarding API', () => {
  it('needs the admin token', async () => {
    const master = await receiver();
    for (const [method, path] of [
      ['GET', '/api/forwarding/apps'],
      ['PUT', `/api/forwarding/apps/${GUID}`],
      ['DELETE', `/api/forwarding/apps/${GUID}`],
      ['GET', '/api/forwarding/outbox'],
    ] as const) {
      const res = await fetch(`${master.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'PUT' ? '{}' : undefined });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
    expect((await api(master.url, '/api/forwarding/apps')).body).toEqual({ apps: [] });
  });

  it('registers, shows and removes apps, rejecting bad input with every reason', async () => {
    const master = await receiver();
    const created = await api(master.url, '/api/forwarding/apps', {
      method: 'POST',
      body: JSON.stringify({ guid: GUID, submit_url: 'http://127.0.0.1:9/submit', trust_files: true }),
    });
    expect(created.status).toBe(201);
    expect(created.body.app).toMatchObject({ guid: GUID, submit_url: 'http://127.0.0.1:9/submit', trust_files: true, keep_copy: true });
    const updated = await api(master.url, `/api/forwarding/apps/${GUID}`, { method: 'PUT', body: JSON.stringify({ submit_url: 'https://x.example/submit?key=s3cret', keep_copy: false }) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ created: false, app: { submit_url: 'https://x.example/submit?key=s3cret', trust_files: true, keep_copy: false } });
    expect((await api(master.url, `/api/forwarding/apps/${GUID}`)).body.app.keep_copy).toBe(false);

    // Every problem at once: an unknown field, a field's type, and the GUID and URL rules.
    const bad = await api(master.url, '/api/forwarding/apps', { method: 'POST', body: JSON.stringify({ guid: '<script>', submit_url: 'file:///etc/passwd', trust_files: 'yes', bogus: 1 }) });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(4);
    expect(bad.body.problems.slice(0, 2)).toEqual(['unknown field "bogus"', 'trust_files must be true or false']);
    const bad2 = await api(master.url, '/api/forwarding/apps', { method: 'POST', body: JSON.stringify({ guid: '<script>', submit_url: 'file:///etc/passwd' }) });
    expect(bad2.body.problems).toHaveLength(2);
    const form = await api(master.url, '/api/forwarding/apps', { method: 'POST', body: 'guid=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);

    // Found as the registry matches (case and white space aside), logged as registered (below).
    expect((await api(master.url, `/api/forwarding/apps/%0A${GUID.toUpperCase()}`, { method: 'DELETE' })).body).toEqual({ removed: true });
    expect((await api(master.url, `/api/forwarding/apps/${GUID}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api(master.url, '/api/crashes/not-an-id/forwarding')).status).toBe(400);

    // Every change to the registry is in the log, naming the URL without its query (it can hold a key).
    expect(master.logs.filter((l) => l.startsWith('forwarding: '))).toEqual([
      `forwarding: registered app ${GUID} -> http://127.0.0.1:9/submit (files forwarded, master copy kept; admin)`,
      `forwarding: updated app ${GUID} -> https://x.example/submit?… (files forwarded, master copy deleted; admin)`,
      `forwarding: removed app ${GUID} from the registry (admin)`,
    ]);
    expect(master.logs.join('\n')).not.toContain('s3cret');
  });

  it('sends a waiting crash at once on request, without waiting out the backoff', async () => {
    const privDir = await tempDir();
    cleanups.push(privDir.cleanup);
    const port = await freePort();
    const master = await receiver({ forwardRetryInitialMs: 10 * 60_000, forwardRetryMaxMs: 10 * 60_000 });
    await registerApp(master, GUID, `http://127.0.0.1:${port}/submit`);
    const id = await submitTo(master);
    const waiting = await waitFor('a failed attempt', async () => {
      const s = await forwardingOf(master.url, id);
      return s && s.attempts === 1 ? s : undefined;
    });
    expect(Date.parse(waiting.next_attempt_at!)).toBeGreaterThan(Date.now() + 5 * 60_000);

    const priv = await receiver({ port, dataDir: privDir.path });
    const retried = await api(master.url, `/api/crashes/${id}/forwarding/retry`, { method: 'POST' });
    expect(retried.body.retried).toBe(true);
    const status = await settled(master.url, id);
    expect(status).toMatchObject({ state: 'forwarded', attempts: 2 });
    expect(await priv.storage.getRaw(status.remote_crash_id!)).not.toBeNull();
  });

  it('retries a failed forward on request once the registry is fixed', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/wrong-place/submit`);
    const id = await submitTo(master);
    const failed = await settled(master.url, id);
    expect(failed).toMatchObject({ state: 'failed', reason_code: 'not_a_receiver' });
    expect(failed.reason).toMatch(/^answered 404: Discarded=wrong_path: .*\(this address takes no crash submissions: check the submit URL; a receiver takes them at \/submit\)$/);

    await registerApp(master, GUID, `${priv.url}/submit`);
    const retried = await api(master.url, `/api/crashes/${id}/forwarding/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    expect(retried.body.retried).toBe(true);
    const status = await settled(master.url, id);
    expect(status.state).toBe('forwarded');
    expect(await priv.storage.getRaw(status.remote_crash_id!)).not.toBeNull();
    // A forwarded crash is not sent twice.
    expect((await api(master.url, `/api/crashes/${id}/forwarding/retry`, { method: 'POST' })).status).toBe(409);
  });

  it('retries on request a crash whose outbox entry was cleared away while it waited', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const port = await freePort(); // the private receiver is down
    const first = await startTestReceiver({ dataDir: dir.path, forwardRetryInitialMs: 40, forwardRetryMaxMs: 200 });
    await registerApp(first, GUID, `http://127.0.0.1:${port}/submit`);
    const id = await submitTo(first);
    await waitFor('a failed attempt', async () => (await forwardingOf(first.url, id))?.last_error?.includes('ECONNREFUSED'));
    const saved = join(dir.path, 'crashes', `20${id.slice(-6)}`, id, 'forwarding.json');
    await waitFor('the status on disk', async () => (await readFile(saved, 'utf8').catch(() => '')).includes('"queued"'));
    await first.stop();
    await rm(join(dir.path, 'outbox'), { recursive: true, force: true }); // an operator dropping the backlog

    const master = await startTestReceiver({ dataDir: dir.path, forwardRetryInitialMs: 40, forwardRetryMaxMs: 200 });
    cleanups.push(() => master.stop());
    expect(await forwardingOf(master.url, id)).toMatchObject({ state: 'queued' });
    const priv = await receiver({ port });
    const retried = await api(master.url, `/api/crashes/${id}/forwarding/retry`, { method: 'POST' });
    expect(retried.body.retried).toBe(true);
    const status = await settled(master.url, id);
    expect(status.state).toBe('forwarded');
    expect(await priv.storage.getRaw(status.remote_crash_id!)).not.toBeNull();
  });
});
