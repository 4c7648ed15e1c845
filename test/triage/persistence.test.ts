import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignatureStatuses, STATUS_FILE } from '../../receiver/src/triage/signature-status.ts';
import { StartupError } from '../../receiver/src/server.ts';
import { CLI, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct, makeCrash, signatureIdOf } from '../web/crashes.ts';
import { getJson, putStatus } from './session.ts';

const A = 'TypeError: cart is undefined | total';
const B = 'Error: noisy extension | inject';

describe('triage state lives in the data dir, not in the index', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-triage-');
  });
  afterEach(() => dir.cleanup());

  it('survives a receiver restart and `socorrito reindex`', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await first.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(first), { signature: A, at: daysAgo(i) });
    await addCrash(direct(first), { signature: B, errorType: 'Error' });
    expect((await putStatus(first, signatureIdOf(A), { status: 'resolved', note: 'shipped in 1.5' })).status).toBe(200);
    expect((await putStatus(first, signatureIdOf(B), { status: 'ignored' })).status).toBe(200);
    await first.stop();

    const reindex = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(reindex.status, reindex.stderr).toBe(0);
    expect(reindex.stdout).toMatch(/done: 4 crashes indexed/);
    const onDisk = JSON.parse(await readFile(join(dir.path, STATUS_FILE), 'utf8')) as { format: number; signatures: Record<string, unknown> };
    expect(onDisk.format).toBe(1);
    expect(Object.keys(onDisk.signatures).sort()).toEqual([signatureIdOf(A), signatureIdOf(B)].sort());

    const second = await startTestReceiver({ dataDir: dir.path });
    try {
      await second.indexRebuilt;
      expect(await getJson(`${second.url}/api/signatures/${signatureIdOf(A)}`)).toMatchObject({
        status: 'resolved',
        triage: { note: 'shipped in 1.5' },
      });
      const top = await getJson<{ rows: { signature_id: string; status: string }[]; hidden: { signatures: number } }>(
        `${second.url}/api/apps/${APP_GUID}/topcrashers?days=7`,
      );
      expect(top.rows.map((x) => [x.signature_id, x.status])).toEqual([[signatureIdOf(A), 'resolved']]);
      expect(top.hidden.signatures).toBe(1);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start on a damaged status file rather than forget the triage', async () => {
    await writeFile(join(dir.path, STATUS_FILE), '{"format":1,"signatures":{"abc":{"status":"fixed"}}}');
    const started = startTestReceiver({ dataDir: dir.path });
    await expect(started).rejects.toThrow(StartupError);
    await expect(started).rejects.toThrow(/signature-status\.json: signature "abc" has no valid status and time; fix it, or remove the file to start with every signature open and no bug links/);
    await writeFile(join(dir.path, STATUS_FILE), '{"format":1,"signatures":{},"bugs":{"abc":["javascript:alert(1)"]}}');
    await expect(startTestReceiver({ dataDir: dir.path })).rejects.toThrow(/signature-status\.json: the bugs of signature "abc" are not a list of http\(s\) URLs; fix it, or remove the file/);
    await writeFile(join(dir.path, STATUS_FILE), 'not json');
    await expect(startTestReceiver({ dataDir: dir.path })).rejects.toThrow(/signature-status\.json is not JSON/);
  });

  it('a crash submitted before the resolution, processed after it, does not regress it; ignored never does', async () => {
    await mkdir(join(dir.path, 'tmp'));
    let now = new Date('2026-11-20T12:00:00Z');
    const statuses = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: join(dir.path, 'tmp'), log: () => {}, now: () => now });
    const before = makeCrash({ signature: A, at: new Date('2026-11-20T11:59:59Z') }).processed;
    const after = makeCrash({ signature: A, at: new Date('2026-11-20T12:00:01Z') }).processed;
    await statuses.set(before.signature_id, { status: 'resolved' }, before.signature);
    now = new Date('2026-11-20T12:05:00Z');
    expect(statuses.crashProcessed(before)).toBeNull();
    expect(statuses.statusOf(before.signature_id, before.signature)).toBe('resolved');
    expect(statuses.crashProcessed({ ...after, processing_error: 'rule failed' })).toBeNull();
    expect(statuses.crashProcessed(after)).toMatchObject({ status: 'open', regressed_at: '2026-11-20T12:05:00.000Z', resolved_at: '2026-11-20T12:00:00.000Z' });
    expect(statuses.crashProcessed(after)).toBeNull(); // open now: a second crash does not regress it again
    await statuses.flushed();
    const reopened = await SignatureStatuses.open({ dataDir: dir.path, tmpDir: join(dir.path, 'tmp'), log: () => {} });
    expect(reopened.get(after.signature_id)).toMatchObject({ status: 'open', regressed_by: after.crash_id });

    const noisy = makeCrash({ signature: B, at: new Date('2026-11-21T00:00:00Z') }).processed;
    await statuses.set(noisy.signature_id, { status: 'ignored' }, noisy.signature);
    expect(statuses.crashProcessed(noisy)).toBeNull();
    expect(statuses.statusOf(noisy.signature_id, noisy.signature)).toBe('ignored');
    await expect(SignatureStatuses.open({ dataDir: join(dir.path, 'missing'), tmpDir: dir.path, log: () => {} })).resolves.toBeInstanceOf(SignatureStatuses);
  });
});
