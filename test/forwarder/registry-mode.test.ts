import { describe, expect, it } from 'vitest';
import { FORWARDED_ANNOTATIONS } from '../../receiver/src/forwarder/policy.ts';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { jsCrashFields } from '../helpers/submit.ts';
import { api, crashesOn, fakeServer, forwardingOf, perTest, registerApp, settled, submitTo } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink } from '../helpers/webhook.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10'; // jsCrashFields' WebAppGUID
const DUMP = new Uint8Array([0x4d, 0x44, 0x4d, 0x50, 0x93, 0xa7, 0, 1, 2, 3, 255, 254]);

const { receiver } = perTest();

describe('registry mode: master forwards to the private receiver registered for the GUID', () => {
  it('sums up in the log the crashes forwarded with a copy kept, rather than a line each', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/submit`);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await submitTo(master, jsCrashFields({ JSErrorMessage: `summed ${i}` })));
    for (const id of ids) expect((await settled(master.url, id)).state).toBe('forwarded');
    expect(master.logs.filter((l) => l.startsWith('forwarder: ') && l.includes('forwarded'))).toEqual([]);
    // Said once a minute, and when the receiver stops.
    await master.stop();
    expect(master.logs.filter((l) => l.startsWith('forwarder: forwarded'))).toEqual([`forwarder: forwarded 3 crashes (copies kept): 3 to ${priv.url}/submit`]);
  });

  it('delivers the allowlisted annotations, withholds the rest and the minidump, and records the new crash ID', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/submit`);

    const extra = {
      URL: 'https://alice:hunter2@shop.example/cart?session=s3cret#step2',
      SubmitURL: 'https://ignored.example/submit',
      Email: 'someone@example.com',
      ServerToken: 'abc',
    };
    const sent = jsCrashFields(extra);
    const masterId = await submitTo(master, sent, [{ name: 'upload_file_minidump', filename: 'crash.dmp', data: DUMP }]);
    const status = await settled(master.url, masterId);

    expect(status.state).toBe('forwarded');
    expect(status.mode).toBe('registry');
    expect(status.target).toBe(`${priv.url}/submit`);
    expect(status.remote_crash_id).toMatch(/^bp-[0-9a-f-]{36}$/);
    expect(status.remote_crash_id).not.toBe(`bp-${masterId}`);
    expect(status.withheld).toEqual({ annotations: ['Email', 'ServerToken', 'SubmitURL'], files: ['upload_file_minidump'], url_query: true });

    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote).not.toBeNull();
    const expected: Record<string, string> = { ForwardHops: '1' };
    for (const name of FORWARDED_ANNOTATIONS) if (name in sent) expected[name] = sent[name]!;
    expected.URL = 'https://shop.example/cart';
    expect(remote!.annotations).toEqual(expected);
    expect(remote!.files).toEqual([]);

    // The master keeps its own copy, whole, with the status beside it.
    const own = await master.storage.getRaw(masterId);
    expect(own!.annotations.Email).toBe('someone@example.com');
    expect(await master.storage.getFile(masterId, 'upload_file_minidump')).toEqual(Buffer.from(DUMP));
    const viaApi = await api(master.url, `/api/crashes/${masterId}/forwarding`);
    expect(viaApi.body).toMatchObject({ crash_id: masterId, forwarding: { state: 'forwarded', remote_crash_id: status.remote_crash_id } });

    // And on the master's report page.
    const page = await fetch(`${master.url}/report/bp-${masterId}`, { headers: { authorization: `Bearer ${master.adminToken}` } });
    const html = await page.text();
    const section = html.slice(html.indexOf('<h2>Forwarding</h2>'), html.indexOf('<h2>Annotations</h2>'));
    expect(section).toContain('forwarded');
    // Linked on the app's receiver.
    expect(section).toContain(`<a href="${priv.url}/report/${status.remote_crash_id}" rel="noreferrer">${status.remote_crash_id}</a>`);
    expect(section).toContain(`${priv.url}/submit`);
    expect(section).toContain('Email, ServerToken, SubmitURL, file upload_file_minidump, URL queries');
  });

  it('forwards the minidump byte for byte when the app is trusted with files', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/submit`, { trust_files: true });

    const masterId = await submitTo(master, {}, [
      { name: 'upload_file_minidump', filename: 'crash.dmp', data: DUMP },
      { name: 'console_log', filename: 'log.json', data: new TextEncoder().encode('[]'), contentType: 'application/json' },
    ]);
    const status = await settled(master.url, masterId);
    expect(status.state).toBe('forwarded');
    expect(status.withheld!.files).toEqual([]);
    const remote = await priv.storage.getRaw(status.remote_crash_id!);
    expect(remote!.files.map((f) => [f.name, f.filename, f.size, f.contentType])).toEqual([
      ['upload_file_minidump', 'crash.dmp', DUMP.length, 'application/octet-stream'],
      ['console_log', 'log.json', 2, 'application/json'],
    ]);
    expect(await priv.storage.getFile(status.remote_crash_id!, 'upload_file_minidump')).toEqual(Buffer.from(DUMP));
  });

  it('does not forward crashes of apps that are not registered', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/submit`);
    const other = await submitTo(master, { WebAppGUID: 'not-registered-guid' });
    const mine = await submitTo(master);
    await settled(master.url, mine);
    expect(await forwardingOf(master.url, other)).toBeNull();
    expect((await crashesOn(priv)).length).toBe(1);
  });

  it('deletes the master copy after a successful forward when the app says not to keep it', async () => {
    const master = await receiver();
    const priv = await receiver();
    await registerApp(master, GUID, `${priv.url}/submit`, { keep_copy: false });

    const masterId = await submitTo(master, { JSErrorMessage: 'only on the private receiver' });
    const remote = await waitFor('the crash on the private receiver', async () => (await crashesOn(priv))[0]);
    expect(remote.annotations.JSErrorMessage).toBe('only on the private receiver');
    await waitFor('the master copy to be deleted', async () => (await master.storage.getRaw(masterId)) === null);
    await waitFor('the status to be gone with the crash', async () => (await api(master.url, `/api/crashes/${masterId}/forwarding`)).status === 404);
    expect((await api(master.url, '/api/forwarding/outbox')).body.total).toBe(0);
    // Nothing is left behind, even when the processor was writing into the folder meanwhile.
    const left: string[] = [];
    for await (const id of master.storage.listCrashIds()) left.push(id);
    expect(left).not.toContain(masterId);
    expect(master.logs.filter((l) => l.startsWith('forwarder:') && l.includes(masterId))).toEqual([expect.stringMatching(new RegExp(`^forwarder: bp-${masterId} forwarded .*; master copy deleted$`))]);
  });

  it('leaves nothing of a crash it only relays: no alert, and its signature text and app go with the copy', async () => {
    const hook = await startWebhookSink();
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    // The private receiver answers only once the master has processed the crash, as a slow one would.
    const slow = await fakeServer((_req, res) => {
      void answered.then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`CrashID=bp-${createCrashId()}\n`));
    });
    try {
      const master = await receiver({ webhookUrl: hook.url });
      await registerApp(master, GUID, `${slow.url}/submit`, { keep_copy: false });
      const masterId = await submitTo(master, { JSErrorMessage: 'Account of jane.doe@example.com is locked', JSStack: '' });
      const processed = await waitFor('the master to process the crash', async () => (await api(master.url, `/api/crashes/${masterId}`)).body.processed);
      expect((await api(master.url, `/api/signatures/${processed.signature_id}`)).status).toBe(200);
      answer();
      // Logged once the copy is deleted from storage and then the index.
      await waitFor('the master copy to be deleted', async () => master.logs.some((l) => l.startsWith(`forwarder: bp-${masterId.replace(/^bp-/, '')} forwarded`) && l.endsWith('master copy deleted')));
      expect(await master.storage.getRaw(masterId)).toBeNull();
      expect((await api(master.url, `/api/signatures/${processed.signature_id}`)).status).toBe(404);
      // The app is registered here, so it is listed, with no crash.
      expect((await api(master.url, '/api/apps')).body.apps.find((a: { guid: string }) => a.guid === GUID)).toMatchObject({ total: 0, count_7d: 0 });
      await new Promise((r) => setTimeout(r, 500));
      expect(hook.events).toEqual([]);
    } finally {
      answer();
      await slow.close();
      hook.close();
    }
  });

  it('refuses to forward to itself: the API says so, and a registry file that does is refused per crash', async () => {
    const master = await receiver();
    const put = await api(master.url, `/api/forwarding/apps/${GUID}`, { method: 'PUT', body: JSON.stringify({ submit_url: master.url }) });
    expect(put.status).toBe(400);
    expect(put.body.problems).toEqual([`submit_url ${master.url} is this receiver: give the address of the app's own receiver`]);
    // As `socorrito apps add` writes it, which cannot know the receiver's address.
    await master.registry.upsert({ guid: GUID, submitUrl: `${master.url.replace('127.0.0.1', 'localhost')}/submit` });
    const id = await submitTo(master);
    const status = await settled(master.url, id);
    expect(status).toMatchObject({ state: 'refused', reason_code: 'this_receiver' });
    expect(status.reason).toContain(`socorrito apps add --guid ${GUID} --submit-url`);
    expect(await crashesOn(master)).toHaveLength(1);
  });

  it('records a rejection by the private receiver and keeps the crash on the master', async () => {
    const master = await receiver();
    const priv = await receiver({ maxFiles: 0 });
    await registerApp(master, GUID, `${priv.url}/submit`, { trust_files: true, keep_copy: false });

    const masterId = await submitTo(master, {}, [{ name: 'upload_file_minidump', filename: 'crash.dmp', data: DUMP }]);
    const status = await settled(master.url, masterId);
    expect(status.state).toBe('failed');
    expect(status.reason_code).toBe('rejected');
    expect(status.reason).toContain('413');
    expect(status.reason).toContain('too_many_files');
    expect(status.attempts).toBe(1);
    expect(await master.storage.getRaw(masterId)).not.toBeNull();
    expect(await crashesOn(priv)).toEqual([]);
  });

  it('passes a crash along a chain of three receivers, counting hops', async () => {
    const a = await receiver();
    const b = await receiver();
    const c = await receiver();
    await registerApp(a, GUID, `${b.url}/submit`);
    await registerApp(b, GUID, `${c.url}/submit`);

    const onA = await submitTo(a, { JSErrorMessage: 'travels' });
    const atA = await settled(a.url, onA);
    expect(atA.state).toBe('forwarded');
    const onB = atA.remote_crash_id!.slice(3);
    const atB = await settled(b.url, onB);
    expect(atB).toMatchObject({ state: 'forwarded', hops_in: 1 });
    const onC = await c.storage.getRaw(atB.remote_crash_id!);
    expect(onC!.annotations).toMatchObject({ JSErrorMessage: 'travels', ForwardHops: '2' });
    // Each report page says how the crash came.
    const received = async (r: { url: string }, id: string): Promise<string> => {
      const html = await (await fetch(`${r.url}/report/${id}`, { headers: { authorization: 'Bearer test-admin-token' } })).text();
      return /<dt>Received<\/dt><dd>(.*?)<\/dd>/.exec(html)![1]!.replace(/<[^>]*>/g, '');
    };
    expect(await received(a, onA)).toMatch(/UTC\)?$/);
    expect(await received(b, onB)).toMatch(/UTC\)? from another receiver that forwarded it$/);
    expect(await received(c, atB.remote_crash_id!)).toMatch(/UTC\)? from 2 receivers that forwarded it$/);
  });

  it('stops a loop A -> B -> A with the hop counter', async () => {
    const a = await receiver();
    const b = await receiver();
    await registerApp(a, GUID, `${b.url}/submit`);
    await registerApp(b, GUID, `${a.url}/submit`);

    const original = await submitTo(a, { JSErrorMessage: 'loops' });
    const first = await settled(a.url, original);
    expect(first.state).toBe('forwarded');
    const atB = await settled(b.url, first.remote_crash_id!.slice(3));
    expect(atB.state).toBe('forwarded');
    const back = atB.remote_crash_id!.slice(3);
    const stopped = await settled(a.url, back);
    expect(stopped).toMatchObject({ state: 'refused', reason_code: 'hop_limit', hops_in: 2, attempts: 0 });
    expect(stopped.reason).toContain('loop');
    const page = await (await fetch(`${a.url}/report/${back}`, { headers: { authorization: 'Bearer test-admin-token' } })).text();
    expect(page).toMatch(/<dt>Withheld<\/dt>\s*<dd class="mono">nothing was sent<\/dd>/);

    // Nothing is still on its way: the loop ended with A's second copy.
    expect((await api(a.url, '/api/forwarding/outbox')).body.total).toBe(0);
    expect((await api(b.url, '/api/forwarding/outbox')).body.total).toBe(0);
    expect((await crashesOn(b)).length).toBe(1);
    expect((await crashesOn(a)).map((c) => c.annotations.ForwardHops ?? '0').sort()).toEqual(['0', '2']);
  });
});
