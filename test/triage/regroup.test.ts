// Reprocessing regroups crashes under new signatures (a release that makes signatures
// differently, source maps uploaded after the crashes came): the triage of the old signature
// follows its crashes, as the same bug under a new name.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeJournalFs } from '../../receiver/src/storage/journal-appender.ts';
import type { ProcessedCrash } from '../../receiver/src/storage/types.ts';
import { type CarriedFrom, SignatureStatuses, type SignatureStatus, STATUS_FILE, StatusFileError } from '../../receiver/src/triage/signature-status.ts';
import { startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { alertsSettled, startWebhookSink, type WebhookSink } from '../helpers/webhook.ts';
import { build } from 'esbuild';
import { REPO_ROOT } from '../helpers/receiver.ts';
import { waitProcessed } from '../processor/helpers.ts';
import { BEARER, getJson, putStatus } from './session.ts';

const GUID = '0b6c2f4e-2d4a-4e8b-9c1d-7a5e3f2b1c0d';
const ISSUE = 'https://github.com/shop/web/issues/31';

interface SignatureApi {
  signature: string;
  status: string;
  triage: SignatureStatus | null;
  bugs: string[];
  carried_from: CarriedFrom | null;
  moved_to: CarriedFrom[];
}

describe('triage follows crashes that reprocessing regroups', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let hook: WebhookSink;
  let r: TestReceiver;
  let script: string;
  let map: string;
  let scriptName: string;
  /** Writes of the status file (each a temp file, fsync and rename), counted through the receiver's filesystem. */
  let statusWrites = 0;

  beforeAll(async () => {
    work = await tempDir('socorrito-regroup-');
    // Minified as a web app's build is: both bugs' functions get one short name.
    const built = await build({
      entryPoints: [join(REPO_ROOT, 'test', 'fixtures', 'sourcemaps', 'regroup', 'main.ts')],
      bundle: true,
      minify: true,
      sourcemap: 'external',
      format: 'iife',
      outdir: work.path,
      entryNames: '[name].[hash]',
      metafile: true,
      logLevel: 'silent',
    });
    scriptName = Object.keys(built.metafile.outputs).find((p) => p.endsWith('.js'))!.split('/').pop()!;
    script = await readFile(join(work.path, scriptName), 'utf8');
    map = await readFile(join(work.path, `${scriptName}.map`), 'utf8');
    hook = await startWebhookSink();
    const fs = {
      ...nodeJournalFs,
      rename: async (from: string, to: string) => {
        if (to.endsWith(STATUS_FILE)) statusWrites++;
        await nodeJournalFs.rename(from, to);
      },
    };
    r = await startTestReceiver({ webhookUrl: hook.url }, { fs });
    await r.indexRebuilt;
  });
  afterAll(async () => {
    await r?.stop();
    hook?.close();
    await work?.cleanup();
  });

  /** A Firefox-style stack whose top frame, named `name` as a minified build would, is at `needle` in the script. */
  const stackAt = (needle: string, name: string): string => {
    const offset = script.indexOf(needle);
    if (offset < 0) throw new Error(`the built script has no ${needle}`);
    const line = script.slice(0, offset).split('\n').length;
    const column = offset - script.lastIndexOf('\n', offset - 1);
    const url = `https://shop.example/static/${scriptName}`;
    return `${name}@${url}:${line}:${column}\n@${url}:${line}:1\n`;
  };
  const submit = async (release: string, stack: string, errorType = 'TypeError'): Promise<string> => {
    const res = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop', Version: release, WebAppGUID: GUID, JSErrorType: errorType, JSErrorMessage: 'x is undefined', JSStack: stack }, []);
    expect(res.status, res.body).toBe(200);
    return res.crashId!;
  };
  /**
   * The crash as processed (after `since`, a processed_at, when given), once it is and the
   * processor has told the index and triage of it (the API shows it as soon as it is saved).
   */
  const processed = async (id: string, since?: string): Promise<ProcessedCrash> => {
    const p = await waitProcessed(r.url, id, 30_000, since);
    await r.processing.processor.idle();
    return p;
  };
  const uploadMaps = async (release: string): Promise<void> => {
    const form = new FormData();
    form.append('app', GUID);
    form.append('release', release);
    for (const [url, data] of [[`~/static/${scriptName}`, script], [`~/static/${scriptName}.map`, map]]) {
      form.append('url', url!);
      form.append('file', new Blob([data!]), 'file');
    }
    expect((await fetch(`${r.url}/api/sourcemaps`, { method: 'POST', body: form, headers: BEARER })).status).toBe(200);
  };
  /** Reprocesses a release and resolves with its crashes as processed again, once triage is on disk. */
  const reprocess = async (release: string, crashes: ProcessedCrash[]): Promise<ProcessedCrash[]> => {
    const res = await fetch(`${r.url}/api/reprocess`, { method: 'POST', headers: { ...BEARER, 'content-type': 'application/json' }, body: JSON.stringify({ app: GUID, release }) });
    expect(res.status).toBe(200);
    const again = await Promise.all(crashes.map((p) => processed(p.crash_id, p.processed_at)));
    await r.triage.flushed();
    return again;
  };
  const signature = (id: string): Promise<SignatureApi> => getJson<SignatureApi>(`${r.url}/api/signatures/${id}`);
  const putBugs = async (id: string, bugs: string[]): Promise<void> => {
    const res = await fetch(`${r.url}/api/signatures/${id}/bugs`, { method: 'PUT', headers: { ...BEARER, 'content-type': 'application/json' }, body: JSON.stringify({ bugs }) });
    expect(res.status).toBe(200);
  };

  it('gives each new signature the old one\'s status, note and bugs, says where they came from, and writes the file once per new signature', async () => {
    // Two bugs that the minified build names alike: one signature until maps tell them apart.
    // The browser's name for them is the old signature's text, which the page must escape.
    const shortName = /function (\w)\(\w\)\{return \w\.reduce/.exec(script)![1]!;
    const hostile = `${shortName}<img src=x onerror=alert(1)>`;
    const inSum = stackAt('.reduce(', hostile);
    const inInitials = stackAt('.name.slice(', hostile);
    const ids = [...(await Promise.all(Array.from({ length: 12 }, () => submit('6.0', inSum)))), ...(await Promise.all(Array.from({ length: 8 }, () => submit('6.0', inInitials))))];
    const before = await Promise.all(ids.map((id) => processed(id)));
    const old = before[0]!;
    for (const p of before) expect(p.signature_id).toBe(old.signature_id);

    const resolved = await putStatus(r, old.signature_id, { status: 'resolved', note: 'fixed by <b>#31</b>', in_next_release: true });
    expect(resolved.status).toBe(200);
    await putBugs(old.signature_id, [ISSUE]);
    const oldState = await signature(old.signature_id);
    expect(oldState.triage).toMatchObject({ status: 'resolved', by_version: '6.0', seen_versions: ['6.0'], note: 'fixed by <b>#31</b>' });

    await uploadMaps('6.0');
    statusWrites = 0;
    const moved = await reprocess('6.0', before);
    const newIds = [...new Set(moved.map((p) => p.signature_id))];
    expect(new Set(moved.map((p) => p.signature))).toEqual(new Set(['TypeError: sumPrices', 'TypeError: initials']));
    expect(newIds).toHaveLength(2);
    // 20 crashes moved, to two signatures: at most a write each, not one per crash.
    expect(statusWrites).toBeGreaterThanOrEqual(1);
    expect(statusWrites).toBeLessThanOrEqual(newIds.length);

    for (const id of newIds) {
      const now = await signature(id);
      expect(now).toMatchObject({
        status: 'resolved',
        triage: oldState.triage!,
        bugs: [ISSUE],
        carried_from: { signature_id: old.signature_id, signature: old.signature },
      });
      expect(Date.parse(now.carried_from!.at)).toBeGreaterThanOrEqual(Date.parse(oldState.triage!.at));
      // The page says so, with the old signature's text escaped, and links to it.
      const page = await (await fetch(`${r.url}/signatures/${id}`, { headers: BEARER })).text();
      expect(page).toContain(`Carried over from <a href="/signatures/${old.signature_id}">TypeError: ${shortName}&lt;img src=x onerror=alert(1)&gt;</a>`);
      expect(page).not.toContain('<img src=x');
      expect(page).toContain('fixed by &lt;b&gt;#31&lt;/b&gt;');
      expect(page).toContain(`<a href="${ISSUE}" rel="noopener noreferrer">`);
    }
    // The old signature keeps its state: older clients may still crash with it. Its page, which
    // the "new signature" alert linked to, says where its crashes went.
    const left = await signature(old.signature_id);
    expect(left).toMatchObject({ status: 'resolved', triage: oldState.triage!, bugs: [ISSUE], carried_from: null });
    expect(left.moved_to.map((m) => m.signature_id).sort()).toEqual([...newIds].sort());
    const oldPage = await (await fetch(`${r.url}/signatures/${old.signature_id}`, { headers: BEARER })).text();
    const notice = oldPage.slice(oldPage.indexOf('id="moved-to"'), oldPage.indexOf('</p>', oldPage.indexOf('id="moved-to"')));
    expect(notice).toContain('Its crashes are no longer here: reprocessing moved them to');
    for (const p of moved) expect(notice).toContain(`<a class="sig" href="/signatures/${p.signature_id}">${p.signature}</a>`);
    expect(r.logs).toContain(`triage: signature ${newIds[0]} took the status, note and bugs of ${old.signature_id}, whose crashes reprocessing regrouped under it`);
    // Regrouped crashes are no news: only the first crash's signature was announced.
    await alertsSettled(r);
    expect(hook.events.map((e) => e.event)).toEqual(['new_signature']);

    // On disk, so a restart keeps it; a person's change to the status makes the state theirs.
    const file = JSON.parse(await readFile(join(r.dataDir, STATUS_FILE), 'utf8')) as { carried: Record<string, CarriedFrom>; moved: Record<string, CarriedFrom[]> };
    expect(Object.keys(file.carried).sort()).toEqual([...newIds].sort());
    expect(file.moved[old.signature_id]!.map((m) => m.signature_id).sort()).toEqual([...newIds].sort());
    expect((await putStatus(r, newIds[0]!, { status: 'ignored' })).status).toBe(200);
    expect(await signature(newIds[0]!)).toMatchObject({ status: 'ignored', bugs: [ISSUE], carried_from: null });
    expect(await (await fetch(`${r.url}/signatures/${newIds[0]}`, { headers: BEARER })).text()).not.toContain('Carried over from');
  }, 60_000);

  it('leaves a new signature that has a state of its own as it is', async () => {
    // 7.0's maps came first: its crash has the symbolicated signature, which is triaged.
    await uploadMaps('7.0');
    const stack = stackAt('.reduce(', /function (\w)\(\w\)\{return \w\.reduce/.exec(script)![1]!);
    const currentId = await submit('7.0', stack, 'RangeError');
    const current = await processed(currentId);
    expect((await putStatus(r, current.signature_id, { status: 'open', note: 'still looking' })).status).toBe(200);
    const own = await signature(current.signature_id);
    // 6.5's crash, minified, has another signature, ignored with a bug.
    const olderId = await submit('6.5', stack, 'RangeError');
    const older = await processed(olderId);
    expect(older.signature_id).not.toBe(current.signature_id);
    await putStatus(r, older.signature_id, { status: 'ignored', note: 'not ours' });
    await putBugs(older.signature_id, [ISSUE]);

    await uploadMaps('6.5');
    const [moved] = await reprocess('6.5', [older]);
    expect(moved!.signature_id).toBe(current.signature_id);
    expect(await signature(current.signature_id)).toMatchObject({ status: 'open', triage: own.triage!, bugs: [], carried_from: null });
    expect(await signature(older.signature_id)).toMatchObject({ status: 'ignored', triage: { note: 'not ours' }, bugs: [ISSUE] });
  }, 60_000);

  it('leaves a signature that had crashes of its own untriaged: an ignored stray minified crash does not hide it', async () => {
    // 8.0's maps came first: its crashes have the symbolicated signature, never triaged.
    await uploadMaps('8.0');
    const stack = stackAt('.reduce(', /function (\w)\(\w\)\{return \w\.reduce/.exec(script)![1]!);
    const live = await Promise.all([submit('8.0', stack, 'EvalError'), submit('8.0', stack, 'EvalError')].map(async (id) => processed(await id)));
    // 7.5's crash came before its maps: a minified signature, which someone ignores as noise.
    const stray = await processed(await submit('7.5', stack, 'EvalError'));
    expect(stray.signature_id).not.toBe(live[0]!.signature_id);
    expect((await putStatus(r, stray.signature_id, { status: 'ignored', note: 'minified noise' })).status).toBe(200);
    await putBugs(stray.signature_id, [ISSUE]);

    await uploadMaps('7.5');
    const [moved] = await reprocess('7.5', [stray]);
    expect(moved!.signature_id).toBe(live[0]!.signature_id);
    expect(await signature(live[0]!.signature_id)).toMatchObject({ status: 'open', triage: null, bugs: [], carried_from: null });
    // The stray signature says where its crash went, carried over or not.
    expect((await signature(stray.signature_id)).moved_to).toMatchObject([{ signature_id: live[0]!.signature_id, signature: live[0]!.signature }]);
    const top = await getJson<{ rows: { signature_id: string; count: number }[] }>(`${r.url}/api/apps/${GUID}/topcrashers?version=8.0`);
    expect(top.rows.find((row) => row.signature_id === live[0]!.signature_id)?.count).toBe(2);
  }, 60_000);
});

describe('the status file', () => {
  it('takes a burst of changes in a few writes, keeps where states were carried from, and refuses a malformed record of it', async () => {
    const dir = await tempDir('socorrito-regroup-file-');
    try {
      let writes = 0;
      const fs = {
        ...nodeJournalFs,
        rename: async (from: string, to: string) => {
          writes++;
          await nodeJournalFs.rename(from, to);
        },
      };
      const statuses = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: dir.path, log: () => undefined, fs });
      await statuses.set('old', { status: 'ignored', note: 'vendor code' }, 'Error: vendor');
      writes = 0;
      // Fifty signatures regrouped at once, then a person's change made while they are written.
      const carried = Array.from({ length: 50 }, (_, i) => statuses.crashRegrouped({ signature_id: 'old', signature: 'Error: vendor' }, `new${i}`));
      expect(carried.every(Boolean)).toBe(true);
      // A second crash of the same move changes nothing, and neither does one from a signature never triaged.
      expect(statuses.crashRegrouped({ signature_id: 'old', signature: 'Error: vendor' }, 'new0')).toBe(false);
      expect(statuses.crashRegrouped({ signature_id: 'untriaged', signature: 'Error: x' }, 'new50')).toBe(false);
      await statuses.setBugs('new3', [ISSUE]);
      await statuses.flushed();
      expect(writes).toBeLessThanOrEqual(2);

      const reopened = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: dir.path, log: () => undefined });
      expect(reopened.get('new49')).toMatchObject({ status: 'ignored', note: 'vendor code' });
      expect(reopened.carriedFrom('new49')).toMatchObject({ signature_id: 'old', signature: 'Error: vendor' });
      expect(reopened.bugsOf('new3')).toEqual([ISSUE]);
      expect(reopened.carriedFrom('old')).toBeNull();

      await writeFile(join(dir.path, STATUS_FILE), '{"format":1,"signatures":{},"carried":{"abc":{"signature_id":7}}}');
      const refused = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: dir.path, log: () => undefined }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StatusFileError);
      expect((refused as Error).message).toContain('where the state of signature "abc" was carried over from is not a signature ID, text and time');
      await writeFile(join(dir.path, STATUS_FILE), '{"format":1,"signatures":{},"moved":{"abc":[{"signature_id":"def","signature":"x"}]}}');
      const refusedMove = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: dir.path, log: () => undefined }).catch((e: unknown) => e);
      expect((refusedMove as Error).message).toContain('where crashes of signature "abc" were moved is not a list of signature IDs, texts and times');
    } finally {
      await dir.cleanup();
    }
  });
});
