import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { forgedRecords } from './journal-frames.ts';

const AUTH = { authorization: 'Bearer test-admin-token' };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('the crash journal after damage', () => {
  it('never replays a record a client hid in a crash body, and loses only the damaged record', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const first = await startTestReceiver({ dataDir: dir.path });
    const submit = async (fields: Record<string, string>, dump: Buffer): Promise<string> => {
      const { status, crashId } = await submitCrash(`${first.url}/submit`, fields, [{ name: 'upload_file_minidump', filename: 'd.dmp', data: dump }]);
      expect(status).toBe(200);
      return crashId!.replace(/^bp-/, '');
    };
    const [forgedOld, forgedNew] = [createCrashId(), createCrashId()];
    const before = await submit(jsCrashFields({ Seq: 'before' }), Buffer.alloc(500, 1));
    // The attacker's crash: its dump holds whole records naming crashes nobody sent.
    const hostile = await submit(jsCrashFields({ Seq: 'hostile' }), Buffer.concat([Buffer.alloc(64, 7), forgedRecords(forgedOld, forgedNew), Buffer.alloc(64, 7)]));
    const after = await submit(jsCrashFields({ Seq: 'after' }), Buffer.alloc(500, 2));
    await first.close();

    // As if killed before any was laid out: only the journal has them.
    for (const id of [before, hostile, after]) await rm(join(dir.path, 'crashes', `20${id.slice(-6)}`, id), { recursive: true, force: true });
    const [segment] = (await readdir(join(dir.path, 'journal'))).filter((n) => n.endsWith('.log'));
    const path = join(dir.path, 'journal', segment!);
    const bytes = await readFile(path);
    // A bad block at the start of the hostile crash's record (its header names its crash ID),
    // before the records hidden in its body.
    const named = bytes.indexOf(`"crash_id":"${hostile}"`, 0, 'latin1');
    expect(named).toBeGreaterThan(0);
    bytes.fill(0xff, named - 6, named);
    await writeFile(path, bytes);

    const second = await startTestReceiver({ dataDir: dir.path });
    cleanups.push(() => second.close());
    const log = second.logs.join('\n');
    expect(log).toMatch(/are damaged; reading goes on after them/);
    expect(log).toMatch(/copied \d+\.log to \d+\.log\.unreadable/);
    const get = (id: string): Promise<Response> => fetch(`${second.url}/api/crashes/${id}`, { headers: AUTH });
    for (const id of [forgedOld, forgedNew]) expect((await get(id)).status, `forged crash ${id}`).toBe(404);
    // The record after the damaged one is replayed (and the one before it).
    for (const [id, seq] of [[before, 'before'], [after, 'after']] as const) {
      const res = await get(id);
      expect(res.status, seq).toBe(200);
      expect(((await res.json()) as { raw: { annotations: Record<string, string> } }).raw.annotations.Seq).toBe(seq);
    }
    await second.storage.drained();
    const days = await readdir(join(dir.path, 'crashes'));
    const folders = (await Promise.all(days.map((d) => readdir(join(dir.path, 'crashes', d))))).flat();
    expect(folders).toContain(after);
    expect(folders).not.toContain(forgedOld);
    expect(folders).not.toContain(forgedNew);
  });
});
